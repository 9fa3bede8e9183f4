/**
 * The supervisor: the one object every front end drives (SupervisorApi). It holds the lane table,
 * answers reads, serialises each lane's actions and hands them to the job that does them:
 * launch.ts (new lanes, agents, the queue, the activity timer, stop, remove and resume), reviewFlow.ts
 * (handoff, gates, approve, reject, re-run gates), learningsCapture.ts and closure.ts.
 * createSupervisor is the one place that builds the real world (ptys, recorder, git, gates).
 */
import { randomUUID } from 'node:crypto';
import { ActionError } from './api.js';
import type {
  AttachHandle,
  ConsoleMetrics,
  OutcomeCount,
  LearningInfo,
  MergeQueueInfo,
  NewComment,
  NewLaneRequest,
  RejectMode,
  ReviewComment,
  ReviewInfo,
  SupervisorApi,
  SupervisorEvent,
} from './api.js';
import type { LaneSnapshot, StyledRow } from '../lane/types.js';
import { allows, isLive } from '../lane/rules.js';
import { LaneRuntime } from '../lane/laneRuntime.js';
import { stopProcessTree } from '../process/reaper.js';
import { Recorder, type RecorderStall } from '../recording/recorder.js';
import { createLaneWorktree, headCommit, removeLaneWorktree } from '../git/worktree.js';
import { commitPendingChanges, diffStat, fullDiff, isEmptyAgainst } from '../git/handoffCommit.js';
import { branchTip } from '../git/refs.js';
import { currentBranch } from '../git/repo.js';
import { laneCommits } from '../git/log.js';
import { mergeLane } from '../git/merge.js';
import { prepareLanding, withValidationWorktree } from '../git/landing.js';
import { clearMergeIntent } from '../git/mergeIntent.js';
import { runGates } from '../gates/runGates.js';
import { gateSummary } from './review.js';
import { recoverCrashedSessions } from './recovery.js';
import { ensureStateDir, dbFile } from '../config/paths.js';
import { openDb } from '../store/open.js';
import * as sessionsDb from '../store/sessions.js';
import { outcomesClosedSince } from '../store/history.js';
import * as lanesDb from '../store/lanes.js';
import * as learningsDb from '../learnings/store.js';
import { computeMetrics } from '../learnings/metrics.js';
import { loadProfilesOrThrow } from '../../profiles/loader.js';
import { loadRepoConfig } from '../config/repoConfig.js';
import { watchConfig, type ConfigWatch } from '../config/watch.js';
import { SupervisorCore, WAIT_FOR_EXIT_MS, sleep, type LaneRecord, type SupervisorOptions } from './context.js';
import type { LaneGit, SupervisorDeps } from './world.js';
import { launchLane, removeLane, resumeLane, stopLane, tick, waitsToStart } from './launch.js';
import { closeLane } from './closure.js';
import * as reviewFlow from './reviewFlow.js';
import { MergeQueue } from './mergeQueue.js';
import { captureLearning } from './learningsCapture.js';
import * as comments from './comments.js';
import { startUsageTracker } from './usage.js';

export type { SupervisorOptions } from './context.js';

/** The git a real supervisor runs (lanes/git/). */
const realGit: LaneGit = {
  createLaneWorktree,
  removeLaneWorktree,
  currentBranch: async (repoRoot) => (await currentBranch(repoRoot)) || null,
  commitPendingChanges,
  headCommit: (worktree) => headCommit(worktree),
  branchTip,
  isEmptyAgainst,
  diffStat,
  fullDiff,
  laneCommits,
  mergeLane,
  prepareLanding,
  withValidationWorktree,
  clearMergeIntent,
};

