/**
 * The ao-console command line: usage errors exit 2 with a clear message, `ctl` with no console
 * exits 3, --help works on every command, the dashboard refuses without a terminal.
 *
 * Parsing runs in-process (src/main.ts runCommandLine, with the output captured), one command
 * line at a time, in a real temp repo; a few checks run the built binary as a child process, so
 * the bin entry, the exit code and the real streams are covered too.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCommandLine } from '../../src/main.js';
import { runCli, type CliResult } from '../helpers/cliBin.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

let repo: TempRepo;
let stateDir: string;
const startDir = process.cwd();

/**
 * Runs `ao-console args...` in this process, in the current directory, and returns what it
 * wrote: commander's output through runCommandLine's `output`, the commands' own through
 * process.stdout/stderr (captured for the run). Help is 80 columns wide and has no colours, as
 * when the binary writes to a pipe.
 */
async function cli(...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const capture = (stream: NodeJS.WriteStream, append: (s: string) => void) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return true;
    });
  const out = capture(process.stdout, (s) => (stdout += s));
  const err = capture(process.stderr, (s) => (stderr += s));
  try {
    const code = await runCommandLine(args, {
      output: {
        writeOut: (s) => (stdout += s),
        writeErr: (s) => (stderr += s),
        getOutHelpWidth: () => 80,
        getErrHelpWidth: () => 80,
        getOutHasColors: () => false,
        getErrHasColors: () => false,
      },
    });
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

beforeAll(async () => {
  repo = await createTempRepo();
  stateDir = await mkdtemp(path.join(tmpdir(), 'ao-state-'));
  vi.stubEnv('AO_STATE_DIR', stateDir);
  process.chdir(repo.dir);
});
afterAll(async () => {
  process.chdir(startDir);
  vi.unstubAllEnvs();
  await repo.cleanup();
  await rm(stateDir, { recursive: true, force: true });
});

describe('usage errors exit 2 with a clear message', () => {
  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['ctl', 'frobnicate'], /unknown command 'frobnicate'/],
    [['ctl'], /Usage: ao-console ctl/],
    [['lanes', '--frobnicate'], /unknown option '--frobnicate'/],
    [['show'], /missing required argument 'lane'/],
    [['lanes', 'extra'], /too many arguments/],
    [['ctl', 'reject', 'l1', '--rework'], /required option '--reason <text>' not specified/],
    [['ctl', 'reject', 'l1', '--reason', 'no tests'], /needs one of '--rework' or '--discard'/],
    [
      ['ctl', 'reject', 'l1', '--reason', 'no tests', '--rework', '--discard'],
      /'--rework' cannot be used with option '--discard'/,
    ],
    [['ctl', 'reject', 'l1', '--reason', '  ', '--discard'], /'--reason <text>' must not be empty/],
    [['ctl', 'wait', 'l1', '--state', 'done'], /argument 'done' is invalid. Allowed choices are created, queued/],
    [['ctl', 'wait', 'l1'], /required option '--state <state>' not specified/],
    [['ctl', 'wait', 'l1', '--state', 'merged', '--timeout', 'soon'], /expected a number of seconds/],
    [['ctl', 'send', 'l1', '--key', 'hyper'], /unknown key; known keys: enter, esc/],
    [['ctl', 'send', 'l1'], /nothing to send/],
    [['ctl', 'new', '--task', 'x'], /required option '--profile <profile>' not specified/],
    [['serve', '--cols', 'wide'], /--cols must be a whole number/],
    [['lanes', '--limit', '0'], /--limit must be a whole number/],
  ])('%j', async (args, message) => {
    const r = await cli(...args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });
});

describe('ctl without a running console', () => {
  it.each([['status'], ['screen', 'l1'], ['approve', 'l1'], ['wait', 'l1', '--state', 'merged', '--timeout', '1']])(
    '%j exits 3 and says so',
    async (...args) => {
      const r = await cli('ctl', ...args);
      expect(r.stderr).toMatch(/no engine runs for this repo/);
      expect(r.code).toBe(3);
    },
  );
});

