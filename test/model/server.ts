/**
 * A scripted model server for tests: one HTTP server on 127.0.0.1 (a random port) that answers
 * like a model service in the four wire shapes the agent CLIs speak (../shared/AGENTS.md):
 *
 * | shape      | path                                                    | who                   |
 * | ---------- | ------------------------------------------------------- | --------------------- |
 * | anthropic  | POST /v1/messages (also HEAD /, /v1/messages/count_tokens) | Claude Code, Copilot |
 * | chat       | POST /v1/chat/completions                               | opencode              |
 * | responses  | POST /v1/responses                                      | Codex, Copilot        |
 * | gemini     | POST /v1beta/models/<m>:streamGenerateContent / :generateContent | Gemini CLI   |
 *
 * A test gives a script: one step per model reply to a request that offers tools (the agent's
 * main loop). A step is a tool call (write a file, edit one, run a command) or text, with the
 * usage figures to report for that reply. Requests without tools (session titles, Gemini's
 * model router, quota probes) get a short text (or, when JSON is asked for, an object) and do not
 * take a step; when the script is used up, every main request gets the text `done`.
 *
 * The abstract tools are mapped onto the tools the request offers (`Write` for Claude Code,
 * `write_file` for Gemini CLI, `write` for opencode, `exec_command` for Codex, `create` / `edit`
 * for Copilot CLI, ...), with the argument names the offered tool's schema declares (Copilot CLI's
 * `path` must be absolute: relative paths are resolved against the server's `cwd`). Every
 * request is logged (`requests`) so a test can assert what the agent sent, e.g. that the task or
 * a rejection reason reached the model. Tool-call ids are random, so they never repeat across
 * servers (Claude Code's history breaks on a reused id).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export type Shape = 'anthropic' | 'chat' | 'responses' | 'gemini';

/** Token figures one reply reports (input includes the cached part, as the OpenAI shapes count it). */
export interface Usage {
  inputTokens: number;
  cachedInputTokens?: number;
  outputTokens: number;
}

export type ToolStep =
  | { tool: 'write'; path: string; content: string }
  | { tool: 'edit'; path: string; oldText: string; newText: string }
  | { tool: 'run'; command: string; escalate?: boolean };

export type Step = (ToolStep | { text: string }) & { usage?: Usage };

export interface LoggedRequest {
  n: number;
  at: number;
  method: string;
  path: string;
  shape: Shape | null;
  /** the parsed JSON body (null when none or not JSON) */
  body: unknown;
  /** true when the request offered tools (a main-loop request that takes a script step) */
  main: boolean;
  /** the script step it was answered with (-1: not a step: a side request or the script was used up) */
  step: number;
  /** the names of the tools offered */
  tools: string[];
  /** every piece of text in the request (messages, tool results, system prompt), joined by "\n" */
  text: string;
  /** the text of the conversation after the last assistant/model message (what is new this turn) */
  newText: string;
  /** the usage reported in the reply */
  usage: Usage;
  /** what the reply was: a tool name, or `text` */
  reply: string;
}