/** Creates the supervisor: recovers earlier sessions, opens a new one, and starts the activity timer. */
export async function createSupervisor(opts: SupervisorOptions): Promise<Supervisor> {
  ensureStateDir(opts.stateDir);
  const profiles = loadProfilesOrThrow(opts.repoRoot);
  const config = await loadRepoConfig(opts.repoRoot);
  const db = openDb(dbFile(opts.stateDir));
  const recovery = await recoverCrashedSessions({ db, repoRoot: opts.repoRoot, stateDir: opts.stateDir });
  let sup: Supervisor | null = null;
  const recorder = Recorder.open(dbFile(opts.stateDir), {
    onError: (err) => sup?.reportError(`recording failed: ${err.message}`),
    onDrain: () => sup?.recorderDrained(),
    onStall: (stall) => sup?.recordingStalled(stall),
  });
  const world = {
    spawnRuntime: (o: ConstructorParameters<typeof LaneRuntime>[0]) => new LaneRuntime(o),
    stopProcessTree,
    runGates,
    recorder,
    git: realGit,
  };
  sup = new Supervisor(opts, { world, db, profiles, config });
  sup.recoveryNotes = [...recovery.notes, ...sup.queueNotes];
  return sup;
}

/**
 * Ties the engine together: lanes, their processes, recording, gates, review and closure,
 * driven through the lane state machine. Every front end talks to it through SupervisorApi.
 */
export class Supervisor implements SupervisorApi {
  readonly sessionId = randomUUID();
  readonly repoRoot: string;
  readonly profiles: SupervisorDeps['profiles'];
  /** the repo config in use (reloaded when .ao/config.json changes: lanes/config/watch.ts) */
  get config(): SupervisorDeps['config'] {
    return this.core.config;
  }
  private readonly configWatch: ConfigWatch;
  recoveryNotes: string[] = [];
  private readonly core: SupervisorCore;
  /** approved lanes landing one at a time, validated on the merged tree (./mergeQueue.ts) */
  private readonly queue: MergeQueue;
  /** what the merge queue found at start (entries restarted or dropped) */
  readonly queueNotes: string[];
  /** the lanes front ends draw now (watchScreens) */
  private watched = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(opts: SupervisorOptions, deps: SupervisorDeps) {
    this.repoRoot = opts.repoRoot;
    this.profiles = deps.profiles;
    const core = new SupervisorCore(this.sessionId, opts, deps);
    core.hooks = {
      handoff: (lane, cause) => this.handoff(lane.row.name, cause),
      gate: (lane) => reviewFlow.gate(core, lane),
    };
    this.core = core;
    core.usage = startUsageTracker(core, { pollMs: opts.usagePollMs });
    this.configWatch = watchConfig({
      repoRoot: opts.repoRoot,
      profiles: deps.profiles,
      onConfig: (config) => {
        deps.config = config;
        core.usage?.configChanged();
      },
      report: (ev) => core.emit(ev),
    });
    sessionsDb.createSession(deps.db, { id: this.sessionId, repo: opts.repoRoot, pid: process.pid });
    // Lanes of earlier sessions that can still be resumed stay visible.
    for (const row of lanesDb.listOpenLanes(deps.db)) core.track(row);
    this.queue = new MergeQueue(core);
    core.queue = this.queue;
    this.queueNotes = this.queue.start();
    this.timer = setInterval(() => {
      tick(core);
      if (this.watched.size > 0) this.applyWatched();
    }, opts.tickMs ?? 250);
    this.timer.unref();
  }

  // ---------------------------------------------------------------- reading

  listLanes(): LaneSnapshot[] {
    return [...this.core.lanes.values()].map((l) => this.snapshot(l));
  }

  getLane(name: string): LaneSnapshot | undefined {
    const lane = this.core.lanes.get(name);
    return lane ? this.snapshot(lane) : undefined;
  }

  screenText(name: string): string[] {
    return this.runtimeOf(name)?.terminal.text() ?? [];
  }

  screenAnsi(name: string): string[] {
    return this.runtimeOf(name)?.terminal.ansiLines() ?? [];
  }

  screenStyled(name: string): StyledRow[] {
    return this.runtimeOf(name)?.terminal.styled() ?? [];
  }

  cursor(name: string): { x: number; y: number; visible: boolean } {
    return this.runtimeOf(name)?.terminal.cursor() ?? { x: 0, y: 0, visible: false };
  }

  on(listener: (event: SupervisorEvent) => void): () => void {
    return this.core.on(listener);
  }

  async review(name: string): Promise<ReviewInfo> {
    const lane = this.core.require(name);
    return { ...(await reviewFlow.reviewOf(this.core, lane)), mergedTreeFailure: this.queue.lastFailure(lane) };
  }

  // ---------------------------------------------------------------- actions

