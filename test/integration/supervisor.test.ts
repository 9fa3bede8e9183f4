import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { commitFile, createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { git } from '../../lanes/git/git.js';
import { findLaneProcesses } from '../../lanes/process/reaper.js';
import type { LaneState } from '../../lanes/lane/types.js';

const env = { ...process.env, AO_DEMO_SPEED: '0' };

describe('supervisor with the demo agent', () => {
  let repo: TempRepo;
  let sup: Supervisor;

  beforeEach(async () => {
    repo = await createTempRepo();
    sup = await createSupervisor({
      repoRoot: repo.dir,
      stateDir: repo.stateDir,
      cols: 100,
      rows: 30,
      env,
      tickMs: 100,
      stopGraceMs: 1000,
    });
  });
  afterEach(async () => {
    await sup.shutdown('test over');
    await repo.cleanup();
  });

  const state = (lane: string) => sup.getLane(lane)?.state;
  const reach = (lane: string, s: LaneState, ms = 30_000) =>
    waitFor(() => state(lane) === s, `${lane} to be ${s} (is ${state(lane)})`, ms);
  const db = () => new Database(path.join(repo.stateDir, 'ao.db'), { readonly: true });

  it('runs a lane through the permission question, gates and approval into a merge', async () => {
    await sup.newLane({ name: 'hello', profile: 'demo', task: 'ask create file hello.txt' });
    await reach('hello', 'waiting-input');
    await sup.syncScreen('hello'); // nobody draws the lane: its screen as of now
    expect(sup.screenText('hello').join('\n')).toContain('[y/n]');
    sup.send('hello', 'y\r');
    await reach('hello', 'awaiting-approval');
    const review = await sup.review('hello');
    expect(review.diffStat.map((d) => d.path)).toContain('hello.txt');
    expect(review.verdicts.map((v) => v.gate)).toEqual(expect.arrayContaining(['merge-clean', 'no-secrets']));
    expect(review.requiredPassed).toBe(true);
    await sup.approve('hello', { wait: true });
    expect(state('hello')).toBe('merged');
    const files = (await git(['ls-tree', '-r', '--name-only', 'main'], { cwd: repo.dir })).stdout.split('\n');
    expect(files).toContain('hello.txt');
    const d = db();
    const closure = d
      .prepare('SELECT outcome, data FROM closures c JOIN lanes l ON l.id = c.lane_id WHERE l.name = ?')
      .get('hello') as { outcome: string; data: string };
    const events = d
      .prepare(
        "SELECT to_state FROM lane_events e JOIN lanes l ON l.id = e.lane_id WHERE l.name = ? AND kind = 'state' ORDER BY e.id",
      )
      .all('hello') as { to_state: string }[];
    d.close();
    expect(closure.outcome).toBe('merged');
    const record = JSON.parse(closure.data);
    expect(record.commits.map((c: { subject: string }) => c.subject)).toEqual([expect.stringContaining('hello.txt')]);
    expect(record.diffStat).toEqual([expect.objectContaining({ path: 'hello.txt' })]);
    expect(record.verdicts.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(record.timeInStateMs)).toEqual(
      expect.arrayContaining(['running', 'waiting-input', 'gating', 'awaiting-approval']),
    );
    expect(events.map((e) => e.to_state)).toEqual(
      expect.arrayContaining([
        'starting',
        'running',
        'waiting-input',
        'gating',
        'awaiting-approval',
        'merging',
        'merged',
      ]),
    );
    expect(existsSync(sup.getLane('hello')!.worktree)).toBe(false);
  });

  it('delivers a rejection reason to a waiting agent and re-gates its rework', async () => {
    await sup.newLane({ name: 'rw', profile: 'demo', task: 'rework create file r.txt' });
    await reach('rw', 'awaiting-approval');
    await sup.reject('rw', { reason: 'use tabs not spaces', mode: 'rework' });
    expect(sup.getLane('rw')!.reworkCount).toBe(1);
    await waitFor(() => sup.screenText('rw').join('\n').includes('use tabs not spaces'), 'feedback on screen');
    await reach('rw', 'awaiting-approval');
    const d = db();
    const learning = d.prepare("SELECT category, source FROM learnings WHERE text = 'use tabs not spaces'").get() as {
      category: string;
      source: string;
    };
    d.close();
    expect(learning).toEqual({ category: 'constraint', source: 'rejection' });
  });

  it('discards a rejected lane and keeps its commits under an archive ref', async () => {
    await sup.newLane({ name: 'gone', profile: 'demo', task: 'create file gone.txt' });
    await reach('gone', 'awaiting-approval');
    const head = sup.getLane('gone')!;
    await sup.reject('gone', { reason: 'not needed', mode: 'discard' });
    expect(state('gone')).toBe('discarded');
    const refs = (
      await git(['for-each-ref', '--format=%(refname) %(objectname)', 'refs/ao/archive/'], { cwd: repo.dir })
    ).stdout;
    expect(refs).toContain('refs/ao/archive/gone/');
    const files = (await git(['ls-tree', '-r', '--name-only', refs.split(' ')[1].trim()], { cwd: repo.dir })).stdout;
    expect(files).toContain('gone.txt');
    expect(head.branch).toBe('ao/gone');
  });

  it('asks for an override to approve over a failed required gate, and records it', async () => {
    await sup.newLane({ name: 'leaky', profile: 'demo', task: 'secret: add the deploy configuration' });
    await reach('leaky', 'awaiting-approval');
    const review = await sup.review('leaky');
    const secrets = review.verdicts.find((v) => v.gate === 'no-secrets')!;
    expect(secrets.status).toBe('FAIL');
    expect(secrets.output).toMatch(/config\/deploy_key\.pem:1/);
    expect(review.requiredPassed).toBe(false);
    await expect(sup.approve('leaky')).rejects.toMatchObject({ code: 'needs-override' });
    expect(state('leaky')).toBe('awaiting-approval');
    await sup.approve('leaky', { override: true, by: 'tester', wait: true });
    expect(state('leaky')).toBe('merged');
    const d = db();
    const decision = d
      .prepare("SELECT action, override, by FROM decisions WHERE lane_id = (SELECT id FROM lanes WHERE name = 'leaky')")
      .get();
    d.close();
    expect(decision).toEqual({ action: 'approve', override: 1, by: 'tester' });
  });

  it('makes verdicts stale when the branch moves after the handoff, so approving needs an override', async () => {
    await sup.newLane({ name: 'late', profile: 'demo', task: 'create file late.txt' });
    await reach('late', 'awaiting-approval');
    expect((await sup.review('late')).requiredPassed).toBe(true);
    await commitFile(sup.getLane('late')!.worktree, 'sneaky.txt', 'after the gates\n', 'a commit after handoff');
    const review = await sup.review('late');
    expect(review.verdicts.every((v) => v.stale)).toBe(true);
    expect(review.requiredPassed).toBe(false);
    await expect(sup.approve('late')).rejects.toMatchObject({ code: 'needs-override' });
    await sup.rerunGates('late');
    expect((await sup.review('late')).requiredPassed).toBe(true);
  });

  it('fails a lane whose agent exits non-zero, with a closure', async () => {
    await sup.newLane({ name: 'bad', profile: 'demo', task: 'fail please' });
    await reach('bad', 'failed');
    expect(sup.getLane('bad')!.exitCode).toBe(1);
    await waitFor(() => {
      const d = db();
      const row = d
        .prepare('SELECT outcome FROM closures c JOIN lanes l ON l.id = c.lane_id WHERE l.name = ?')
        .get('bad') as { outcome: string } | undefined;
      d.close();
      return row?.outcome === 'failed';
    }, 'failed closure');
    // The name stays taken until the failed lane is resumed or abandoned; then it is free again.
    await expect(sup.newLane({ name: 'bad', profile: 'demo', task: 'again' })).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(sup.reject('bad', { reason: 'gave up', mode: 'rework' })).rejects.toMatchObject({ code: 'bad-state' });
    await sup.reject('bad', { reason: 'gave up', mode: 'discard' });
    expect(state('bad')).toBe('discarded');
    await sup.newLane({ name: 'bad', profile: 'demo', task: 'create file again.txt' });
    await reach('bad', 'awaiting-approval');
  });

  it('stops a hanging lane and every process it left, including escaped children', async () => {
    await sup.newLane({ name: 'hang', profile: 'demo', task: 'orphan hang forever' });
    await waitFor(() => sup.screenText('hang').join('\n').length > 0, 'output');
    await new Promise((r) => setTimeout(r, 500));
    const d = db();
    const { proc_token: token } = d.prepare('SELECT proc_token FROM lanes WHERE name = ?').get('hang') as {
      proc_token: string;
    };
    d.close();
    expect(findLaneProcesses(token).length).toBeGreaterThan(0);
    await sup.stop('hang');
    expect(state('hang')).toBe('stopped');
    expect(findLaneProcesses(token)).toEqual([]);
  });

  it('holds waiting-input when an agent hook reports it, until the agent writes again', async () => {
    await sup.newLane({ name: 'hook', profile: 'demo', task: 'hang here' });
    await waitFor(() => sup.screenText('hook').join('\n').includes('never frees'), 'hanging agent');
    await reach('hook', 'running');
    sup.reportWaiting('hook', 'test hook');
    expect(state('hook')).toBe('waiting-input');
    await new Promise((r) => setTimeout(r, 600)); // several ticks: the busy screen does not override it
    expect(state('hook')).toBe('waiting-input');
    expect(() => sup.reportWaiting('nope')).toThrow(/no lane named "nope"/);
    await sup.stop('hook');
    expect(() => sup.reportWaiting('hook')).toThrow(/only a running agent/);
  });

  it('refuses bad names and unknown profiles, and never runs a canary in a task', async () => {
    await expect(sup.newLane({ name: 'Bad Name', profile: 'demo', task: 'x' })).rejects.toThrow(/lowercase letters/);
    await expect(sup.newLane({ name: 'ok', profile: 'nope', task: 'x' })).rejects.toThrow(/unknown profile "nope"/);
    const canary = path.join(repo.dir, 'CANARY');
    await sup.newLane({
      name: 'canary',
      profile: 'demo',
      task: `create file c.txt $(touch ${canary}) \`touch ${canary}\``,
    });
    await reach('canary', 'awaiting-approval');
    expect(existsSync(canary)).toBe(false);
  });

  it('queues lanes over the concurrency limit and starts them as others finish', async () => {
    await sup.shutdown();
    await import('node:fs/promises').then((fs) =>
      fs
        .mkdir(path.join(repo.dir, '.ao'), { recursive: true })
        .then(() => fs.writeFile(path.join(repo.dir, '.ao', 'config.json'), JSON.stringify({ maxConcurrentLanes: 1 }))),
    );
    sup = await createSupervisor({
      repoRoot: repo.dir,
      stateDir: repo.stateDir,
      cols: 100,
      rows: 30,
      env,
      tickMs: 100,
    });
    await sup.newLane({ name: 'first', profile: 'demo', task: 'ask create file 1.txt' });
    await sup.newLane({ name: 'second', profile: 'demo', task: 'create file 2.txt' });
    expect(state('second')).toBe('queued');
    await reach('first', 'waiting-input');
    sup.send('first', 'y\r');
    await reach('second', 'awaiting-approval');
  });
});
