/**
 * Every state has a way out (issue 12), against real git, real ptys (the demo agent) and a real
 * SQLite file: a handoff on a worktree deleted behind the console's back fails the lane with the
 * reason; a lane gating on a gate that sleeps is stopped or removed at once; `remove` takes a lane
 * away from each state it can be in, keeps its work under an archive ref and frees its name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { trustRepo, useTempTrustFile } from '../helpers/trust.js';
import { waitFor } from '../helpers/waitFor.js';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { git } from '../../lanes/git/git.js';
import type { LaneState } from '../../lanes/lane/types.js';

// The gates here are commands: the repo's commands are allowed (test/helpers/trust.ts).
useTempTrustFile();
const env = { ...process.env, AO_DEMO_SPEED: '0' };

let repo: TempRepo | null = null;
let sup: Supervisor | null = null;

afterEach(async () => {
  await sup?.shutdown('test over');
  sup = null;
  await repo?.cleanup();
  repo = null;
});

/** A temp repo with `.ao/config.json` (when given) and a supervisor on it. */
async function start(config?: object): Promise<{ repo: TempRepo; sup: Supervisor }> {
  repo ??= await createTempRepo();
  if (config) {
    await mkdir(path.join(repo.dir, '.ao'), { recursive: true });
    await writeFile(path.join(repo.dir, '.ao', 'config.json'), JSON.stringify(config));
    await trustRepo(repo.dir);
  }
  sup = await createSupervisor({
    repoRoot: repo.dir,
    stateDir: repo.stateDir,
    cols: 100,
    rows: 30,
    env,
    tickMs: 100,
    stopGraceMs: 1000,
  });
  return { repo, sup };
}

const stateOf = (lane: string) => sup!.getLane(lane)?.state;
const reach = (lane: string, s: LaneState, ms = 30_000) =>
  waitFor(() => stateOf(lane) === s, `${lane} to be ${s} (is ${stateOf(lane)})`, ms);

/** What the store says about a lane: its closure, its last state change and its cause. */
function stored(lane: string): { outcome: string | null; toState: string; cause: string; closed: boolean } {
  const d = new Database(path.join(repo!.stateDir, 'ao.db'), { readonly: true });
  try {
    const row = d
      .prepare(
        `SELECT c.outcome, l.closed_at FROM lanes l LEFT JOIN closures c ON c.lane_id = l.id
         WHERE l.name = ? ORDER BY l.id DESC LIMIT 1`,
      )
      .get(lane) as { outcome: string | null; closed_at: number | null };
    const ev = d
      .prepare(
        `SELECT e.to_state, e.cause FROM lane_events e JOIN lanes l ON l.id = e.lane_id
         WHERE l.name = ? AND e.kind = 'state' ORDER BY e.id DESC LIMIT 1`,
      )
      .get(lane) as { to_state: string; cause: string };
    return { outcome: row.outcome, toState: ev.to_state, cause: ev.cause, closed: row.closed_at !== null };
  } finally {
    d.close();
  }
}

/** Archive refs of a lane, newest last, with the files of each. */
async function archives(lane: string): Promise<{ ref: string; files: string[] }[]> {
  const out = (
    await git(['for-each-ref', '--sort=refname', '--format=%(refname)', `refs/ao/archive/${lane}/`], { cwd: repo!.dir })
  ).stdout;
  const refs = out.split('\n').filter(Boolean);
  return Promise.all(
    refs.map(async (ref) => ({
      ref,
      files: (await git(['ls-tree', '-r', '--name-only', ref], { cwd: repo!.dir })).stdout.split('\n'),
    })),
  );
}

const branchExists = async (lane: string) =>
  (await git(['rev-parse', '--verify', '--quiet', `refs/heads/ao/${lane}`], { cwd: repo!.dir, allowFail: true }))
    .exitCode === 0;

/** Removes the lane and checks what every removal leaves: discarded, closed, worktree and branch gone. */
async function removeAndCheck(lane: string): Promise<void> {
  const worktree = sup!.getLane(lane)!.worktree;
  await sup!.remove(lane);
  expect(stateOf(lane)).toBe('discarded');
  expect(stored(lane)).toEqual({
    outcome: 'discarded',
    toState: 'discarded',
    cause: 'removed by operator',
    closed: true,
  });
  expect(existsSync(worktree)).toBe(false);
  expect(await branchExists(lane)).toBe(false);
  // once removed, there is nothing left to remove
  await expect(sup!.remove(lane)).rejects.toMatchObject({ code: 'bad-state', message: /can be removed/ });
}