  async newLane(req: NewLaneRequest): Promise<LaneSnapshot> {
    return this.snapshot(await launchLane(this.core, req));
  }

  send(name: string, data: string): void {
    const runtime = this.runtimeOf(name);
    if (!runtime?.alive) throw new ActionError(`lane "${name}" has no running agent`, 'bad-state');
    runtime.write(data);
  }

  resize(name: string, cols: number, rows: number): void {
    const lane = this.core.require(name);
    if (cols === lane.row.cols && rows === lane.row.rows) return;
    // The replay resizes its emulator before chunk `seq` (src/replay/player.ts).
    this.core.logEvent(lane, 'resize', `${cols}x${rows}`, {
      cols,
      rows,
      fromCols: lane.row.cols,
      fromRows: lane.row.rows,
      seq: lane.runtime?.nextSeq ?? lane.nextSeq,
    });
    lane.runtime?.resize(cols, rows);
    lane.row = lanesDb.updateLane(this.core.db, lane.row.id, { cols, rows });
  }

  async syncScreen(name: string): Promise<void> {
    await this.runtimeOf(name)?.syncScreen();
  }

  async attach(
    name: string,
    onData: (data: string) => void,
    size?: { cols: number; rows: number },
  ): Promise<AttachHandle> {
    const lane = this.core.require(name);
    const runtime = lane.runtime;
    if (!runtime?.alive) {
      throw new ActionError(`lane "${name}" is ${lane.row.state} and has no running agent to attach to`, 'bad-state');
    }
    if (size) this.resize(name, size.cols, size.rows);
    return runtime.attach(onData);
  }

  watchScreens(names: string[]): void {
    this.watched = new Set(names);
    this.applyWatched();
  }

  /** Tells each lane's emulator whether a front end draws it (a lane started since is caught by the timer). */
  private applyWatched(): void {
    for (const [name, lane] of this.core.lanes) lane.runtime?.setWatched?.(this.watched.has(name));
  }

  handoff(name: string, cause = 'operator'): Promise<void> {
    const lane = this.core.require(name);
    return this.core.serial(lane, () => reviewFlow.handoff(this.core, lane, cause));
  }

  reportWaiting(name: string, cause = 'agent hook'): void {
    const lane = this.core.require(name);
    const runtime = lane.runtime;
    if (!runtime?.alive || !allows(lane.row.state, 'wait-input')) {
      throw new ActionError(
        `lane "${name}" is ${lane.row.state}; only a running agent can wait for input`,
        'bad-state',
      );
    }
    runtime.holdActivity('waiting-input', cause);
    this.core.move(lane, { type: 'activity', activity: 'waiting-input' }, `${cause}: waiting for input`, {
      source: 'hook',
    });
  }

  rerunGates(name: string): Promise<void> {
    const lane = this.core.require(name);
    return this.core.serial(lane, () => reviewFlow.rerunGates(this.core, lane));
  }

  async approve(name: string, opts: { override?: boolean; by?: string; wait?: boolean } = {}): Promise<void> {
    const lane = this.core.require(name);
    const { wait, ...rest } = opts;
    // Waiting starts in the approval's own turn: the queue takes the lane up only after it.
    // (wrapped: a promise returned as is would hold the lane's turn until it landed)
    const { landed } = await this.core.serial(lane, async () => {
      await reviewFlow.approve(this.core, lane, rest);
      return { landed: wait ? this.queue.whenLanded(lane) : null };
    });
    await landed;
  }

  async mergeQueue(): Promise<MergeQueueInfo> {
    this.core.assertOpen();
    return this.queue.info();
  }

  async moveInQueue(name: string, position: number): Promise<MergeQueueInfo> {
    return this.queue.move(name, position);
  }

  removeFromQueue(name: string): Promise<void> {
    return this.queue.remove(name);
  }

  async pauseQueue(paused: boolean): Promise<MergeQueueInfo> {
    this.core.assertOpen();
    return this.queue.pause(paused);
  }

  reject(name: string, opts: { reason: string; mode: RejectMode; by?: string }): Promise<void> {
    const lane = this.core.require(name);
    const reason = opts.reason.trim();
    if (!reason) return Promise.reject(new ActionError('a rejection needs a reason', 'bad-input'));
    return this.core.serial(lane, () => reviewFlow.reject(this.core, lane, { ...opts, reason }));
  }

