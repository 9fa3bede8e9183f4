import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  builtinDir,
  expandArgs,
  formatProfileLoadError,
  jsonErrorOffset,
  loadProfiles,
  loadProfilesOrThrow,
  ProfilesInvalidError,
  type ProfileLoadError,
} from '../../profiles/loader.js';
import { compilePatterns, passesThrough, profileEnv, profileSchema } from '../../profiles/schema.js';

const minimal = {
  command: 'my-agent',
  args: ['--task', '{task}'],
};

let repo: string;
let profilesDir: string;

beforeEach(() => {
  repo = mkdtempSync(path.join(tmpdir(), 'ao-profiles-'));
  profilesDir = path.join(repo, '.ao', 'profiles');
  mkdirSync(profilesDir, { recursive: true });
});
afterEach(() => rmSync(repo, { recursive: true, force: true }));

function put(file: string, content: unknown): string {
  const full = path.join(profilesDir, file);
  writeFileSync(full, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return full;
}

function load(file: string, content: unknown): { errors: ProfileLoadError[]; full: string } {
  const full = put(file, content);
  return { errors: loadProfiles(repo).errors.filter((e) => e.file === full), full };
}

describe('built-in profiles', () => {
  it('all validate and are found from the source tree', () => {
    const { profiles, errors } = loadProfiles(repo);
    expect(errors).toEqual([]);
    expect([...profiles.keys()].sort()).toEqual([
      'aider',
      'claude',
      'codex',
      'copilot',
      'demo',
      'gemini',
      'opencode',
      'shell',
    ]);
    const demo = profiles.get('demo')!;
    expect(demo.origin).toBe('builtin');
    expect(demo.source).toBe(path.join(builtinDir(), 'demo.json'));
    expect(demo.taskInput).toBe('arg');
    const shell = profiles.get('shell')!;
    expect(shell.taskInput).toBe('none');
    expect(shell.handoffOnExit).toBe(false);
  });

  it('demo runs the demo agent with node, the task as one argument', () => {
    const demo = loadProfilesOrThrow(repo).get('demo')!;
    const { command, args } = expandArgs(demo, { task: 'fix it', lane: 'l1', worktree: '/w', briefingFile: '/b' });
    expect(command).toBe(process.execPath);
    expect(path.resolve(args[0])).toBe(path.resolve(builtinDir(), '..', 'demo-agent.mjs'));
    expect(args.slice(1)).toEqual(['fix it']);
  });

  it("demo's patterns match the demo agent's spinner, permission question and end screen", () => {
    const p = compilePatterns(loadProfilesOrThrow(repo).get('demo')!);
    const spinner = '⠙ Editing notes/x.md… (esc to interrupt)';
    const question = '? Allow write to notes/x.md? [y/n]';
    const done = '✔ Done. Work is committed and ready for review.';
    expect(p.busy.some((r) => r.test(spinner))).toBe(true);
    expect(p.waitingInput.some((r) => r.test(spinner))).toBe(false);
    expect(p.waitingInput.some((r) => r.test(`✔ Thinking\n${question}`))).toBe(true);
    expect(p.busy.some((r) => r.test(question))).toBe(false);
    expect(p.waitingInput.some((r) => r.test(`LEARNING: x\n${done}`))).toBe(true);
    expect(p.learning.exec('✔ Thinking\nLEARNING: tests live in test/\n')?.[1]).toBe('tests live in test/');
  });
});

describe('bad profiles name the file and the field', () => {
  it('bad JSON gives the line and column', () => {
    const { errors, full } = load('broken.json', '{\n  "command": "x",\n  "args": [1, }\n}');
    expect(errors).toHaveLength(1);
    expect(formatProfileLoadError(errors[0])).toMatch(
      new RegExp(
        `^${full.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid JSON at line 3, column 15: Unexpected token '}'$`,
      ),
    );
  });

  it('an empty file', () => {
    const { errors, full } = load('empty.json', '  \n');
    expect(errors).toEqual([{ file: full, field: '', message: 'empty file (expected a JSON object)' }]);
  });

  it('not an object', () => {
    const { errors } = load('list.json', '["a"]');
    expect(errors[0].message).toBe('expected a JSON object, got an array');
  });

  it('a wrong type names the array index', () => {
    const { errors, full } = load('wrong.json', { command: 'x', args: ['a', '{task}', 3] });
    // the file is JSON.stringify(..., null, 2): the 3 is on line 6, column 5
    expect(errors).toEqual([
      { file: full, field: 'args[2]', message: 'expected string, received number', line: 6, column: 5 },
    ]);
    expect(formatProfileLoadError(errors[0])).toBe(
      `${full}: args[2]: expected string, received number (line 6, column 5)`,
    );
  });

  it('each field problem says where it is: the value, an unknown key, or the object that lacks a field', () => {
    const text = [
      '{',
      '  "args": ["{task}"],',
      '  "idleMs": "soon",',
      '  "env": { "OK": "1", "MY-VAR": "1" },',
      '  "patterns": { "busy": [], "wating": [] }',
      '}',
    ].join('\n');
    const { errors } = load('where.json', text);
    const at = Object.fromEntries(errors.map((e) => [e.field, [e.line, e.column]]));
    expect(at).toEqual({
      command: [1, 1],
      idleMs: [3, 13],
      'env["MY-VAR"]': [4, 23],
      'patterns.wating': [5, 29],
    });
  });

  it('a name taken from the file name has no place in the file', () => {
    const { errors } = load('My Agent.json', minimal);
    expect(errors[0]).not.toHaveProperty('line');
    expect(formatProfileLoadError(errors[0])).toMatch(/: name: invalid profile name .*comes from the file name\)$/);
  });

  it('a missing required field', () => {
    const { errors } = load('nocmd.json', { args: ['{task}'] });
    expect(errors).toEqual([expect.objectContaining({ field: 'command', message: 'missing (expected string)' })]);
  });

  it('unknown fields, top level and nested, each named', () => {
    const { errors } = load('typo.json', { ...minimal, handoffOnExti: false, patterns: { busy: [], wating: [] } });
    expect(errors.map((e) => `${e.field}: ${e.message}`).sort()).toEqual([
      'handoffOnExti: unknown field',
      'patterns.wating: unknown field',
    ]);
  });

  it('a regex that does not compile names the field and the pattern', () => {
    const { errors } = load('regex.json', { ...minimal, patterns: { busy: ['ok', '(unclosed'], waitingInput: [] } });
    expect(errors).toHaveLength(1);
    expect(errors[0].field).toBe('patterns.busy[1]');
    expect(errors[0].message).toMatch(/^invalid regular expression "\(unclosed": .*terminated group/i);
  });

  it('a bad enum value, a bad env name, a bad passthrough entry, an unknown placeholder', () => {
    const { errors } = load('many.json', {
      command: 'x',
      args: ['{task}', '{tsak}'],
      taskInput: 'pipe',
      env: { 'MY-VAR': '1' },
      envPassthrough: ['OK_*', 'A*B'],
    });
    const byField = Object.fromEntries(errors.map((e) => [e.field, e.message]));
    expect(Object.keys(byField).sort()).toEqual(['args[1]', 'envPassthrough[1]', 'env["MY-VAR"]', 'taskInput'].sort());
    expect(byField['args[1]']).toMatch(/unknown placeholder \{tsak\}/);
    expect(byField['env["MY-VAR"]']).toBe('invalid environment variable name');
    expect(byField.taskInput).toMatch(/"arg"\|"stdin"\|"none"/);
  });

  it('taskInput "arg" needs {task} somewhere in args', () => {
    const { errors } = load('notask.json', { command: 'x', args: ['--go'] });
    expect(errors).toEqual([
      expect.objectContaining({ field: 'args', message: expect.stringMatching(/no argument contains \{task\}/) }),
    ]);
  });

  it('the name is the file name: a different name field is an error', () => {
    const { errors } = load('alpha.json', { ...minimal, name: 'beta' });
    expect(errors).toEqual([
      expect.objectContaining({
        field: 'name',
        message: expect.stringMatching(/"beta" does not match the file name \(expected "alpha"\)/),
      }),
    ]);
  });

  it('a file name that is not a valid profile name', () => {
    const { errors } = load('My Agent.json', minimal);
    expect(errors[0].field).toBe('name');
    expect(errors[0].message).toMatch(/invalid profile name "My Agent".*comes from the file name/);
  });

  it('loadProfilesOrThrow lists every problem in one error', () => {
    put('a.json', '');
    put('b.json', { command: 'x', args: [1] });
    let thrown: unknown;
    try {
      loadProfilesOrThrow(repo);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ProfilesInvalidError);
    const message = (thrown as Error).message;
    expect(message).toMatch(/^2 profile problems; nothing starts/);
    expect(message).toContain(`${path.join(profilesDir, 'a.json')}: empty file`);
    expect(message).toContain(`${path.join(profilesDir, 'b.json')}: args[0]: expected string`);
  });
});

