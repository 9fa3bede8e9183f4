/**
 * `serve` + `ctl` end to end with the demo agent, through the built binary: a lane asks for
 * permission, is answered, handed off, approved and merged; another is rejected for rework and
 * comes back; one is stopped; a second console is refused; SIGTERM stops cleanly; a stale lock
 * left by a killed console is taken over.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../../lanes/git/git.js';
import { lockFile } from '../../lanes/config/paths.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

const ENV = { AO_DEMO_SPEED: '0', NO_COLOR: '1' };

interface Serve {
  child: ChildProcessWithoutNullStreams;
  lines: () => Record<string, unknown>[];
  exited: Promise<number | null>;
}

/** Starts `serve` in `dir` and resolves once it printed its ready line. */
function startServe(dir: string): Promise<Serve> {
  const child = spawn(process.execPath, [CLI, 'serve', '--cols', '100', '--rows', '30'], {
    cwd: dir,
    env: { ...process.env, ...ENV },
  });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve not ready in 30s\nstdout: ${out}\nstderr: ${err}`)), 30_000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"type":"ready"')) {
        clearTimeout(timer);
        resolve({ child, lines, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code} before it was ready\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

let repo: TempRepo;
let serve: Serve;
const ctl = (...args: string[]) => runCli(['ctl', ...args], { cwd: repo.dir, env: ENV, timeoutMs: 150_000 });
const ok = async (...args: string[]) => {
  const r = await ctl(...args);
  expect(r.code, `ctl ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r;
};

beforeAll(async () => {
  repo = await createTempRepo();
  serve = await startServe(repo.dir);
});
afterAll(async () => {
  if (serve && serve.child.exitCode === null) {
    serve.child.kill('SIGKILL');
    await serve.exited;
  }
  await repo?.cleanup();
});

describe('serve + ctl with the demo agent', () => {
  it('runs a lane from permission question to merge', async () => {
    await ok('new', '--name', 'hello', '--profile', 'demo', '--task', 'ask, then create file hello.txt');
    await ok('wait', 'hello', '--state', 'waiting-input', '--timeout', '60');
    const screen = await ok('screen', 'hello');
    expect(screen.stdout).toMatch(/Allow write to hello\.txt\? \[y\/n\]/);
    await ok('send', 'hello', 'y', '--enter');
    await ok('wait', 'hello', '--state', 'awaiting-approval', '--timeout', '120');
    await ok('approve', 'hello');
    await ok('wait', 'hello', '--state', 'merged', '--timeout', '60');
    const shown = await git(['show', 'main:hello.txt'], { cwd: repo.dir });
    expect(shown.stdout).toMatch(/Created by the ao-demo agent/);
    const events = serve.lines();
    expect(events).toContainEqual(expect.objectContaining({ type: 'lane-state', lane: 'hello', to: 'merged' }));
  });

  it('sends a rejected lane back for rework and gets it again', async () => {
    await ok('new', '--name', 'rw', '--profile', 'demo', '--task', 'rework create file rw.txt');
    await ok('wait', 'rw', '--state', 'awaiting-approval', '--timeout', '120');
    await ok('reject', 'rw', '--reason', 'mention the ticket number', '--rework');
    // back to the agent, which applies the feedback and hands off again
    await ok('wait', 'rw', '--state', 'awaiting-approval', '--timeout', '120');
    const status = JSON.parse((await ok('status', '--json')).stdout) as {
      lanes: { name: string; reworkCount: number }[];
    };
    expect(status.lanes.find((l) => l.name === 'rw')?.reworkCount).toBe(1);
    await ok('approve', 'rw');
    await ok('wait', 'rw', '--state', 'merged', '--timeout', '60');
    expect((await git(['show', 'main:rw.txt'], { cwd: repo.dir })).stdout).toMatch(
      /feedback: The operator rejected your work: mention the ticket number/,
    );
  });

  it('stops a lane', async () => {
    await ok('new', '--name', 'stuck', '--profile', 'demo', '--task', 'ask about create file stuck.txt');
    await ok('wait', 'stuck', '--state', 'waiting-input', '--timeout', '60');
    await ok('stop', 'stuck');
    await ok('wait', 'stuck', '--state', 'stopped', '--timeout', '30');
  });

  it('refuses a second console on the same repo, naming the first one', async () => {
    const second = await runCli(['serve'], { cwd: repo.dir, env: ENV });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`pid ${serve.child.pid}`);
  });

  it('refuses a bad AO_EMULATOR_WORKERS at start, naming it (exit 2)', async () => {
    const bad = await runCli(['serve'], { cwd: repo.dir, env: { ...ENV, AO_EMULATOR_WORKERS: 'lots' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/AO_EMULATOR_WORKERS must be a whole number from 1 to 8, not "lots"/);
  });

  it('stops cleanly on SIGTERM: exit 0, lock released, ctl then exits 3', async () => {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(serve.lines().at(-1)).toMatchObject({ type: 'stopped' });
    expect(existsSync(lockFile(`${repo.dir}/.git/ao`))).toBe(false);
    expect((await ctl('status')).code).toBe(3);
  });

  it('takes over the lock of a console that was killed', async () => {
    const killed = await startServe(repo.dir);
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(existsSync(lockFile(`${repo.dir}/.git/ao`))).toBe(true);
    serve = await startServe(repo.dir);
    expect((await ok('status', '--json')).stdout).toContain('"lanes"');
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });
});