  stop(name: string): Promise<void> {
    return this.cutIn(name, 'stop', 'stopped by operator', (lane) => stopLane(this.core, lane));
  }

  remove(name: string): Promise<void> {
    return this.cutIn(name, 'remove', 'removed by operator', (lane) => removeLane(this.core, lane));
  }

  resume(name: string): Promise<void> {
    const lane = this.core.require(name);
    return this.core.serial(lane, async () => resumeLane(this.core, lane));
  }

  async addLearning(text: string, laneName?: string): Promise<void> {
    const clean = text.trim();
    if (!clean) throw new ActionError('a learning needs text', 'bad-input');
    const lane = laneName ? this.core.require(laneName) : undefined;
    captureLearning(this.core, lane ?? null, clean, 'note', 'operator');
    this.core.emit({ type: 'learning', text: clean, lane: laneName });
  }

  async listLearnings(
    query?: string,
    opts: { includeTombstoned?: boolean; limit?: number } = {},
  ): Promise<LearningInfo[]> {
    return learningsDb.listLearnings(this.core.db, { query, ...opts });
  }

  async tombstoneLearning(id: number, reason: string): Promise<void> {
    if (!reason.trim()) throw new ActionError('a tombstone needs a reason', 'bad-input');
    this.learningNotFound(() => learningsDb.tombstoneLearning(this.core.db, id, reason));
  }

  async editLearning(id: number, text: string): Promise<void> {
    if (!text.trim()) throw new ActionError('a learning needs text', 'bad-input');
    this.learningNotFound(() => learningsDb.editLearning(this.core.db, id, text));
  }

  async metrics(): Promise<ConsoleMetrics> {
    return computeMetrics(this.core.db);
  }

  async pastOutcomes(since: number): Promise<OutcomeCount[]> {
    return outcomesClosedSince(this.core.db, since, this.sessionId);
  }

  // Review comments (./comments.ts). Not serialised with the lane's actions: a comment is
  // written while gates run; one added after a rework took the drafts waits for the next round.
  async listComments(name: string): Promise<ReviewComment[]> {
    return comments.listComments(this.core, this.core.require(name));
  }

  async addComment(name: string, comment: NewComment): Promise<ReviewComment> {
    return comments.addComment(this.core, this.core.require(name), comment);
  }

  async editComment(name: string, id: number, text: string): Promise<ReviewComment> {
    return comments.editComment(this.core, this.core.require(name), id, text);
  }

  async deleteComment(name: string, id: number): Promise<void> {
    comments.deleteComment(this.core, this.core.require(name), id);
  }

  async shutdown(cause = 'console shut down'): Promise<void> {
    const core = this.core;
    if (core.closed) return;
    core.closed = true;
    clearInterval(this.timer);
    // paused agents go on first, so they can exit
    core.usage?.close();
    this.configWatch.close();
    this.queue.close();
    // Running gates are cancelled (their process groups killed); actions in flight get a moment.
    core.aborter.abort();
    await Promise.race([Promise.all([...core.lanes.values()].map((l) => l.chain)), sleep(WAIT_FOR_EXIT_MS)]);
    const live = [...core.lanes.values()].filter((l) => l.runtime?.alive);
    // Every step runs whatever failed before it (a recorder that died, a closure that could not be
    // written): the agents are stopped, the session ended and the store closed; the first failure
    // is thrown after.
    const failures: unknown[] = [];
    await Promise.all(
      live.map(async (lane) => {
        // Interrupted first, so the agent's exit (by our signal) does not read as a failure.
        const wasLive = isLive(lane.row.state);
        if (wasLive) core.move(lane, { type: 'interrupt' }, cause);
        await core.stopRuntime(lane);
        if (wasLive) await closeLane(core, lane, 'interrupted', false).catch((err: unknown) => failures.push(err));
      }),
    );
    for (const lane of core.lanes.values()) {
      if (waitsToStart(lane.row.state)) core.move(lane, { type: 'stop' }, cause);
      lane.runtime?.dispose();
    }
    await core.world.recorder.close().catch((err: unknown) => failures.push(err));
    sessionsDb.endSession(core.db, this.sessionId, cause);
    core.db.close();
    if (failures.length > 0) throw failures[0];
  }

