/**
 * The ao-console binary's command line: usage errors exit 2 with a clear message, `ctl` with no
 * console exits 3, --help works on every command, the dashboard refuses without a terminal.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, requireBuiltCli } from '../helpers/cliBin.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

let repo: TempRepo;
let stateDir: string;
const cli = (...args: string[]) => runCli(args, { cwd: repo.dir, env: { AO_STATE_DIR: stateDir } });

beforeAll(async () => {
  requireBuiltCli();
  repo = await createTempRepo();
  stateDir = await mkdtemp(path.join(tmpdir(), 'ao-state-'));
});
afterAll(async () => {
  await repo.cleanup();
  await rm(stateDir, { recursive: true, force: true });
});

describe.concurrent('usage errors exit 2 with a clear message', () => {
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

describe.concurrent('ctl without a running console', () => {
  it.each([['status'], ['screen', 'l1'], ['approve', 'l1'], ['wait', 'l1', '--state', 'merged', '--timeout', '1']])(
    '%j exits 3 and says so',
    async (...args) => {
      const r = await cli('ctl', ...args);
      expect(r.stderr).toMatch(/no console is running for this repo/);
      expect(r.code).toBe(3);
    },
  );
});

describe.concurrent('--help', () => {
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
    expect(r.stdout).toMatch(/3 +no console is running/);
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

describe('the dashboard', () => {
  it('refuses without a terminal, pointing to serve, ctl and lanes', async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs an interactive terminal/);
    expect(r.stderr).toMatch(/ao-console serve[\s\S]*ao-console ctl[\s\S]*ao-console lanes/);
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
    const r = await runCli(['lanes'], { cwd: tmpdir(), env: { AO_STATE_DIR: stateDir } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not inside a git repository/);
  });
});
