/**
 * One engine per repo, every dashboard a client (docs/architecture.md), end to end: the built
 * binary in tmux, keys by send-keys, screens by capture-pane, lanes driven by `ctl` as a script
 * or an agent's hook would.
 *
 * - the dashboard's window is killed (SIGHUP): its process ends, the engine and the lanes go on,
 *   a lane flooding 20 MiB across the kill records every byte, and a new dashboard shows the
 *   lanes' current screens;
 * - two dashboards of different sizes on one engine: an approval in one shows in the other, and
 *   a second approval is refused without a second merge;
 * - attach to a lane in awaiting-approval whose process still runs, and type into it;
 * - the engine is killed (kill -9) under two dashboards: both say so, one starts it again and
 *   the crash recovery marks the lanes interrupted;
 * - quitting a dashboard leaves the lanes running; `engine stop` stops them and returns once the
 *   engine is gone.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { git } from '../../lanes/git/git.js';
import { KEYMAP } from '../../src/keymap/index.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { alive, enginePid, openStore, stopEverything } from '../helpers/laneProcs.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';
import { waitFor } from '../helpers/waitFor.js';
import { decodeChunk } from '../../lanes/store/output.js';

const ENV = { AO_DEMO_SPEED: '0', AO_DEMO_ORPHAN_SECS: '120' };
// the dashboard, not the splash ("ao-console · repo x" over "starting the engine…")
const HEADER = /^ao-console · repo \S+ · base /m;
const SLOW_WRITER = fileURLToPath(new URL('../fixtures/slowWriter.mjs', import.meta.url));

function keyOf(id: string): string {
  const binding = KEYMAP.find((b) => b.id === id);
  if (!binding) throw new Error(`no binding ${id} in src/keymap/`);
  return binding.keys[0];
}
async function press(t: TmuxSession, ...ids: string[]): Promise<void> {
  for (const id of ids) await t.press(keyOf(id));
}

const lines = (screen: string) => screen.replace(/\n$/, '').split('\n');
function laneRow(screen: string, name: string): string | undefined {
  return lines(screen).find((l) => new RegExp(`^[› ][* ]\\S (${name})\\s`).test(l));
}
function laneState(screen: string, name: string): string | undefined {
  const state = laneRow(screen, name)?.match(
    /(created|queued|starting|running|idle|waiting input|gating|awaiting appr\S*|merging|merged|discarded|failed|interrupted|stopped)/,
  )?.[1];
  // a narrow state column ends the longest label with "…"
  return state?.startsWith('awaiting appr') ? 'awaiting approval' : state;
}

async function select(t: TmuxSession, name: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    if (laneRow(await t.capture(), name)?.startsWith('›')) return;
    await press(t, 'lanes.next');
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`could not select lane ${name}:\n${await t.capture()}`);
}

const repos: TempRepo[] = [];
const sessions: TmuxSession[] = [];

async function newRepo(): Promise<TempRepo> {
  const repo = await createTempRepo();
  repos.push(repo);
  await mkdir(path.join(repo.dir, '.ao', 'profiles'), { recursive: true });
  const profile = (command: string, args: string[], extra: object = {}) =>
    JSON.stringify({
      description: 'test',
      command,
      args,
      taskInput: 'none',
      handoffOnExit: false,
      patterns: { busy: [], waitingInput: [] },
      ...extra,
    });
  await writeFile(
    path.join(repo.dir, '.ao', 'profiles', 'writer.json'),
    profile(process.execPath, [SLOW_WRITER, '{task}'], { taskInput: 'arg' }),
  );
  await writeFile(path.join(repo.dir, '.ao', 'profiles', 'sh.json'), profile('/bin/sh', []));
  // the profiles are part of the repo, so lanes' worktrees and the base agree
  await git(['add', '-A'], { cwd: repo.dir });
  await git(['commit', '-q', '-m', 'test profiles'], { cwd: repo.dir });
  return repo;
}

function env(repo: TempRepo): Record<string, string> {
  return { ...ENV, AO_STATE_DIR: repo.stateDir };
}

async function ctl(repo: TempRepo, ...args: string[]) {
  return runCli(['ctl', ...args], { cwd: repo.dir, env: env(repo), timeoutMs: 120_000 });
}
async function ok(repo: TempRepo, ...args: string[]) {
  const r = await ctl(repo, ...args);
  expect(r.code, `ctl ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r;
}

async function dashboard(repo: TempRepo, cols = 120, rows = 36): Promise<TmuxSession> {
  const t = await startTmux({ command: [process.execPath, CLI], cwd: repo.dir, env: env(repo), cols, rows });
  sessions.push(t);
  await t.waitFor((s) => HEADER.test(s), 'the dashboard header', 60_000);
  return t;
}

/** Dashboards of this repo: `node <cli>` processes with the repo as working directory. */
function dashboardPids(repo: TempRepo): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length === 2 && argv[1] === CLI && readlinkSync(`/proc/${entry}/cwd`) === repo.dir && alive(+entry))
        found.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