/** A gate that sleeps: gating lasts until it is cancelled. */
const MARK = `ao-ways-out-${process.pid}`;
const SLEEPY = { gates: [{ name: 'slow', shell: `sleep 600 && echo ${MARK}`, timeoutSec: 900, required: true }] };

describe('a worktree deleted behind the console', () => {
  it('fails the handoff with the reason instead of leaving the lane in gating; remove then clears it', async () => {
    await start();
    await sup!.newLane({ name: 'vanish', profile: 'demo', task: 'hang here' });
    await waitFor(() => sup!.screenText('vanish').join('\n').includes('never frees'), 'hanging agent');
    const worktree = sup!.getLane('vanish')!.worktree;
    await rm(worktree, { recursive: true, force: true });
    await expect(sup!.handoff('vanish')).rejects.toMatchObject({
      code: 'handoff-failed',
      message: expect.stringContaining(`worktree ${worktree} is gone`),
    });
    expect(stateOf('vanish')).toBe('failed');
    const s = stored('vanish');
    expect(s).toMatchObject({ outcome: 'failed', toState: 'failed', closed: false });
    expect(s.cause).toMatch(/^handoff failed: worktree .* is gone/);
    // failed, it can be left: remove prunes git's registration and frees the name
    await removeAndCheck('vanish');
    const wts = (await git(['worktree', 'list', '--porcelain'], { cwd: repo!.dir })).stdout;
    expect(wts).not.toContain(worktree);
    await sup!.newLane({ name: 'vanish', profile: 'demo', task: 'create file back.txt' });
    await reach('vanish', 'awaiting-approval');
  });
});

describe('a lane gating on a gate that sleeps', () => {
  it('is stopped at once: the gates are cancelled, their processes killed, the lane resumable', async () => {
    await start(SLEEPY);
    await sup!.newLane({ name: 'sleepy', profile: 'demo', task: 'create file s.txt' });
    await reach('sleepy', 'gating');
    await waitFor(async () => (await pgrep(MARK)).length > 0, 'the gate running');
    const t0 = Date.now();
    await sup!.stop('sleepy');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(stateOf('sleepy')).toBe('stopped');
    expect(stored('sleepy').cause).toBe('stopped by operator');
    expect(await pgrep(MARK)).toEqual([]);
    const slow = (await sup!.review('sleepy')).verdicts.find((v) => v.gate === 'slow')!;
    expect(slow.status).toBe('ERROR');
    expect(slow.output).toMatch(/cancelled: stopped by operator/);
    // a stopped lane is handed off again, or removed
    await removeAndCheck('sleepy');
    expect((await archives('sleepy')).at(-1)!.files).toContain('s.txt');
  });

  it('is removed at once, its work archived', async () => {
    await start(SLEEPY);
    await sup!.newLane({ name: 'sleepy2', profile: 'demo', task: 'create file t.txt' });
    await reach('sleepy2', 'gating');
    await waitFor(async () => (await pgrep(MARK)).length > 0, 'the gate running');
    const t0 = Date.now();
    await removeAndCheck('sleepy2');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await pgrep(MARK)).toEqual([]);
    expect((await archives('sleepy2')).at(-1)!.files).toContain('t.txt');
  });
});