describe('repo profiles', () => {
  it('add a profile with defaults filled', () => {
    put('mine.json', minimal);
    const { profiles, errors } = loadProfiles(repo);
    expect(errors).toEqual([]);
    const mine = profiles.get('mine')!;
    expect(mine).toMatchObject({
      name: 'mine',
      origin: 'repo',
      description: '',
      env: {},
      envPassthrough: [],
      taskInput: 'arg',
      idleMs: 3000,
      handoffOnExit: true,
      patterns: { busy: [], waitingInput: [], learning: '^LEARNING:\\s*(.+)$' },
    });
    expect(mine.resumeArgs).toBeUndefined();
    expect(profiles.has('demo')).toBe(true);
  });

  it('override a built-in by name, as a full profile', () => {
    put('demo.json', { command: 'other-agent', args: ['{task}'], description: 'mine' });
    const demo = loadProfilesOrThrow(repo).get('demo')!;
    expect(demo).toMatchObject({ origin: 'repo', command: 'other-agent', description: 'mine', patterns: { busy: [] } });
    expect(demo.source).toBe(path.join(profilesDir, 'demo.json'));
  });

  it('a broken override removes the name instead of falling back to the built-in', () => {
    put('demo.json', { command: 'x', args: ['{task}'], idleMs: 'soon' });
    const { profiles, errors } = loadProfiles(repo);
    expect(profiles.has('demo')).toBe(false);
    expect(errors).toEqual([expect.objectContaining({ field: 'idleMs', message: 'expected number, received string' })]);
  });

  it('a repo without .ao/profiles has just the built-ins', () => {
    rmSync(path.join(repo, '.ao'), { recursive: true });
    expect([...loadProfilesOrThrow(repo).keys()].sort()).toEqual([
      'aider',
      'claude',
      'codex',
      'copilot',
      'demo',
      'gemini',
      'opencode',
      'shell',
    ]);
  });
});

