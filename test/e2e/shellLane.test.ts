/**
 * `ctl new --profile shell` needs no task (the shell profile's taskInput is "none"); a profile
 * that takes a task still refuses an empty one. The built binary: `serve`, then `ctl`.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cliBin.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

let repo: TempRepo;
let serve: ReturnType<typeof spawn>;
let exited: Promise<number | null>;
const ctl = (...args: string[]) =>
  runCli(['ctl', ...args], { cwd: repo.dir, env: { AO_STATE_DIR: repo.stateDir }, timeoutMs: 60_000 });

beforeAll(async () => {
  repo = await createTempRepo();
  serve = spawn(process.execPath, [CLI, 'serve'], {
    cwd: repo.dir,
    env: { ...process.env, AO_STATE_DIR: repo.stateDir, SHELL: '/bin/sh' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((resolve) => serve.on('exit', (code) => resolve(code)));
  let out = '';
  let err = '';
  serve.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve not ready\n${out}\n${err}`)), 30_000);
    serve.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"type":"ready"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => reject(new Error(`serve exited ${code}\n${out}\n${err}`)));
  });
});
afterAll(async () => {
  if (serve && serve.exitCode === null) {
    serve.kill('SIGTERM');
    await exited;
  }
  await repo?.cleanup();
});

it('a shell lane starts with no --task; a demo lane without one is refused', async () => {
  const made = await ctl('new', '--profile', 'shell');
  expect(made.code, made.stderr).toBe(0);
  expect(made.stdout).toMatch(/^lane shell created/);
  const waited = await ctl('wait', 'shell', '--state', 'waiting-input', '--timeout', '30');
  expect(waited.code, waited.stderr).toBe(0);
  const refused = await ctl('new', '--profile', 'demo');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('the task is empty');
  expect((await ctl('stop', 'shell')).code).toBe(0);
});