export interface ModelServer {
  /** `http://127.0.0.1:<port>` (no path) */
  readonly url: string;
  readonly port: number;
  readonly requests: LoggedRequest[];
  /** the requests that took a script step, in order */
  mainRequests(): LoggedRequest[];
  /** script steps used so far */
  readonly used: number;
  /** appends steps to the script */
  push(...steps: Step[]): void;
  /** resolves when `n` steps have been used */
  waitForStep(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The usage a side request (or a main one past the script) reports: small and recognisable. */
export const SIDE_USAGE: Usage = { inputTokens: 7, cachedInputTokens: 0, outputTokens: 1 };

/** Tool names per abstract tool, in each agent CLI's words (the first one offered is used). */
const TOOL_NAMES: Record<ToolStep['tool'], string[]> = {
  write: ['Write', 'write_file', 'write', 'create', 'str_replace_based_edit_tool'],
  edit: ['Edit', 'replace', 'edit', 'str_replace_editor', 'str_replace'],
  run: ['Bash', 'exec_command', 'shell', 'run_shell_command', 'bash', 'shell_command'],
};

export async function startModelServer(
  opts: {
    script?: Step[];
    model?: string;
    /** the agent's working directory: a relative path becomes absolute for tools that want one */
    cwd?: string;
  } = {},
): Promise<ModelServer> {
  const script: Step[] = [...(opts.script ?? [])];
  const requests: LoggedRequest[] = [];
  let used = 0;
  const waiters: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: (err as Error).message } }));
      }
    });
  });

  function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let body: unknown = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = null;
    }
    const shape = shapeOf(req.method ?? 'GET', url.pathname);
    const b = (body ?? {}) as Record<string, unknown>;
    const tools = shape ? toolNames(shape, b) : [];
    const main = tools.length > 0 && !url.pathname.endsWith('/count_tokens');
    const entry: LoggedRequest = {
      n: requests.length + 1,
      at: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      shape,
      body,
      main,
      step: -1,
      tools,
      text: shape ? collectText(b) : '',
      newText: shape ? newTurnText(shape, b) : '',
      usage: SIDE_USAGE,
      reply: 'text',
    };
    requests.push(entry);

    if (!shape) {
      // HEAD / (Claude Code's reachability probe), GET /v1/models and the like.
      if (url.pathname.endsWith('/models'))
        return json(res, { object: 'list', data: [{ id: model(b), object: 'model' }] });
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(req.method === 'HEAD' ? undefined : '{}');
    }
    if (url.pathname.endsWith('/count_tokens')) return json(res, { input_tokens: 10 });

    let step: Step = { text: 'done', usage: SIDE_USAGE };
    if (main && used < script.length) step = script[used];
    else if (!main) step = { text: sideText(shape, b), usage: SIDE_USAGE };
    // A step whose tool is not offered answers 500 and is not used up.
    const call = 'tool' in step ? toolCall(step, tools, toolParams(shape, b), opts.cwd) : null;
    if (main && used < script.length) {
      entry.step = used++;
      for (const w of waiters.splice(0)) w();
    }
    const usage = step.usage ?? SIDE_USAGE;
    entry.usage = usage;
    entry.reply = call ? call.name : 'text';
    const reply: Reply = { text: 'text' in step ? step.text : '', call, usage, model: model(b) };
    const stream = shape === 'gemini' ? url.pathname.includes(':streamGenerateContent') : b.stream === true;
    if (shape === 'anthropic') return stream ? sse(res, anthropicEvents(reply)) : json(res, anthropicMessage(reply));
    if (shape === 'chat') return stream ? sse(res, chatEvents(reply)) : json(res, chatCompletion(reply));
    if (shape === 'responses') return stream ? sse(res, responsesEvents(reply)) : json(res, responsesObject(reply));
    return stream ? sse(res, [{ data: geminiChunk(reply) }]) : json(res, geminiChunk(reply));
  }

  function model(b: Record<string, unknown>): string {
    return typeof b.model === 'string' ? b.model : (opts.model ?? 'scripted-model');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    mainRequests: () => requests.filter((r) => r.step >= 0),
    get used() {
      return used;
    },
    push: (...steps) => void script.push(...steps),
    waitForStep: (n, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`model server: timed out waiting for step ${n} (used ${used})`)),
          timeoutMs,
        );
        const check = () => {
          if (used >= n) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function shapeOf(method: string, pathname: string): Shape | null {
  if (method !== 'POST') return null;
  if (/\/messages(\/count_tokens)?$/.test(pathname)) return 'anthropic';
  if (pathname.endsWith('/chat/completions')) return 'chat';
  if (pathname.endsWith('/responses')) return 'responses';
  if (/:(stream)?[gG]enerateContent$/.test(pathname)) return 'gemini';
  return null;
}

function toolNames(shape: Shape, b: Record<string, unknown>): string[] {
  const tools = Array.isArray(b.tools) ? (b.tools as Record<string, unknown>[]) : [];
  if (shape === 'gemini') {
    return tools.flatMap((t) =>
      Array.isArray(t.functionDeclarations) ? (t.functionDeclarations as { name: string }[]).map((f) => f.name) : [],
    );
  }
  return tools
    .map((t) => (t.function as { name?: string } | undefined)?.name ?? (t.name as string | undefined) ?? '')
    .filter(Boolean);
}

/** The argument names each offered tool declares (its JSON schema's `properties`), by tool name. */
function toolParams(shape: Shape, b: Record<string, unknown>): Map<string, string[]> {
  const tools = Array.isArray(b.tools) ? (b.tools as Record<string, unknown>[]) : [];
  const decls =
    shape === 'gemini'
      ? tools.flatMap((t) =>
          Array.isArray(t.functionDeclarations) ? (t.functionDeclarations as Record<string, unknown>[]) : [],
        )
      : tools.map((t) => (t.function as Record<string, unknown> | undefined) ?? t);
  const out = new Map<string, string[]>();
  for (const d of decls) {
    const schema = (d.parameters ?? d.input_schema ?? d.parametersJsonSchema) as { properties?: object } | undefined;
    if (typeof d.name === 'string') out.set(d.name, Object.keys(schema?.properties ?? {}));
  }
  return out;
}

/** Every string under the keys that hold text in any of the shapes. */
function collectText(b: Record<string, unknown>): string {
  const out: string[] = [];
  const walk = (v: unknown, key: string): void => {
    if (typeof v === 'string') {
      if (TEXT_KEYS.has(key)) out.push(v);
      return;
    }
    if (Array.isArray(v)) for (const x of v) walk(x, key);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) if (k !== 'tools') walk(x, k);
    }
  };
  walk(b, '');
  return out.join('\n');
}
const TEXT_KEYS = new Set(['text', 'content', 'input', 'output', 'system', 'instructions', 'response', 'result']);