describe('expandArgs', () => {
  const profile = profileSchema.parse({
    name: 'p',
    command: '{node}',
    args: [
      '{builtinDir}/agent.mjs',
      '--lane={lane}',
      '--cwd',
      '{worktree}',
      '--brief',
      '{briefingFile}',
      '{task}',
      '{"json":1}',
    ],
    resumeArgs: ['--resume', '{lane}'],
  });
  const vars = { task: '', lane: 'l-1', worktree: '/tmp/w t', briefingFile: '/tmp/b.md' };
  const opts = { node: '/usr/bin/node', builtinDir: '/pkg/profiles/builtin' };

  it('keeps a hostile task literal, in one argv element, not re-expanded', () => {
    const canary = `$(touch /tmp/ao-canary) \`id\`; rm -rf ~ | cat {lane} {task} "q" 'q' \n\\`;
    const { command, args } = expandArgs(profile, { ...vars, task: canary }, opts);
    expect(command).toBe('/usr/bin/node');
    expect(args).toEqual([
      '/pkg/profiles/builtin/agent.mjs',
      '--lane=l-1',
      '--cwd',
      '/tmp/w t',
      '--brief',
      '/tmp/b.md',
      canary,
      '{"json":1}',
    ]);
  });

  it('expands placeholders in env values, once, and rejects unknown ones', () => {
    const withEnv = profileSchema.parse({
      name: 'e',
      command: 'x',
      taskInput: 'none',
      env: { HOOKS: '{builtinDir}/../hooks', RUN: '{node}', TASK: '{task}', JSON: '{"a":1}' },
    });
    const { env } = expandArgs(withEnv, { ...vars, task: '{lane} $(id)' }, opts);
    expect(env).toEqual({
      HOOKS: '/pkg/profiles/builtin/../hooks',
      RUN: '/usr/bin/node',
      TASK: '{lane} $(id)',
      JSON: '{"a":1}',
    });
    expect(() => profileSchema.parse({ name: 'e', command: 'x', taskInput: 'none', env: { A: '{nope}' } })).toThrow(
      /unknown placeholder \{nope\}/,
    );
  });

  it('uses resumeArgs to resume, and args when there are none', () => {
    expect(expandArgs(profile, vars, { ...opts, resume: true }).args).toEqual(['--resume', 'l-1']);
    const noResume = { ...profile, resumeArgs: undefined };
    expect(expandArgs(noResume, vars, { ...opts, resume: true }).args[1]).toBe('--lane=l-1');
  });

  it('{shell} is $SHELL or /bin/sh; {node} defaults to this node', () => {
    const shell = profileSchema.parse({ name: 's', command: '{shell}', taskInput: 'none' });
    expect(expandArgs(shell, vars, { shell: '/bin/zsh' }).command).toBe('/bin/zsh');
    expect(expandArgs(profile, vars).command).toBe(process.execPath);
  });
});

