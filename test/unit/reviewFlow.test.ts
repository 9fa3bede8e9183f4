/**
 * The review flow (lanes/supervisor/reviewFlow.ts) against a fake world: fake agent processes,
 * fake git that records every call with its exact arguments, scripted gates. The store is a real
 * SQLite file in a temp dir. test/integration/supervisor.test.ts runs the same flow for real.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Supervisor } from '../../lanes/supervisor/supervisor.js';
import type { LaneGit, LaneProcess, LaneWorld } from '../../lanes/supervisor/world.js';
import type { GateVerdict, SupervisorEvent } from '../../lanes/supervisor/api.js';
import type { LaneRuntimeOptions } from '../../lanes/lane/laneRuntime.js';
import { openDb, type Db } from '../../lanes/store/open.js';
import { getClosure, listDecisions } from '../../lanes/store/review.js';
import { listEvents } from '../../lanes/store/events.js';
import { listLearnings } from '../../lanes/learnings/store.js';
import { parseRepoConfig } from '../../lanes/config/repoConfig.js';
import { loadProfilesOrThrow } from '../../profiles/loader.js';

class FakeProcess implements LaneProcess {
  alive = true;
  nextSeq = 0;
  outputBytes = 0;
  written: string[] = [];
  readonly terminal = {
    text: () => [],
    ansiLines: () => [],
    styled: () => [],
    cursor: () => ({ x: 0, y: 0, visible: false }),
    lastLine: () => '',
  };
  private resolveExit!: () => void;
  private readonly exitedPromise = new Promise<void>((r) => (this.resolveExit = r));

  constructor(
    readonly opts: LaneRuntimeOptions,
    readonly pid: number,
  ) {}

  /** The agent exits (as the pty would report it). */
  exit(code: number | null, signal: number | null = null): void {
    if (!this.alive) return;
    this.alive = false;
    this.resolveExit();
    this.opts.onExit({ code, signal });
  }
  whenExited = () => this.exitedPromise;
  outputRate = () => 0;
  activity = () => 'busy' as const;
  holdActivity = () => {};
  recorderDrained = () => {};
  drainForExit = () => {};
  write = (data: string) => void this.written.push(data);
  resize = () => {};
  syncScreen = async () => {};
  attach = () => () => {};
  dispose = () => {};
}

type Call = [fn: string, ...args: unknown[]];

function verdict(gate: string, status: GateVerdict['status'], commit: string, required = true): GateVerdict {
  return {
    gate,
    status,
    required,
    durationMs: 1,
    exitCode: 0,
    output: `${gate}: ${status}`,
    commit,
    stale: false,
    at: 1,
  };
}