/** The conversation after the last assistant turn: the new user text and tool results. */
function newTurnText(shape: Shape, b: Record<string, unknown>): string {
  const list = (
    shape === 'gemini' ? b.contents : shape === 'responses' ? (Array.isArray(b.input) ? b.input : []) : b.messages
  ) as Record<string, unknown>[] | undefined;
  if (!Array.isArray(list)) return typeof b.input === 'string' ? b.input : '';
  let last = -1;
  list.forEach((m, i) => {
    const role = m.role;
    if (
      role === 'assistant' ||
      role === 'model' ||
      m.type === 'function_call' ||
      (m.type === 'message' && role === 'assistant')
    )
      last = i;
  });
  return list
    .slice(last + 1)
    .map((m) => collectText(m))
    .join('\n');
}

/** Text for a request that offers no tools; a JSON object when the request asks for JSON. */
function sideText(shape: Shape, b: Record<string, unknown>): string {
  const config = (b.generationConfig ?? {}) as Record<string, unknown>;
  if (shape === 'gemini' && config.responseMimeType === 'application/json') {
    return JSON.stringify(fromSchema(config.responseJsonSchema ?? config.responseSchema));
  }
  const format = (b.text as { format?: { type?: string; schema?: unknown } } | undefined)?.format;
  if (shape === 'responses' && format?.type === 'json_schema') return JSON.stringify(fromSchema(format.schema));
  const rf = b.response_format as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  if (shape === 'chat' && rf?.type === 'json_schema') return JSON.stringify(fromSchema(rf.json_schema?.schema));
  return 'Scripted session';
}

/** A value satisfying a (JSON / Gemini) schema: enums take "user"/"flash" when offered, else the first value. */
function fromSchema(schema: unknown): unknown {
  const s = (schema ?? {}) as Record<string, unknown>;
  const type = String(s.type ?? 'object').toLowerCase();
  if (Array.isArray(s.enum) && s.enum.length) {
    for (const pick of ['user', 'flash']) if (s.enum.includes(pick)) return pick;
    return s.enum[0];
  }
  if (type === 'object') {
    const props = (s.properties ?? {}) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, fromSchema(v)]));
  }
  if (type === 'array') return [];
  if (type === 'boolean') return false;
  if (type === 'number' || type === 'integer') return 0;
  return 'scripted';
}

interface Call {
  id: string;
  name: string;
  args: Record<string, unknown>;
}

interface Reply {
  text: string;
  call: Call | null;
  usage: Usage;
  model: string;
}

/** The abstract tool step as a call of the tool the request offers, with that tool's argument names. */
function toolCall(step: ToolStep, offered: string[], params = new Map<string, string[]>(), cwd?: string): Call {
  const shell = TOOL_NAMES.run.find((n) => offered.includes(n));
  if (step.tool === 'write' && shell && !TOOL_NAMES.write.some((n) => offered.includes(n))) {
    // Codex (and Copilot CLI with models it gives only a freeform patch tool) edit files through
    // `apply_patch`: write with the shell instead, asking to run outside the sandbox so that the
    // agent asks the operator.
    const command = `printf '%s' ${shellQuote(step.content)} > ${shellQuote(step.path)}`;
    return toolCall({ tool: 'run', command, escalate: true }, offered, params, cwd);
  }
  const name = TOOL_NAMES[step.tool].find((n) => offered.includes(n));
  if (!name) throw new Error(`model server: no ${step.tool} tool offered (tools: ${offered.join(', ')})`);
  const id = `call_${randomBytes(9).toString('hex')}`;
  const args = copilotArgs(step, params.get(name) ?? [], cwd) ?? toolArgs(step, name);
  return { id, name, args };
}