describe('remove from each state', () => {
  it('running: the agent is ended and its uncommitted files are archived', async () => {
    await start();
    await sup!.newLane({ name: 'busy', profile: 'demo', task: 'hang here' });
    await waitFor(() => sup!.screenText('busy').join('\n').includes('never frees'), 'hanging agent');
    await writeFile(path.join(sup!.getLane('busy')!.worktree, 'draft.txt'), 'not committed yet\n');
    await removeAndCheck('busy');
    expect((await archives('busy')).at(-1)!.files).toContain('draft.txt');
    expect(sup!.getLane('busy')!.outputRate).toBe(0);
  });

  it('queued: never started, nothing to archive', async () => {
    await start({ maxConcurrentLanes: 1 });
    await sup!.newLane({ name: 'first', profile: 'demo', task: 'hang here' });
    await sup!.newLane({ name: 'second', profile: 'demo', task: 'create file 2.txt' });
    expect(stateOf('second')).toBe('queued');
    await removeAndCheck('second');
    expect(await archives('second')).toEqual([]);
    expect(stateOf('first')).not.toBe('discarded');
  });

  it('awaiting approval: its commits are archived', async () => {
    await start();
    await sup!.newLane({ name: 'review', profile: 'demo', task: 'create file r.txt' });
    await reach('review', 'awaiting-approval');
    await removeAndCheck('review');
    expect((await archives('review')).at(-1)!.files).toContain('r.txt');
  });

  it('failed and stopped', async () => {
    await start();
    await sup!.newLane({ name: 'bad', profile: 'demo', task: 'fail please' });
    await sup!.newLane({ name: 'halt', profile: 'demo', task: 'hang here' });
    await reach('bad', 'failed');
    await waitFor(() => sup!.screenText('halt').join('\n').includes('never frees'), 'hanging agent');
    await sup!.stop('halt');
    expect(stateOf('halt')).toBe('stopped');
    await removeAndCheck('bad');
    await removeAndCheck('halt');
  });

  it('interrupted: a lane of a console that shut down', async () => {
    await start();
    await sup!.newLane({ name: 'left', profile: 'demo', task: 'hang here' });
    await waitFor(() => sup!.screenText('left').join('\n').includes('never frees'), 'hanging agent');
    await writeFile(path.join(sup!.getLane('left')!.worktree, 'wip.txt'), 'work in progress\n');
    await sup!.shutdown('test restart');
    await start();
    expect(stateOf('left')).toBe('interrupted');
    await removeAndCheck('left');
    expect((await archives('left')).at(-1)!.files).toContain('wip.txt');
  });
});

/** pids of live processes whose command line contains `text` (not zombies). */
async function pgrep(text: string): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = (await readFile(`/proc/${e}/cmdline`, 'utf8')).split('\0').join(' ');
      const stat = await readFile(`/proc/${e}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (cmd.includes(text) && !cmd.includes('vitest')) pids.push(Number(e));
    } catch {
      // gone while we looked
    }
  }
  return pids;
}

describe('a recorder that died', () => {
  it('does not keep the shutdown from stopping the agents, writing their closures, ending the session and closing the store', async () => {
    await start();
    const errors: string[] = [];
    sup!.on((ev) => {
      if (ev.type === 'error') errors.push(ev.message);
    });
    await sup!.newLane({ name: 'asker', profile: 'demo', task: 'ask, then create file asked.txt' });
    await reach('asker', 'waiting-input');
    const db = new Database(path.join(repo!.stateDir, 'ao.db'), { readonly: true });
    const { pid } = db.prepare('SELECT pid FROM lanes WHERE name = ?').get('asker') as { pid: number };
    db.close();
    expect(() => process.kill(pid, 0)).not.toThrow();
    // the recorder's worker thread dies (as a crash in it would end it)
    const recorder = (sup as unknown as { core: { world: { recorder: { worker: { terminate(): Promise<number> } } } } })
      .core.world.recorder;
    await recorder.worker.terminate();
    await waitFor(
      () => errors.some((m) => m.includes('recorder worker exited unexpectedly')) || null,
      'the failure reported',
    );
    const closing = sup!;
    sup = null; // (shut down here, not again after the test)
    await expect(closing.shutdown('test over')).rejects.toThrow(/recorder worker exited unexpectedly/);
    expect(() => process.kill(pid, 0)).toThrow(); // the agent is gone
    expect(stored('asker')).toMatchObject({ outcome: 'interrupted', toState: 'interrupted' });
    const d = new Database(path.join(repo!.stateDir, 'ao.db'), { readonly: true });
    try {
      const sessions = d.prepare('SELECT ended_at, end_reason FROM sessions').all() as {
        ended_at: number | null;
        end_reason: string;
      }[];
      expect(sessions.map((s) => [s.ended_at !== null, s.end_reason])).toEqual([[true, 'test over']]);
    } finally {
      d.close();
    }
  });
});