/** A world that records what the supervisor asks of it; `script` says what it answers. */
function fakeWorld(worktreeRoot: string) {
  const calls: Call[] = [];
  const procs: FakeProcess[] = [];
  const script = {
    head: 'c0ffee1',
    empty: false,
    verdicts: (head: string): GateVerdict[] => [verdict('tests', 'PASS', head)],
    mergeError: null as Error | null,
    /** false: the merge finds the base already has everything */
    mergeChanges: true,
    /** when set, gates wait for it */
    gatesHeld: null as Promise<void> | null,
  };
  const rec =
    <A extends unknown[], R>(fn: string, answer: (...args: A) => R) =>
    (...args: A): R => {
      calls.push([fn, ...args]);
      return answer(...args);
    };
  const git: LaneGit = {
    createLaneWorktree: rec('createLaneWorktree', async (o) => {
      const p = path.join(worktreeRoot, o.lane);
      mkdirSync(p, { recursive: true });
      return { path: p, branch: `ao/${o.lane}`, baseCommit: 'base000', archivedRefs: [], notes: [] };
    }),
    removeLaneWorktree: rec('removeLaneWorktree', async (o) => ({
      archivedRef: `refs/ao/archive/${o.lane}/1`,
      archivedRefs: [],
      notes: [],
    })),
    currentBranch: rec('currentBranch', async () => 'main'),
    commitPendingChanges: rec('commitPendingChanges', async () => script.head),
    headCommit: rec('headCommit', async () => script.head),
    branchTip: rec('branchTip', async (_repo: string, branch: string) => (branch === 'main' ? 'base000' : script.head)),
    isEmptyAgainst: rec('isEmptyAgainst', async () => script.empty),
    diffStat: rec('diffStat', async () => (script.empty ? [] : [{ path: 'a.txt', added: 1, deleted: 0 }])),
    fullDiff: rec('fullDiff', async () => ''),
    laneCommits: rec('laneCommits', async () => []),
    mergeLane: rec('mergeLane', async () => {
      if (script.mergeError) throw script.mergeError;
      return { commit: 'merge0001', previous: 'base000', changed: script.mergeChanges };
    }),
    clearMergeIntent: rec('clearMergeIntent', () => {}),
    // the merge queue: base + lane is the lane's own tree (the base did not move), so its verdicts stand
    prepareLanding: rec('prepareLanding', async () => ({
      old: 'base000',
      laneHead: script.head,
      next: 'merge0001',
      tree: 'tree01',
      laneTree: 'tree01',
    })),
    withValidationWorktree: (o, fn) => {
      calls.push(['withValidationWorktree', o]);
      return fn(path.join(worktreeRoot, 'queue', o.name));
    },
  };
  const world: LaneWorld = {
    spawnRuntime: (opts) => {
      const proc = new FakeProcess(opts, 1000 + procs.length);
      calls.push(['spawnRuntime', { command: opts.command, args: opts.args, cwd: opts.cwd }]);
      procs.push(proc);
      return proc;
    },
    stopProcessTree: rec('stopProcessTree', async (o) => {
      procs.find((p) => p.pid === o.pid)?.exit(null, 15);
    }),
    runGates: rec('runGates', async (o) => {
      if (script.gatesHeld) await script.gatesHeld;
      const vs = script.verdicts(o.head);
      for (const v of vs) o.onVerdict?.(v);
      return vs;
    }),
    recorder: { append: () => true, keyframe: () => true, flush: async () => {}, close: async () => {} },
    git,
  };
  return { world, calls, procs, script };
}