/**
 * Copilot CLI's `create {path, file_text}` and `edit {path, old_str, new_str}`: the path must be
 * absolute (resolved against `cwd`). Null for any other tool's schema.
 */
function copilotArgs(step: ToolStep, props: string[], cwd?: string): Record<string, unknown> | null {
  if (step.tool === 'run' || !props.includes('path') || props.includes('file_path') || props.includes('filePath'))
    return null;
  const file = cwd && !path.isAbsolute(step.path) ? path.join(cwd, step.path) : step.path;
  if (step.tool === 'write')
    return { path: file, [props.includes('file_text') ? 'file_text' : 'content']: step.content };
  return { path: file, old_str: step.oldText, new_str: step.newText };
}

function toolArgs(step: ToolStep, name: string): Record<string, unknown> {
  if (step.tool === 'run') {
    if (name === 'exec_command')
      return {
        cmd: step.command,
        ...(step.escalate
          ? { sandbox_permissions: 'require_escalated', justification: 'the scripted model asks to run it' }
          : {}),
      };
    if (name === 'shell') return { command: ['bash', '-lc', step.command] };
    if (name === 'bash') return { command: step.command, description: 'Run a command' };
    return { command: step.command, description: 'Run a command' };
  }
  const camel = name === 'write' || name === 'edit'; // opencode
  if (step.tool === 'write') {
    return camel ? { filePath: step.path, content: step.content } : { file_path: step.path, content: step.content };
  }
  return camel
    ? { filePath: step.path, oldString: step.oldText, newString: step.newText }
    : { file_path: step.path, old_string: step.oldText, new_string: step.newText };
}