function recorded(repo: TempRepo, lane: string): Buffer {
  const db = openStore(repo);
  try {
    const rows = db
      .prepare('SELECT data, enc FROM output_chunks WHERE lane_id = (SELECT id FROM lanes WHERE name = ?) ORDER BY seq')
      .all(lane) as { data: Buffer; enc: number }[];
    return Buffer.concat(rows.map((r) => decodeChunk(r.enc, r.data)));
  } finally {
    db.close();
  }
}

async function engineStatus(repo: TempRepo): Promise<{ code: number | null; json: Record<string, unknown> | null }> {
  const r = await runCli(['engine', 'status', '--json'], { cwd: repo.dir, env: env(repo) });
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    // no engine: nothing on stdout
  }
  return { code: r.code, json };
}

afterEach(async () => {
  for (const s of sessions.splice(0)) await s.kill();
  for (const r of repos.splice(0)) {
    await stopEverything(r, ENV);
    await r.cleanup();
  }
});

describe('lanes outlive every window', () => {
  it('a killed dashboard window leaves the engine and its lanes running; a flood records every byte; a new dashboard shows the screens', async () => {
    const repo = await newRepo();
    const t1 = await dashboard(repo);
    const engine = await engineStatus(repo);
    expect(engine.code).toBe(0);
    const pid = engine.json?.pid as number;
    expect(pid).toBeGreaterThan(0);
    expect(dashboardPids(repo)).not.toContain(pid); // the engine is not the dashboard

    await ok(repo, 'new', '--name', 'asker', '--profile', 'demo', '--task', 'ask, then create file asked.txt');
    await ok(repo, 'wait', 'asker', '--state', 'waiting-input', '--timeout', '60');
    const payload = randomBytes(20 * 1024 * 1024);
    const payloadFile = path.join(path.dirname(repo.dir), `${path.basename(repo.dir)}-flood`);
    await writeFile(payloadFile, payload);
    await ok(repo, 'new', '--name', 'flood', '--profile', 'writer', '--task', payloadFile);
    await waitFor(() => recorded(repo, 'flood').length > 1024 * 1024 || null, 'the flood to start', 30_000);

    // the window goes away: tmux hangs up on the dashboard
    const before = dashboardPids(repo);
    expect(before.length).toBe(1);
    await t1.tmux('kill-server').catch(() => undefined);
    await waitFor(() => (before.every((p) => !alive(p)) ? true : null), 'the dashboard to exit', 10_000);
    expect(alive(pid)).toBe(true);
    expect(recorded(repo, 'flood').length).toBeLessThan(payload.length); // the flood went on across the kill

    await ok(repo, 'wait', 'flood', '--state', 'stopped', '--timeout', '120');
    const got = recorded(repo, 'flood');
    expect(got.length).toBe(payload.length);
    expect(got.equals(payload)).toBe(true);
    const asker = JSON.parse((await ok(repo, 'status', '--json')).stdout) as {
      lanes: { name: string; state: string }[];
    };
    expect(asker.lanes.find((l) => l.name === 'asker')?.state).toBe('waiting-input');

    // a new dashboard: the lanes and the focused lane's current screen
    const t2 = await dashboard(repo);
    await select(t2, 'asker');
    await t2.waitFor(
      (s) => laneState(s, 'asker') === 'waiting input' && s.includes('Allow write to asked.txt? [y/n]'),
      "the asker's question on the new dashboard",
      10_000,
    );
    expect((await engineStatus(repo)).json?.pid).toBe(pid);
  }, 240_000);

  it('two dashboards of different sizes: an approval in one shows in the other; a second approval merges nothing', async () => {
    const repo = await newRepo();
    const small = await dashboard(repo, 100, 30);
    const big = await dashboard(repo, 160, 48);
    expect((await engineStatus(repo)).json?.clients).toBeGreaterThanOrEqual(2);
    await ok(repo, 'new', '--name', 'both', '--profile', 'demo', '--task', 'create file both.txt');
    await ok(repo, 'wait', 'both', '--state', 'awaiting-approval', '--timeout', '90');
    for (const t of [small, big])
      await t.waitFor((s) => laneState(s, 'both') === 'awaiting approval', 'the lane in review', 15_000);

    await select(small, 'both');
    await press(small, 'review.approve');
    await small.waitFor((s) => laneState(s, 'both') === 'merged' || s.includes('y/enter yes'), 'merged or asked');
    if ((await small.capture()).includes('y/enter yes')) await press(small, 'confirm.yes');
    await big.waitFor((s) => laneState(s, 'both') === 'merged', 'the other dashboard showing the merge', 15_000);

    const again = await ctl(repo, 'approve', 'both');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/bad-state|merged/);
    const merges = (await git(['log', '--merges', '--format=%s', 'main'], { cwd: repo.dir })).stdout.trim();
    expect(merges.split('\n').filter(Boolean)).toHaveLength(1);
    expect(lines(await small.capture()).length).toBeLessThanOrEqual(30);
    expect(lines(await big.capture()).length).toBeLessThanOrEqual(48);
  }, 240_000);

  it('attaches to a lane in awaiting-approval whose process runs, and what is typed reaches it', async () => {
    const repo = await newRepo();
    const t = await dashboard(repo);
    await ok(repo, 'new', '--name', 'shell', '--profile', 'sh', '--task', 'a shell');
    await waitFor(async () => {
      const st = JSON.parse((await ok(repo, 'status', '--json')).stdout) as {
        lanes: { name: string; state: string }[];
      };
      return ['running', 'idle'].includes(st.lanes.find((l) => l.name === 'shell')?.state ?? '') || null;
    }, 'the shell lane to run');
    await ok(repo, 'send', 'shell', 'echo first > first.txt', '--enter');
    await ok(repo, 'handoff', 'shell');
    await ok(repo, 'wait', 'shell', '--state', 'awaiting-approval', '--timeout', '60');
    await t.waitFor((s) => laneState(s, 'shell') === 'awaiting approval', 'the shell lane in review', 15_000);
    await select(t, 'shell');
    await press(t, 'lane.attach');
    await t.waitFor('attached to shell', 'attach mode', 15_000);
    await t.type('echo typed-while-in-review > typed.txt');
    await t.press('enter');
    const status = JSON.parse((await ok(repo, 'status', '--json')).stdout) as {
      lanes: { name: string; worktree: string }[];
    };
    const worktree = status.lanes.find((l) => l.name === 'shell')?.worktree ?? '';
    await waitFor(
      () => {
        try {
          return readFileSync(path.join(worktree, 'typed.txt'), 'utf8').includes('typed-while-in-review') || null;
        } catch {
          return null;
        }
      },
      'the typed command to run in the lane',
      15_000,
    );
    await t.press('ctrl-]');
    await t.waitFor((s) => HEADER.test(s) && !s.includes('attached to shell'), 'the dashboard after detach');
  }, 180_000);

  it('the engine killed under two dashboards: both say so; starting it again recovers the lanes', async () => {
    const repo = await newRepo();
    const a = await dashboard(repo, 100, 30);
    const b = await dashboard(repo, 120, 36);
    await ok(repo, 'new', '--name', 'victim', '--profile', 'demo', '--task', 'ask, then create file v.txt');
    await ok(repo, 'wait', 'victim', '--state', 'waiting-input', '--timeout', '60');
    const pid = enginePid(repo);
    expect(pid).not.toBeNull();
    process.kill(pid!, 'SIGKILL');
    for (const t of [a, b]) await t.waitFor(/engine is gone/i, 'the dashboard saying the engine is gone', 10_000);

    await a.press('r');
    await a.waitFor((s) => laneState(s, 'victim') === 'interrupted', 'the recovered lane, interrupted', 60_000);
    const status = await engineStatus(repo);
    expect(status.code).toBe(0);
    expect(status.json?.pid).not.toBe(pid);
    await b.press('r');
    await b.waitFor((s) => laneState(s, 'victim') === 'interrupted', 'the second dashboard reconnected', 30_000);
    expect((await engineStatus(repo)).json?.pid).toBe(status.json?.pid); // one engine, not two
  }, 240_000);

  it('quit leaves the lanes running and says how to come back; engine stop stops them and returns once the engine is gone', async () => {
    const repo = await newRepo();
    const t = await dashboard(repo);
    await ok(repo, 'new', '--name', 'stays', '--profile', 'demo', '--task', 'ask, then create file s.txt');
    await ok(repo, 'wait', 'stays', '--state', 'waiting-input', '--timeout', '60');
    await press(t, 'app.quit');
    await t.waitFor(/keep running/, 'the quit dialog', 10_000);
    await press(t, 'confirm.yes');
    expect(await t.waitForExit(30_000)).toBe(0);
    expect(await t.capture({ history: true })).toMatch(/1 lane keeps running; `ao-console` to come back/);
    const pid = enginePid(repo)!;
    expect(alive(pid)).toBe(true);
    const st = JSON.parse((await ok(repo, 'status', '--json')).stdout) as { lanes: { name: string; state: string }[] };
    expect(st.lanes.find((l) => l.name === 'stays')?.state).toBe('waiting-input');

    const noTty = await runCli(['engine', 'stop'], { cwd: repo.dir, env: env(repo) });
    expect(noTty.code).toBe(1); // a lane works and there is no terminal to ask on
    expect(alive(pid)).toBe(true);
    const stop = await runCli(['engine', 'stop', '--yes'], { cwd: repo.dir, env: env(repo), timeoutMs: 60_000 });
    expect(stop.code, stop.stderr).toBe(0);
    expect(alive(pid)).toBe(false); // it returned only once the engine was gone
    expect((await engineStatus(repo)).code).toBe(3);
  }, 180_000);
});