describe('review flow (fake world)', () => {
  let dir: string;
  let db: Db;
  let sup: Supervisor;
  let w: ReturnType<typeof fakeWorld>;
  let events: SupervisorEvent[];
  const config = parseRepoConfig({}, { file: 'config.json', hasTestScript: false });

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ao-review-flow-'));
    const stateDir = path.join(dir, 'state');
    mkdirSync(stateDir);
    db = openDb(path.join(stateDir, 'ao.db'));
    w = fakeWorld(path.join(dir, 'worktrees'));
    sup = new Supervisor(
      { repoRoot: dir, stateDir, cols: 80, rows: 24, env: {}, tickMs: 3_600_000, stopGraceMs: 10 },
      { world: w.world, db, profiles: loadProfilesOrThrow(dir), config },
    );
    events = [];
    sup.on((e) => events.push(e));
  });
  afterEach(async () => {
    await sup.shutdown('test over');
    rmSync(dir, { recursive: true, force: true });
  });

  const state = (lane: string) => sup.getLane(lane)?.state;
  const calls = (fn: string) => w.calls.filter((c) => c[0] === fn).map((c) => c.slice(1));
  const moves = (lane: string) =>
    events.flatMap((e) => (e.type === 'lane-state' && e.lane === lane ? [`${e.from}→${e.to}`] : []));
  const laneId = (lane: string) => sup.getLane(lane)!.id;

  async function inReview(name = 'l1', task = 'add a.txt\nwith details') {
    await sup.newLane({ name, profile: 'demo', task });
    expect(state(name)).toBe('running');
    await sup.handoff(name);
    expect(state(name)).toBe('awaiting-approval');
    return sup.getLane(name)!;
  }

  it('hands off: commits what is pending, records the head, runs the gates on it, awaits approval', async () => {
    const lane = await inReview();
    expect(calls('commitPendingChanges')).toEqual([
      [lane.worktree, { message: 'add a.txt\n\nCommitted by ao-console at handoff of lane l1.', author: undefined }],
    ]);
    expect(calls('headCommit')).toEqual([[lane.worktree]]);
    expect(calls('isEmptyAgainst')).toEqual([[dir, 'main', 'c0ffee1']]);
    const [gateRun] = calls('runGates') as [Record<string, unknown>][];
    expect(gateRun[0]).toMatchObject({ gates: config.gates, worktree: lane.worktree, repoRoot: dir, base: 'main' });
    expect(gateRun[0].head).toBe('c0ffee1');
    expect(moves('l1')).toEqual(['created→starting', 'starting→running', 'running→gating', 'gating→awaiting-approval']);
    expect(events.filter((e) => e.type === 'gate-verdict')).toHaveLength(1);
    const review = await sup.review('l1');
    expect(review).toMatchObject({ head: 'c0ffee1', base: 'main', requiredPassed: true, empty: false });
    expect(review.verdicts.map((v) => [v.gate, v.status, v.stale])).toEqual([['tests', 'PASS', false]]);
    expect(sup.getLane('l1')!.gateSummary).toBe('1/1 pass');
  });

  it('approves by merging the branch, then closes the lane and removes its worktree', async () => {
    const lane = await inReview();
    await sup.approve('l1', { by: 'tester', wait: true });
    expect(calls('mergeLane')).toEqual([
      [
        {
          repoRoot: dir,
          base: 'main',
          branch: 'ao/l1',
          strategy: config.mergeStrategy,
          message: 'Merge lane l1: add a.txt',
          author: undefined,
          journal: { stateDir: path.join(dir, 'state'), lane: 'l1', laneId: lane.id },
          prepared: { old: 'base000', laneHead: 'c0ffee1', next: 'merge0001' },
        },
      ],
    ]);
    expect(state('l1')).toBe('merged');
    // the journal's intent is dropped only after the lane is recorded merged with its closure
    expect(calls('clearMergeIntent')).toEqual([[path.join(dir, 'state'), lane.id]]);
    const order = w.calls.map((c) => c[0]);
    expect(order.lastIndexOf('clearMergeIntent')).toBeGreaterThan(order.lastIndexOf('removeLaneWorktree'));
    // the live agent is stopped before its worktree goes
    expect(calls('stopProcessTree')[0]).toEqual([{ pid: 1000, procToken: expect.any(String), graceMs: 10 }]);
    expect(calls('removeLaneWorktree')).toEqual([
      [
        {
          repoRoot: dir,
          stateDir: path.join(dir, 'state'),
          lane: 'l1',
          worktreePath: lane.worktree,
          branch: 'ao/l1',
          base: 'main',
        },
      ],
    ]);
    // the closure measures the lane from where the base was before the merge
    expect(calls('laneCommits')).toEqual([[dir, 'base000', 'c0ffee1']]);
    expect(getClosure(db, lane.id)?.outcome).toBe('merged');
    expect(listDecisions(db, lane.id)).toEqual([
      expect.objectContaining({ action: 'approve', override: false, by: 'tester' }),
    ]);
  });

  it('needs an override to approve over a failed required gate, and records the finding', async () => {
    w.script.verdicts = (head) => [verdict('tests', 'FAIL', head), verdict('lint', 'FAIL', head, false)];
    await inReview();
    expect(events.filter((e) => e.type === 'lane-state').at(-1)).toMatchObject({ cause: 'gates failed: tests' });
    await expect(sup.approve('l1')).rejects.toMatchObject({ code: 'needs-override' });
    expect(calls('mergeLane')).toEqual([]);
    expect(state('l1')).toBe('awaiting-approval');
    expect(listLearnings(db).map((l) => [l.text, l.category, l.source])).toEqual([
      ['gate tests FAIL: tests: FAIL', 'finding', 'gate-failure'],
    ]);
    await sup.approve('l1', { override: true, by: 'tester', wait: true });
    expect(calls('mergeLane')).toHaveLength(1);
    expect(state('l1')).toBe('merged');
    expect(listDecisions(db, laneId('l1'))).toEqual([expect.objectContaining({ action: 'approve', override: true })]);
  });

  it('refuses to approve an empty lane (nothing to merge: discard it instead), and lets it be discarded', async () => {
    w.script.empty = true;
    await inReview();
    expect(calls('runGates')).toEqual([]);
    expect(sup.getLane('l1')!.empty).toBe(true);
    await expect(sup.approve('l1')).rejects.toMatchObject({
      code: 'nothing-to-merge',
      message: 'nothing to merge: lane l1 has no commits beyond main; discard it instead',
    });
    await expect(sup.approve('l1', { override: true })).rejects.toMatchObject({ code: 'nothing-to-merge' });
    expect(calls('mergeLane')).toEqual([]);
    expect(state('l1')).toBe('awaiting-approval');
    expect(moves('l1').at(-1)).toBe('gating→awaiting-approval');
    expect(listDecisions(db, laneId('l1'))).toEqual([]);
    expect(getClosure(db, laneId('l1'))).toBeUndefined();
    await sup.reject('l1', { reason: 'nothing to merge', mode: 'discard' });
    expect(state('l1')).toBe('discarded');
  });

  it('a merge that finds the base already has the lane changes nothing and says nothing to merge', async () => {
    await inReview();
    w.script.mergeChanges = false;
    await expect(sup.approve('l1', { wait: true })).rejects.toMatchObject({ code: 'nothing-to-merge' });
    expect(state('l1')).toBe('awaiting-approval');
    expect(calls('removeLaneWorktree')).toEqual([]);
    expect(getClosure(db, laneId('l1'))).toBeUndefined();
  });

  it('returns a lane whose merge failed to awaiting approval, with the reason', async () => {
    await inReview();
    w.script.mergeError = new Error('conflict in a.txt');
    await expect(sup.approve('l1', { wait: true })).rejects.toMatchObject({
      code: 'conflict',
      message: 'merge of lane "l1" failed: conflict in a.txt',
    });
    expect(state('l1')).toBe('awaiting-approval');
    expect(events.filter((e) => e.type === 'lane-state').at(-1)).toMatchObject({
      from: 'merging',
      to: 'awaiting-approval',
      cause: 'conflict in a.txt',
    });
    expect(calls('removeLaneWorktree')).toEqual([]);
    expect(calls('clearMergeIntent')).toEqual([]);
    // the review says why, until the next handoff
    expect((await sup.review('l1')).mergeFailure).toMatchObject({ reason: 'conflict in a.txt' });
    expect(listEvents(db, laneId('l1'), { kind: 'merge-failed' }).map((e) => e.cause)).toEqual(['conflict in a.txt']);
    await sup.rerunGates('l1');
    expect((await sup.review('l1')).mergeFailure).toBeNull();
  });

  it('rework: types the reason into a live agent', async () => {
    await inReview();
    await sup.reject('l1', { reason: 'use tabs\nnot spaces', mode: 'rework' });
    expect(state('l1')).toBe('running');
    expect(sup.getLane('l1')!.reworkCount).toBe(1);
    expect(w.procs).toHaveLength(1);
    expect(w.procs[0].written).toEqual(['The operator rejected your work: use tabs not spaces. Please rework it.\r']);
    expect(listLearnings(db).map((l) => [l.text, l.category, l.source])).toEqual([
      ['use tabs\nnot spaces', 'constraint', 'rejection'],
    ]);
  });

  it('rework: resumes an agent that has exited, with the reason as its task', async () => {
    await inReview();
    w.procs[0].exit(0); // the agent exits after its handoff: the lane stays in review
    expect(state('l1')).toBe('awaiting-approval');
    await sup.reject('l1', { reason: 'too slow', mode: 'rework' });
    expect(state('l1')).toBe('running');
    const spawns = calls('spawnRuntime') as [{ args: string[] }][];
    expect(spawns).toHaveLength(2);
    expect(spawns[1][0].args.at(-1)).toBe('The operator rejected your work: too slow. Please rework it.');
    expect(moves('l1').slice(-1)).toEqual(['awaiting-approval→running']);
    expect(listEvents(db, laneId('l1'), { kind: 'spawned' })).toHaveLength(1);
  });

  it('discard: stops the agent and closes the lane, its work archived', async () => {
    const lane = await inReview();
    await sup.reject('l1', { reason: 'not needed', mode: 'discard' });
    expect(calls('stopProcessTree')[0]).toEqual([{ pid: 1000, procToken: expect.any(String), graceMs: 10 }]);
    expect(state('l1')).toBe('discarded');
    expect(calls('removeLaneWorktree')).toHaveLength(1);
    expect(getClosure(db, lane.id)?.outcome).toBe('discarded');
    expect(listEvents(db, lane.id, { kind: 'archive' }).map((e) => e.cause)).toEqual([
      'work kept at refs/ao/archive/l1/1',
    ]);
  });

  it('discards a failed lane, but does not send it back for rework', async () => {
    await sup.newLane({ name: 'l1', profile: 'demo', task: 'x' });
    w.procs[0].exit(1);
    expect(state('l1')).toBe('failed');
    await expect(sup.reject('l1', { reason: 'no', mode: 'rework' })).rejects.toMatchObject({
      code: 'bad-state',
      message: 'lane "l1" is failed; only a lane that is awaiting approval can be sent back for rework',
    });
    await sup.reject('l1', { reason: 'gave up', mode: 'discard' });
    expect(state('l1')).toBe('discarded');
  });

  it('re-runs the gates through the state machine, only for a lane in review', async () => {
    await sup.newLane({ name: 'l1', profile: 'demo', task: 'x' });
    await expect(sup.rerunGates('l1')).rejects.toMatchObject({ code: 'bad-state' });
    expect(calls('runGates')).toEqual([]);
    await sup.handoff('l1');
    w.script.head = 'beef002';
    await sup.rerunGates('l1');
    expect(calls('runGates').map(([o]) => (o as { head: string }).head)).toEqual(['c0ffee1', 'beef002']);
    expect(moves('l1').slice(-2)).toEqual(['awaiting-approval→gating', 'gating→awaiting-approval']);
    const stored = listEvents(db, laneId('l1'), { kind: 'state' }).map((e) => [e.fromState, e.toState, e.cause]);
    expect(stored).toContainEqual(['awaiting-approval', 'gating', 're-run gates']);
  });

  it('stops a running lane and closes its run as interrupted; a stopped lane or one in review is refused', async () => {
    await sup.newLane({ name: 'l1', profile: 'demo', task: 'x' });
    await sup.stop('l1');
    expect(state('l1')).toBe('stopped');
    expect(calls('stopProcessTree')[0]).toEqual([{ pid: 1000, procToken: expect.any(String), graceMs: 10 }]);
    expect(getClosure(db, laneId('l1'))?.outcome).toBe('interrupted');
    await expect(sup.stop('l1')).rejects.toMatchObject({
      code: 'bad-state',
      message:
        'lane "l1" is stopped; only a lane that is created, queued, starting, running, idle, waiting input or gating can be stopped',
    });
    await inReview('l2');
    await expect(sup.stop('l2')).rejects.toMatchObject({ code: 'bad-state' });
    expect(state('l2')).toBe('awaiting-approval');
  });
});
