// What the pty benchmarks share (bench/echo.mjs, bench/scale.mjs): a pty child with its output,
// the keystroke-echo measurement, temp repos, the dashboard's quit and the engine's stop.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');
export const COLS = 120;
export const ROWS = 40;
const pty = await import('node-pty');

export const log = (s = '') => process.stdout.write(s + '\n');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const stripAnsi = (s) =>
  s.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]/g, '');

export const ECHO_SOURCE = `// echoes raw stdin framed as <<...>>, so the benchmark can tell its echo from anything else
if (process.stdin.isTTY) process.stdin.setRawMode(true);
process.stdout.write('echo ready\\r\\n');
process.stdin.on('data', (d) => process.stdout.write('<<' + d.toString('latin1') + '>>'));
`;

export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
export function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s.at(-1) ?? NaN };
}
export const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'n/a');

/** A pty child with its output accumulated; `waitFor` polls the output (stripped of escapes). */
export function spawnPty(file, args, opts) {
  const p = pty.spawn(file, args, { name: 'xterm-256color', cols: COLS, rows: ROWS, cwd: opts.cwd, env: opts.env });
  const state = { out: '', plainFrom: 0, exited: false, exitCode: null, listeners: new Set() };
  p.onData((d) => {
    state.out += d;
    for (const l of state.listeners) l(d);
  });
  p.onExit(({ exitCode }) => {
    state.exited = true;
    state.exitCode = exitCode;
  });
  const waitFor = async (text, what, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!stripAnsi(state.out).includes(text)) {
      if (state.exited)
        throw new Error(
          `${what}: the program exited (code ${state.exitCode}); its output ends with:\n${stripAnsi(state.out).slice(-1500)}`,
        );
      if (Date.now() > deadline)
        throw new Error(
          `${what}: not seen in ${timeoutMs} ms; the output ends with:\n${stripAnsi(state.out).slice(-1500)}`,
        );
      await sleep(10);
    }
  };
  return { p, state, waitFor };
}

/**
 * Sends one unique key at a time and times until its framed echo arrives. Between samples a
 * short random pause, so keys are never batched together.
 */
export async function measureEcho(child, samples) {
  const keys = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const times = [];
  let seen = '';
  let onData = null;
  child.state.listeners.add((d) => {
    seen += d;
    onData?.();
  });
  for (let i = 0; i < samples; i++) {
    const key = keys[i % keys.length];
    const marker = `<<${key}>>`;
    seen = '';
    const got = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no echo of ${JSON.stringify(key)} within 5 s`)), 5000);
      onData = () => {
        if (seen.includes(marker)) {
          clearTimeout(timer);
          resolve(performance.now());
        }
      };
    });
    const t0 = performance.now();
    child.p.write(key);
    const t1 = await got;
    onData = null;
    times.push(t1 - t0);
    await sleep(5 + Math.random() * 15);
  }
  return summary(times);
}

export function tempRepo() {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'ao-bench-echo-')));
  const git = (...args) => execFileP('git', args, { cwd: dir });
  return { dir, git };
}

export async function initRepo(repo) {
  await repo.git('init', '-q', '-b', 'main');
  await repo.git(
    '-c',
    'user.name=bench',
    '-c',
    'user.email=bench@example.invalid',
    'commit',
    '-q',
    '--allow-empty',
    '-m',
    'init',
  );
}

/** Stops the repo's engine and its lanes (it outlives the dashboard), so nothing keeps flooding after the benchmark. */
export async function stopEngine(dir, env) {
  await execFileP(process.execPath, [CLI, 'engine', 'stop', '--yes'], { cwd: dir, env, timeout: 60_000 }).catch(
    () => {},
  );
}

export function benchEnv(extra = {}) {
  const env = { ...process.env, TERM: 'xterm-256color', ...extra };
  delete env.NO_COLOR;
  delete env.TMUX;
  return env;
}

/** Waits for the dashboard to exit after `q` (and `y` when it asks), else ends it by signal. */
export async function quitDashboard(child) {
  const before = child.state.out.length;
  child.p.write('q');
  // With lanes working, quit asks first; under a flood the question may take a moment to draw.
  const asked = Date.now() + 10_000;
  while (!child.state.exited && Date.now() < asked && !/y\/enter yes/.test(stripAnsi(child.state.out.slice(before))))
    await sleep(50);
  if (/y\/enter yes/.test(stripAnsi(child.state.out.slice(before)))) child.p.write('y');
  const deadline = Date.now() + 30_000;
  while (!child.state.exited && Date.now() < deadline) await sleep(50);
  if (child.state.exited) return 'exited after q';
  // quit ran (lanes stopped, session ended) but the process did not end on its own
  child.p.kill('SIGTERM');
  await sleep(3000);
  if (!child.state.exited) child.p.kill('SIGKILL');
  return 'did not exit within 30 s of q; killed';
}

/**
 * A bench agent profile in the repo: node runs `args` with no task, its env lets the go file
 * through, no handoff at exit and no screen patterns (the lanes only make output).
 */
export function writeBenchProfile(repoDir, name, description, args) {
  mkdirSync(path.join(repoDir, '.ao', 'profiles'), { recursive: true });
  writeFileSync(
    path.join(repoDir, '.ao', 'profiles', `${name}.json`),
    JSON.stringify({
      description,
      command: '{node}',
      args,
      taskInput: 'none',
      envPassthrough: ['PATH', 'HOME', 'AO_BENCH_GO'],
      handoffOnExit: false,
      patterns: { busy: [], waitingInput: [] },
    }),
  );
}