describe('environment', () => {
  it('passes through exact names and prefixes, then the profile env over them', () => {
    expect(passesThrough('ANTHROPIC_API_KEY', ['ANTHROPIC_*'])).toBe(true);
    expect(passesThrough('ANTHROPIC', ['ANTHROPIC_*'])).toBe(false);
    expect(passesThrough('PATHX', ['PATH'])).toBe(false);
    const env = profileEnv(
      { env: { MODE: 'demo', HOME: '/h2' }, envPassthrough: ['PATH', 'HOME', 'OPENAI_*'] },
      { PATH: '/bin', HOME: '/h', OPENAI_KEY: 'k', AWS_SECRET: 's' },
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/h2', OPENAI_KEY: 'k', MODE: 'demo' });
  });
});

describe('jsonErrorOffset', () => {
  it('finds the first bad character', () => {
    expect(jsonErrorOffset('{"a": }')).toBe(6);
    expect(jsonErrorOffset('{"a":1}x')).toBe(7);
    expect(jsonErrorOffset('{"a":1,}')).toBe(7);
    expect(jsonErrorOffset('{"a":"\\q"}')).toBe(7);
    expect(jsonErrorOffset('{')).toBe(1);
    expect(jsonErrorOffset('{"a":[1,2,{"b":null}],"c":true}')).toBe(31);
    expect(jsonErrorOffset('{"a":"x\ty"}')).toBe(7);
    expect(jsonErrorOffset('{"a":"abc')).toBe(9);
    expect(jsonErrorOffset('{"a":1 "b":2}')).toBe(7);
    expect(jsonErrorOffset('{"a":01}')).toBe(6);
  });
});