  /** @internal the recorder caught up: lanes paused for it read again */
  recorderDrained(): void {
    for (const lane of this.core.lanes.values()) lane.runtime?.recorderDrained();
  }

  /** Resolves when every output chunk received so far is committed to the database. */
  flushRecording(): Promise<void> {
    return this.core.world.recorder.flush();
  }

  /** Reports an engine failure that belongs to no action (e.g. the recorder) to every front end. */
  reportError(message: string, lane?: string): void {
    this.core.reportError(message, lane);
  }

  /**
   * @internal the database stopped taking the recording (a stall), or takes it again (null):
   * one event per lane whose output waits (lanes/recording/recorder.ts pauses them all).
   */
  recordingStalled(stall: RecorderStall | null): void {
    const lanes = [...this.core.lanes.values()].filter((l) => l.runtime?.alive || stall?.laneIds.includes(l.row.id));
    for (const { row } of lanes) {
      if (!stall) {
        this.core.emit({ type: 'notice', lane: row.name, message: 'recording is written again; nothing was lost' });
        continue;
      }
      const then = stall.retrying
        ? 'its output waits in memory and the agent is paused on output, nothing is lost; writing is retried every few seconds (free disk space or make the file writable)'
        : 'its output waits in memory and the agent is paused on output; the file is not written again: stop the lane, then run `ao-console doctor --repair`';
      this.core.reportError(
        `recording of lane ${row.name} cannot be written to ${stall.file} (${stall.code}: ${stall.message}): ${then}`,
        row.name,
      );
    }
  }

  // ---------------------------------------------------------------- internals

  private snapshot(lane: LaneRecord): LaneSnapshot {
    const { row, runtime } = lane;
    const verdicts = row.headCommit ? this.core.verdictsOf(lane) : [];
    return {
      id: row.id,
      name: row.name,
      sessionId: row.sessionId,
      profile: row.profile,
      task: row.task,
      branch: row.branch,
      base: row.base,
      worktree: row.worktree,
      state: row.state,
      stateSince: row.stateSince,
      createdAt: row.createdAt,
      exitCode: row.exitCode,
      exitSignal: row.exitSignal,
      reworkCount: row.reworkCount,
      outputBytes: lane.bytesBefore + (runtime ? runtime.outputBytes : 0),
      outputRate: runtime?.alive ? lane.outputRate : 0,
      lastLine: runtime ? runtime.terminal.lastLine() : lane.lastLine,
      gateSummary: gateSummary(verdicts),
      empty: row.empty,
      cols: row.cols,
      rows: row.rows,
      alive: !!runtime?.alive,
      ...usageOf(this.core, row.id),
      ...placeIn(this.queue, row.id),
    };
  }

  /**
   * An action that cuts into whatever the lane is doing (stop, remove): refused at once when the
   * rules say no (a merge in flight), else the lane's gate run is cancelled (their process groups
   * killed) so the action's turn comes now, not when the gates end.
   */
  private cutIn(
    name: string,
    action: 'stop' | 'remove',
    why: string,
    fn: (lane: LaneRecord) => Promise<void>,
  ): Promise<void> {
    try {
      const lane = this.core.require(name);
      this.core.assertAllowed(lane, action);
      this.core.cancelGates(lane, why);
      return this.core.serial(lane, () => fn(lane));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private runtimeOf(name: string) {
    return this.core.lanes.get(name)?.runtime ?? null;
  }

  private learningNotFound(fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof learningsDb.LearningNotFoundError) throw new ActionError(err.message, 'not-found');
      throw err;
    }
  }
}

/** The lane's tokens and cost, as a snapshot field (none before its agent's first record). */
function usageOf(core: SupervisorCore, laneId: number): Pick<LaneSnapshot, 'usage'> {
  const usage = core.usage?.usageOf(laneId);
  return usage ? { usage } : {};
}

/** The lane's place in the merge queue, as a snapshot field (none when it is not in it). */
function placeIn(queue: MergeQueue, laneId: number): Pick<LaneSnapshot, 'queue'> {
  const place = queue.place(laneId);
  return place ? { queue: place } : {};
}