/** One shell word: single-quoted, with each `'` closed, escaped and reopened. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// ------------------------------------------------------------------- wire shapes

interface SseEvent {
  event?: string;
  data: unknown;
}

function sse(res: http.ServerResponse, events: SseEvent[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  for (const e of events) {
    const data = typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
    res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${data}\n\n`);
  }
  res.end();
}

function json(res: http.ServerResponse, value: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

const rid = (prefix: string) => `${prefix}${randomBytes(9).toString('hex')}`;
const cached = (u: Usage) => u.cachedInputTokens ?? 0;

function anthropicUsage(u: Usage) {
  // Anthropic counts cache reads apart from input_tokens.
  return {
    input_tokens: u.inputTokens - cached(u),
    cache_read_input_tokens: cached(u),
    cache_creation_input_tokens: 0,
    output_tokens: u.outputTokens,
  };
}

function anthropicMessage(r: Reply) {
  return {
    id: rid('msg_'),
    type: 'message',
    role: 'assistant',
    model: r.model,
    content: r.call
      ? [{ type: 'tool_use', id: r.call.id, name: r.call.name, input: r.call.args }]
      : [{ type: 'text', text: r.text }],
    stop_reason: r.call ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: anthropicUsage(r.usage),
  };
}

function anthropicEvents(r: Reply): SseEvent[] {
  const msg = anthropicMessage(r);
  const e = (type: string, data: Record<string, unknown>): SseEvent => ({ event: type, data: { type, ...data } });
  const block = r.call
    ? [
        e('content_block_start', {
          index: 0,
          content_block: { type: 'tool_use', id: r.call.id, name: r.call.name, input: {} },
        }),
        e('content_block_delta', {
          index: 0,
          delta: { type: 'input_json_delta', partial_json: JSON.stringify(r.call.args) },
        }),
      ]
    : [
        e('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
        e('content_block_delta', { index: 0, delta: { type: 'text_delta', text: r.text } }),
      ];
  return [
    e('message_start', {
      message: { ...msg, content: [], stop_reason: null, usage: { ...msg.usage, output_tokens: 1 } },
    }),
    ...block,
    e('content_block_stop', { index: 0 }),
    e('message_delta', {
      delta: { stop_reason: msg.stop_reason, stop_sequence: null },
      usage: { ...msg.usage },
    }),
    e('message_stop', {}),
  ];
}

function chatUsage(u: Usage) {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: cached(u) },
  };
}

function chatCompletion(r: Reply) {
  return {
    id: rid('chatcmpl-'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: r.model,
    choices: [
      {
        index: 0,
        message: r.call
          ? {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: r.call.id,
                  type: 'function',
                  function: { name: r.call.name, arguments: JSON.stringify(r.call.args) },
                },
              ],
            }
          : { role: 'assistant', content: r.text },
        finish_reason: r.call ? 'tool_calls' : 'stop',
      },
    ],
    usage: chatUsage(r.usage),
  };
}

function chatEvents(r: Reply): SseEvent[] {
  const id = rid('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): SseEvent => ({
    data: { id, object: 'chat.completion.chunk', created, model: r.model, choices, ...extra },
  });
  const delta = r.call
    ? {
        role: 'assistant',
        content: null,
        tool_calls: [{ index: 0, id: r.call.id, type: 'function', function: { name: r.call.name, arguments: '' } }],
      }
    : { role: 'assistant', content: '' };
  const body = r.call
    ? { tool_calls: [{ index: 0, function: { arguments: JSON.stringify(r.call.args) } }] }
    : { content: r.text };
  return [
    chunk([{ index: 0, delta, finish_reason: null }]),
    chunk([{ index: 0, delta: body, finish_reason: null }]),
    chunk([{ index: 0, delta: {}, finish_reason: r.call ? 'tool_calls' : 'stop' }]),
    chunk([], { usage: chatUsage(r.usage) }),
    { data: '[DONE]' },
  ];
}

function responsesUsage(u: Usage) {
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: cached(u) },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

function responsesItem(r: Reply) {
  return r.call
    ? {
        type: 'function_call',
        id: rid('fc_'),
        call_id: r.call.id,
        name: r.call.name,
        arguments: JSON.stringify(r.call.args),
        status: 'completed',
      }
    : {
        type: 'message',
        id: rid('msg_'),
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: r.text, annotations: [] }],
      };
}

function responsesObject(r: Reply, item = responsesItem(r), id = rid('resp_')) {
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'completed',
    model: r.model,
    output: [item],
    usage: responsesUsage(r.usage),
  };
}

function responsesEvents(r: Reply): SseEvent[] {
  const item = responsesItem(r);
  const id = rid('resp_');
  let seq = 0;
  const e = (type: string, data: Record<string, unknown>): SseEvent => ({
    event: type,
    data: { type, sequence_number: seq++, ...data },
  });
  const done = responsesObject(r, item, id);
  const events: SseEvent[] = [
    e('response.created', { response: { ...done, status: 'in_progress', output: [], usage: null } }),
    e('response.in_progress', { response: { ...done, status: 'in_progress', output: [], usage: null } }),
  ];
  if (item.type === 'function_call') {
    events.push(
      e('response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } }),
      e('response.function_call_arguments.delta', { output_index: 0, item_id: item.id, delta: item.arguments }),
      e('response.function_call_arguments.done', { output_index: 0, item_id: item.id, arguments: item.arguments }),
    );
  } else {
    const part = { type: 'output_text', text: '', annotations: [] };
    events.push(
      e('response.output_item.added', { output_index: 0, item: { ...item, content: [], status: 'in_progress' } }),
      e('response.content_part.added', { output_index: 0, item_id: item.id, content_index: 0, part }),
      e('response.output_text.delta', { output_index: 0, item_id: item.id, content_index: 0, delta: r.text }),
      e('response.output_text.done', { output_index: 0, item_id: item.id, content_index: 0, text: r.text }),
      e('response.content_part.done', {
        output_index: 0,
        item_id: item.id,
        content_index: 0,
        part: { ...part, text: r.text },
      }),
    );
  }
  events.push(e('response.output_item.done', { output_index: 0, item }), e('response.completed', { response: done }));
  return events;
}

function geminiChunk(r: Reply) {
  return {
    candidates: [
      {
        content: {
          role: 'model',
          parts: r.call ? [{ functionCall: { name: r.call.name, args: r.call.args } }] : [{ text: r.text }],
        },
        finishReason: 'STOP',
        index: 0,
      },
    ],
    usageMetadata: {
      promptTokenCount: r.usage.inputTokens,
      cachedContentTokenCount: cached(r.usage),
      candidatesTokenCount: r.usage.outputTokens,
      totalTokenCount: r.usage.inputTokens + r.usage.outputTokens,
    },
    modelVersion: r.model,
    responseId: rid('g_'),
  };
}