describe('--help', () => {
  const commands = [
    [],
    ['serve'],
    ['ctl'],
    ['lanes'],
    ['sessions'],
    ['show'],
    ['profiles'],
    ['profiles', 'check'],
    ['doctor'],
    ['gc'],
    ...['status', 'new', 'screen', 'send', 'wait', 'handoff', 'approve', 'reject', 'stop', 'resume', 'learn'].map(
      (v) => ['ctl', v],
    ),
  ];
  it.each(commands)('works for %j and exits 0', async (...cmd) => {
    const r = await cli(...cmd, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: ao-console${cmd.length ? ` ${cmd.join(' ')}` : ''}`);
  });

  it('lists every command and the exit codes at the top level', async () => {
    const r = await cli('--help');
    for (const c of ['serve', 'ctl', 'lanes', 'sessions', 'show', 'profiles', 'doctor', 'gc'])
      expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    expect(r.stdout).toMatch(/3 +no engine runs/);
    expect(r.stdout).toMatch(/4 +wait timed out/);
  });

  it('documents the flags of the verbs', async () => {
    const send = (await cli('ctl', 'send', '--help')).stdout;
    for (const flag of ['--enter', '--key <name>', 'ctrl-a..ctrl-z', '--json']) expect(send).toContain(flag);
    expect((await cli('ctl', 'reject', '--help')).stdout).toMatch(/--reason <text>[\s\S]*--rework[\s\S]*--discard/);
    expect((await cli('ctl', 'wait', '--help')).stdout).toMatch(
      /--state <state>[\s\S]*choices: "created"[\s\S]*--timeout <seconds>/,
    );
    expect((await cli('serve', '--help')).stdout).toMatch(
      /--cols <n>[\s\S]*default: 120[\s\S]*--rows <n>[\s\S]*default: 40/,
    );
  });
});

describe('read-only commands on a repo where no console ever ran', () => {
  it('lanes and sessions say there is nothing yet, and --json gives []', async () => {
    expect((await cli('lanes')).stdout).toMatch(/no lanes recorded/);
    expect((await cli('sessions')).stdout).toMatch(/no sessions recorded/);
    const r = await cli('lanes', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('show of an unknown lane exits 1', async () => {
    const r = await cli('show', 'nope');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no lane named nope/);
  });

  it('outside a git repository, says so and exits 1', async () => {
    process.chdir(tmpdir());
    try {
      const r = await cli('lanes');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/not inside a git repository/);
    } finally {
      process.chdir(repo.dir);
    }
  });
});

describe.concurrent('the built binary', () => {
  const bin = (...args: string[]) => runCli(args, { cwd: repo.dir, env: { AO_STATE_DIR: stateDir } });

  it('--version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const r = await bin('--version');
    expect(r.stdout).toBe(`${version}\n`);
    expect(r.code).toBe(0);
  });

  it('--help lists the commands and exits 0', async () => {
    const r = await bin('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: ao-console');
    expect(r.stdout).toMatch(/^ {2}serve\b/m);
  });

  it('an unknown command exits 2', async () => {
    const r = await bin('frobnicate');
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(r.code).toBe(2);
  });

  it('a bad option exits 2', async () => {
    const r = await bin('lanes', '--limit', '0');
    expect(r.stderr).toMatch(/--limit must be a whole number/);
    expect(r.code).toBe(2);
  });

  // Needs the real process: in-process, the test runner's stdin may be a terminal.
  it('the dashboard refuses without a terminal, pointing to serve, ctl and lanes', async () => {
    const r = await bin();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs an interactive terminal/);
    expect(r.stderr).toMatch(/ao-console serve[\s\S]*ao-console ctl[\s\S]*ao-console lanes/);
  });
});
