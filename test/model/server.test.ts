/**
 * The scripted model server with plain HTTP: each wire shape streams the scripted tool call (with
 * the tool names and argument names of the CLI that offered the tools), then the text; usage
 * figures are the scripted ones; side requests take no step; every request is logged.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the streamed events are free-form JSON, checked field by field */
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, SIDE_USAGE, type ModelServer } from './server.js';

let server: ModelServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const U1 = { inputTokens: 1000, cachedInputTokens: 100, outputTokens: 40 };
const U2 = { inputTokens: 1100, cachedInputTokens: 150, outputTokens: 5 };

async function post(path: string, body: unknown): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${server!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The `data:` payloads of an SSE body, parsed (`[DONE]` left as a string). */
function events(text: string): unknown[] {
  return text
    .split('\n\n')
    .map((block) =>
      block
        .split('\n')
        .find((l) => l.startsWith('data: '))
        ?.slice(6),
    )
    .filter((d): d is string => d !== undefined)
    .map((d) => (d === '[DONE]' ? d : JSON.parse(d)));
}

describe('scripted model server', () => {
  it('Anthropic Messages: a streamed Write tool_use, then text, with the scripted usage', async () => {
    server = await startModelServer({
      script: [
        { tool: 'write', path: 'a.txt', content: 'A\n', usage: U1 },
        { text: 'done', usage: U2 },
      ],
    });
    const tools = [{ name: 'Bash' }, { name: 'Write' }];
    const first = await post('/v1/messages?beta=true', {
      model: 'claude-x',
      stream: true,
      tools,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'make a.txt' }] }],
    });
    expect(first.type).toContain('text/event-stream');
    const ev = events(first.text) as Record<string, any>[];
    expect(ev.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(ev[1].content_block).toMatchObject({ type: 'tool_use', name: 'Write' });
    expect(JSON.parse(ev[2].delta.partial_json)).toEqual({ file_path: 'a.txt', content: 'A\n' });
    expect(ev[4].delta.stop_reason).toBe('tool_use');
    expect(ev[4].usage).toMatchObject({ input_tokens: 900, cache_read_input_tokens: 100, output_tokens: 40 });

    // A side request (no tools: a title) takes no step.
    const side = await post('/v1/messages', { model: 'claude-haiku', messages: [{ role: 'user', content: 'title?' }] });
    expect(JSON.parse(side.text).content[0].type).toBe('text');

    const second = await post('/v1/messages', {
      model: 'claude-x',
      stream: false,
      tools,
      messages: [
        { role: 'user', content: 'make a.txt' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Write', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'File created' }] },
      ],
    });
    const msg = JSON.parse(second.text);
    expect(msg.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(server.used).toBe(2);
    expect(server.requests.map((r) => [r.main, r.step])).toEqual([
      [true, 0],
      [false, -1],
      [true, 1],
    ]);
    expect(server.requests[0].text).toContain('make a.txt');
    expect(server.requests[2].newText).toContain('File created');
    expect(server.requests[2].newText).not.toContain('make a.txt');
  });

  it('OpenAI Chat Completions: streamed tool_calls with opencode argument names, a usage chunk and [DONE]', async () => {
    server = await startModelServer({
      script: [{ tool: 'edit', path: 'a.txt', oldText: 'A', newText: 'B', usage: U1 }],
    });
    const res = await post('/v1/chat/completions', {
      model: 'm',
      stream: true,
      tools: [{ type: 'function', function: { name: 'edit' } }],
      messages: [{ role: 'user', content: 'change a.txt' }],
    });
    const ev = events(res.text) as any[];
    expect(ev.at(-1)).toBe('[DONE]');
    expect(ev[0].choices[0].delta.tool_calls[0]).toMatchObject({
      id: expect.stringMatching(/^call_/),
      function: { name: 'edit' },
    });
    expect(JSON.parse(ev[1].choices[0].delta.tool_calls[0].function.arguments)).toEqual({
      filePath: 'a.txt',
      oldString: 'A',
      newString: 'B',
    });
    expect(ev[2].choices[0].finish_reason).toBe('tool_calls');
    expect(ev[3].usage).toEqual({
      prompt_tokens: 1000,
      completion_tokens: 40,
      total_tokens: 1040,
      prompt_tokens_details: { cached_tokens: 100 },
    });
    // The script is used up: a main request gets "done" with the side usage.
    const after = await post('/v1/chat/completions', {
      model: 'm',
      tools: [{ type: 'function', function: { name: 'edit' } }],
      messages: [],
    });
    expect(JSON.parse(after.text).choices[0].message.content).toBe('done');
    expect(server.requests[1].usage).toEqual(SIDE_USAGE);
  });

  it('OpenAI Responses: an exec_command function_call (escalated), then a message, completed with usage', async () => {
    server = await startModelServer({
      script: [
        { tool: 'run', command: 'touch x', escalate: true, usage: U1 },
        { text: 'ran it', usage: U2 },
      ],
    });
    const body = { model: 'gpt-x', stream: true, tools: [{ type: 'function', name: 'exec_command' }], input: [] };
    const ev = events((await post('/v1/responses', body)).text) as any[];
    const types = ev.map((e) => e.type);
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    const item = ev.find((e) => e.type === 'response.output_item.done').item;
    expect(item).toMatchObject({ type: 'function_call', name: 'exec_command' });
    expect(JSON.parse(item.arguments)).toMatchObject({ cmd: 'touch x', sandbox_permissions: 'require_escalated' });
    expect(ev.at(-1).response.usage).toMatchObject({
      input_tokens: 1000,
      input_tokens_details: { cached_tokens: 100 },
      output_tokens: 40,
    });
    const ev2 = events((await post('/v1/responses', body)).text) as any[];
    expect(ev2.find((e) => e.type === 'response.output_text.delta').delta).toBe('ran it');
    expect(ev2.at(-1).response.output[0].content[0].text).toBe('ran it');
  });

  it('Gemini: streamGenerateContent gives a functionCall; the router gets JSON from its schema', async () => {
    server = await startModelServer({ script: [{ tool: 'write', path: 'g.txt', content: 'G', usage: U1 }] });
    const res = await post('/v1beta/models/gemini-x:streamGenerateContent?alt=sse', {
      contents: [{ role: 'user', parts: [{ text: 'write g.txt' }] }],
      tools: [{ functionDeclarations: [{ name: 'write_file' }, { name: 'run_shell_command' }] }],
    });
    const [chunk] = events(res.text) as any[];
    expect(chunk.candidates[0].content.parts[0].functionCall).toEqual({
      name: 'write_file',
      args: { file_path: 'g.txt', content: 'G' },
    });
    expect(chunk.usageMetadata).toMatchObject({
      promptTokenCount: 1000,
      cachedContentTokenCount: 100,
      candidatesTokenCount: 40,
    });
    const router = await post('/v1beta/models/flash:generateContent', {
      contents: [{ role: 'user', parts: [{ text: 'route' }] }],
      generationConfig: {
        responseMimeType: 'application/json',
        responseJsonSchema: {
          type: 'object',
          properties: { reasoning: { type: 'string' }, model_choice: { type: 'string', enum: ['pro', 'flash'] } },
        },
      },
    });
    const text = JSON.parse(router.text).candidates[0].content.parts[0].text;
    expect(JSON.parse(text)).toEqual({ reasoning: 'scripted', model_choice: 'flash' });
    expect(server.used).toBe(1);
  });

  it("Copilot CLI's create and edit: the argument names of their schemas, the path made absolute against cwd", async () => {
    server = await startModelServer({
      cwd: '/work/tree',
      script: [
        { tool: 'write', path: 'hello.txt', content: 'hello\n', usage: U1 },
        { tool: 'edit', path: 'hello.txt', oldText: 'hello', newText: 'hello world', usage: U2 },
      ],
    });
    const fn = (name: string, props: string[]) => ({
      type: 'function',
      name,
      parameters: { type: 'object', properties: Object.fromEntries(props.map((p) => [p, { type: 'string' }])) },
    });
    const body = {
      model: 'gpt-5',
      stream: true,
      tools: [
        fn('bash', ['command', 'description']),
        fn('create', ['path', 'file_text']),
        fn('edit', ['path', 'old_str', 'new_str']),
      ],
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'create hello.txt' }] }],
    };
    const call = async () => {
      const ev = events((await post('/v1/responses', body)).text) as any[];
      const item = ev.find((e) => e.type === 'response.output_item.done').item;
      return { name: item.name, args: JSON.parse(item.arguments) };
    };
    expect(await call()).toEqual({ name: 'create', args: { path: '/work/tree/hello.txt', file_text: 'hello\n' } });
    expect(await call()).toEqual({
      name: 'edit',
      args: { path: '/work/tree/hello.txt', old_str: 'hello', new_str: 'hello world' },
    });
    // opencode's `edit` keeps its own argument names (its schema has filePath)
    server.push({ tool: 'edit', path: 'a.txt', oldText: 'a', newText: 'b' });
    const oc = await post('/v1/chat/completions', {
      stream: false,
      tools: [
        {
          type: 'function',
          function: { name: 'edit', parameters: { properties: { filePath: {}, oldString: {}, newString: {} } } },
        },
      ],
      messages: [{ role: 'user', content: 'edit a.txt' }],
    });
    const tc = JSON.parse(oc.text).choices[0].message.tool_calls[0].function;
    expect(JSON.parse(tc.arguments)).toEqual({ filePath: 'a.txt', oldString: 'a', newString: 'b' });
  });

  it('says which tool is missing when the request does not offer one for the step', async () => {
    server = await startModelServer({ script: [{ tool: 'write', path: 'a', content: 'a' }] });
    const res = await post('/v1/chat/completions', {
      tools: [{ type: 'function', function: { name: 'read' } }],
      messages: [],
    });
    expect(res.status).toBe(500);
    expect(res.text).toContain('no write tool offered (tools: read)');
  });
});
