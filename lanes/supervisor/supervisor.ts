import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import type Database from 'better-sqlite3';
import { ActionError } from './api.js';
import type {
  ConsoleMetrics,
  Decision,
  GateVerdict,
  LearningInfo,
  NewLaneRequest,
  RejectMode,
  ReviewInfo,
  SupervisorApi,
  SupervisorEvent,
} from './api.js';
import type { LaneEvent, LaneSnapshot, LaneState, StyledRow } from '../lane/types.js';
import { LIVE_STATES } from '../lane/types.js';
import { InvalidTransitionError, transition } from '../lane/stateMachine.js';
import { validateLaneName } from '../lane/names.js';
import { git } from '../git/git.js';
import { LaneRuntime } from '../lane/laneRuntime.js';
import { buildAgentEnv } from '../process/agentEnv.js';
import { stopProcessTree } from '../process/reaper.js';
import { Recorder } from '../recording/recorder.js';
import { createLaneWorktree, headCommit, removeLaneWorktree } from '../git/worktree.js';
import { commitPendingChanges, diffStat, fullDiff, isEmptyAgainst } from '../git/handoffCommit.js';
import { runGates, isStale } from '../gates/runGates.js';
import { mergeLane } from '../git/merge.js';
import { writeBriefingFile } from '../learnings/briefing.js';
import { firstLine, gateSummary, laneCommits, requiredPassed, summarize } from './review.js';
import { recoverCrashedSessions } from './recovery.js';
import { buildClosure } from './closure.js';
import { ensureStateDir, dbFile } from '../config/paths.js';
import { openDb } from '../store/open.js';
import * as sessionsDb from '../store/sessions.js';
import * as lanesDb from '../store/lanes.js';
import * as reviewDb from '../store/review.js';
import * as eventsDb from '../store/events.js';
import * as learningsDb from '../learnings/store.js';
import { buildContextPacket } from '../learnings/packet.js';
import { harvestWorktree } from '../learnings/transfer.js';
import { computeMetrics } from '../learnings/metrics.js';
import { outputTotals } from '../store/output.js';
import { loadProfilesOrThrow, expandArgs } from '../../profiles/loader.js';
import { compilePatterns } from '../../profiles/schema.js';
import type { LoadedProfile } from '../../profiles/loader.js';
import { loadRepoConfig } from '../config/repoConfig.js';
import type { RepoConfig } from '../config/repoConfig.js';

export interface SupervisorOptions {
  repoRoot: string;
  stateDir: string;
  cols: number;
  rows: number;
  /** the console's environment, filtered by the allowlist before it reaches an agent */
  env?: NodeJS.ProcessEnv;
  /** activity check period (ms) */
  tickMs?: number;
  /** grace between SIGTERM and SIGKILL when stopping a lane */
  stopGraceMs?: number;
}

interface LaneRecord {
  row: lanesDb.LaneRow;
  runtime: LaneRuntime | null;
  /** the task was typed into an agent whose profile takes it on stdin */
  taskTyped: boolean;
  /** serialises the lane's actions */
  chain: Promise<unknown>;
  outputRate: number;
  lastLine: string;
  profile: LoadedProfile;
  /** the next output sequence number (null until first needed) */
  nextSeq: number | null;
  /** output bytes recorded by earlier runs of this lane */
  bytesBefore: number;
  /** the base commit a merge started from (set by approve) */
  mergedFrom?: string;
  /** the verdicts of the latest gate run; undefined until first read from the store */
  verdicts?: GateVerdict[];
}

const WAIT_FOR_EXIT_MS = 5000;
const ABANDONABLE: ReadonlySet<LaneState> = new Set(['failed', 'stopped', 'interrupted']);

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
  });
  sup = new Supervisor(opts, db, recorder, profiles, config);
  sup.recoveryNotes = recovery.notes;
  return sup;
}

/**
 * Ties the engine together: lanes, their processes, recording, gates, review and closure,
 * driven through the lane state machine. Every front end talks to it through SupervisorApi.
 */
export class Supervisor implements SupervisorApi {
  readonly sessionId = randomUUID();
  readonly repoRoot: string;
  recoveryNotes: string[] = [];
  private readonly lanes = new Map<string, LaneRecord>();
  private readonly emitter = new EventEmitter();
  private readonly timer: NodeJS.Timeout;
  private readonly env: NodeJS.ProcessEnv;
  private closed = false;
  private readonly aborter = new AbortController();

  constructor(
    private readonly opts: SupervisorOptions,
    private readonly db: Database.Database,
    private readonly recorder: Recorder,
    readonly profiles: Map<string, LoadedProfile>,
    readonly config: RepoConfig,
  ) {
    this.repoRoot = opts.repoRoot;
    this.env = opts.env ?? process.env;
    this.emitter.setMaxListeners(0);
    sessionsDb.createSession(db, { id: this.sessionId, repo: opts.repoRoot, pid: process.pid });
    // Lanes of earlier sessions that can still be resumed stay visible.
    for (const row of lanesDb.listOpenLanes(db)) this.track(row);
    this.timer = setInterval(() => this.tick(), opts.tickMs ?? 250);
    this.timer.unref();
  }

  // ---------------------------------------------------------------- reading

  listLanes(): LaneSnapshot[] {
    return [...this.lanes.values()].map((l) => this.snapshot(l));
  }

  getLane(name: string): LaneSnapshot | undefined {
    const lane = this.lanes.get(name);
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
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  async review(name: string): Promise<ReviewInfo> {
    const lane = this.require(name);
    // The branch as it is now: a commit after the handoff makes the verdicts stale.
    const head = (await this.branchTip(lane)) ?? lane.row.headCommit;
    const verdicts = this.verdictsOf(lane, head);
    const stat = head ? await diffStat(this.repoRoot, lane.row.base, head) : [];
    const diff = head ? await fullDiff(this.repoRoot, lane.row.base, head) : '';
    return {
      lane: name,
      head,
      base: lane.row.base,
      empty: lane.row.empty,
      verdicts,
      diffStat: stat,
      diff,
      requiredPassed: requiredPassed(verdicts),
    };
  }

  // ---------------------------------------------------------------- actions

  async newLane(req: NewLaneRequest): Promise<LaneSnapshot> {
    this.assertOpen();
    try {
      validateLaneName(req.name);
    } catch (err) {
      throw new ActionError((err as Error).message, 'bad-input');
    }
    const profile = this.profiles.get(req.profile);
    if (!profile) {
      throw new ActionError(
        `unknown profile "${req.profile}" (known: ${[...this.profiles.keys()].sort().join(', ')})`,
        'bad-input',
      );
    }
    if (!req.task.trim() && profile.taskInput !== 'none') throw new ActionError('the task is empty', 'bad-input');
    const existing = this.lanes.get(req.name);
    if (existing && existing.row.closedAt === null) {
      throw new ActionError(
        `a lane named "${req.name}" already exists (${existing.row.state}); pick another name, or discard it first`,
        'conflict',
      );
    }
    const base = req.base ?? this.config.baseBranch ?? (await this.currentBranch());
    const wt = await createLaneWorktree({
      repoRoot: this.repoRoot,
      stateDir: this.opts.stateDir,
      lane: req.name,
      base,
    }).catch((err: Error) => {
      throw new ActionError(err.message, 'bad-input');
    });
    const now = Date.now();
    const row = lanesDb.insertLane(this.db, {
      name: req.name,
      sessionId: this.sessionId,
      profile: profile.name,
      task: req.task,
      branch: wt.branch,
      base,
      worktree: wt.path,
      state: 'created',
      createdAt: now,
      cols: this.opts.cols,
      rows: this.opts.rows,
    });
    existing?.runtime?.dispose();
    const lane = this.track(row); // a closed lane of the same name stays in history, not here
    for (const note of wt.notes) this.logEvent(lane, 'note', note);
    this.emit({ type: 'lane-created', lane: req.name });
    if (this.liveCount() >= this.config.maxConcurrentLanes) {
      this.move(lane, { type: 'queue' }, `more than ${this.config.maxConcurrentLanes} lanes running`);
    } else {
      this.spawn(lane, 'start');
    }
    return this.snapshot(lane);
  }

  send(name: string, data: string): void {
    const runtime = this.runtimeOf(name);
    if (!runtime?.alive) throw new ActionError(`lane "${name}" has no running agent`, 'bad-state');
    runtime.write(data);
  }

  resize(name: string, cols: number, rows: number): void {
    const lane = this.require(name);
    if (cols === lane.row.cols && rows === lane.row.rows) return;
    // The replay resizes its emulator before chunk `seq` (src/replay/player.ts).
    this.logEvent(lane, 'resize', `${cols}x${rows}`, {
      cols,
      rows,
      fromCols: lane.row.cols,
      fromRows: lane.row.rows,
      seq: lane.runtime?.nextSeq ?? lane.nextSeq,
    });
    lane.runtime?.resize(cols, rows);
    lane.row = lanesDb.updateLane(this.db, lane.row.id, { cols, rows });
  }

  async syncScreen(name: string): Promise<void> {
    await this.runtimeOf(name)?.syncScreen();
  }

  attach(name: string, onData: (data: string) => void): () => void {
    const runtime = this.runtimeOf(name);
    if (!runtime?.alive) throw new ActionError(`lane "${name}" has no running agent to attach to`, 'bad-state');
    return runtime.attach(onData);
  }

  handoff(name: string, cause = 'operator'): Promise<void> {
    const lane = this.require(name);
    return this.serial(lane, async () => {
      this.move(lane, { type: 'handoff' }, cause);
      await this.gate(lane);
    });
  }

  reportWaiting(name: string, cause = 'agent hook'): void {
    const lane = this.require(name);
    const runtime = lane.runtime;
    if (!runtime?.alive || !LIVE_STATES.has(lane.row.state) || lane.row.state === 'starting') {
      throw new ActionError(
        `lane "${name}" is ${lane.row.state}; only a running agent can wait for input`,
        'bad-state',
      );
    }
    runtime.holdActivity('waiting-input');
    if (lane.row.state !== 'waiting-input')
      this.move(lane, { type: 'activity', activity: 'waiting-input' }, `${cause}: waiting for input`);
  }

  rerunGates(name: string): Promise<void> {
    const lane = this.require(name);
    return this.serial(lane, async () => {
      if (lane.row.state !== 'awaiting-approval') {
        throw new ActionError(
          `lane "${name}" is ${lane.row.state}; gates re-run on a lane awaiting approval`,
          'bad-state',
        );
      }
      this.setStateDirect(lane, 'gating', 're-run gates');
      await this.gate(lane);
    });
  }

  approve(name: string, opts: { override?: boolean; by?: string } = {}): Promise<void> {
    const lane = this.require(name);
    return this.serial(lane, async () => {
      if (lane.row.state !== 'awaiting-approval') {
        throw new ActionError(`lane "${name}" is ${lane.row.state}, not awaiting approval`, 'bad-state');
      }
      // What would be merged is the branch as it is now, so verdicts are checked against it.
      const verdicts = this.verdictsOf(lane, await this.branchTip(lane));
      const passed = requiredPassed(verdicts);
      if (!passed && !opts.override) {
        throw new ActionError(
          `lane "${name}": required gates failed or are stale; approve with override to merge anyway`,
          'needs-override',
        );
      }
      this.decide(lane, { action: 'approve', override: !passed && !!opts.override, by: opts.by });
      if (lane.row.empty) {
        // Nothing to merge: the lane closes as merged without an empty commit.
        this.move(lane, { type: 'approve' }, 'approved (empty)');
        this.move(lane, { type: 'merged' }, 'nothing to merge');
        await this.close(lane, 'merged');
        return;
      }
      this.move(lane, { type: 'approve' }, 'approved');
      try {
        const author = this.config.commitAuthor;
        const result = await mergeLane({
          repoRoot: this.repoRoot,
          base: lane.row.base,
          branch: lane.row.branch,
          strategy: this.config.mergeStrategy,
          message: `Merge lane ${name}: ${firstLine(lane.row.task)}`,
          author,
        });
        this.logEvent(lane, 'merge', `merged into ${lane.row.base} as ${result.commit}`, {
          commit: result.commit,
          previous: result.previous,
        });
        lane.mergedFrom = result.previous;
        this.move(lane, { type: 'merged' }, `merged as ${result.commit.slice(0, 12)}`);
        await this.close(lane, 'merged');
      } catch (err) {
        this.move(lane, { type: 'merge-failed' }, (err as Error).message);
        throw new ActionError(`merge of lane "${name}" failed: ${(err as Error).message}`, 'conflict');
      }
    });
  }

  reject(name: string, opts: { reason: string; mode: RejectMode; by?: string }): Promise<void> {
    const lane = this.require(name);
    const reason = opts.reason.trim();
    if (!reason) return Promise.reject(new ActionError('a rejection needs a reason', 'bad-input'));
    return this.serial(lane, async () => {
      // A lane in review is rejected either way; a failed, stopped or interrupted one can only be
      // abandoned (discarded: its work is kept under an archive ref).
      const abandonable = opts.mode === 'discard' && ABANDONABLE.has(lane.row.state);
      if (lane.row.state !== 'awaiting-approval' && !abandonable) {
        throw new ActionError(
          `lane "${name}" is ${lane.row.state}: only a lane awaiting approval is rejected (a failed, stopped or interrupted one can be discarded)`,
          'bad-state',
        );
      }
      this.decide(lane, { action: 'reject', mode: opts.mode, reason, override: false, by: opts.by });
      this.captureLearning(lane, reason, 'constraint', 'rejection');
      // the learnings this lane was briefed with did not help it through review
      learningsDb.creditLane(this.db, lane.row.id, learningsDb.REJECT_UTILITY);
      if (opts.mode === 'discard') {
        await this.stopRuntime(lane);
        this.move(lane, { type: 'discard' }, `rejected: ${reason}`);
        await this.close(lane, 'discarded');
        return;
      }
      lane.row = lanesDb.updateLane(this.db, lane.row.id, { reworkCount: lane.row.reworkCount + 1 });
      const feedback = `The operator rejected your work: ${reason}. Please rework it.`;
      if (lane.runtime?.alive) {
        this.move(lane, { type: 'rework' }, `rework: ${reason}`);
        lane.runtime.write(feedback.replace(/[\r\n]+/g, ' ') + '\r');
      } else {
        this.move(lane, { type: 'rework' }, `rework: ${reason}`);
        this.spawn(lane, 'resume', feedback);
      }
    });
  }

  stop(name: string): Promise<void> {
    const lane = this.require(name);
    return this.serial(lane, async () => {
      if (lane.row.state === 'queued' || lane.row.state === 'created') {
        this.move(lane, { type: 'stop' }, 'stopped by operator');
        return;
      }
      if (!LIVE_STATES.has(lane.row.state)) {
        throw new ActionError(`lane "${name}" is ${lane.row.state}; only a running lane can be stopped`, 'bad-state');
      }
      this.move(lane, { type: 'stop' }, 'stopped by operator');
      await this.stopRuntime(lane);
      // A stopped lane may still be resumed; until then its closure says it was interrupted.
      await this.close(lane, 'interrupted', false);
      this.startQueued();
    });
  }

  resume(name: string): Promise<void> {
    const lane = this.require(name);
    return this.serial(lane, async () => {
      if (!['interrupted', 'failed', 'stopped'].includes(lane.row.state)) {
        throw new ActionError(
          `lane "${name}" is ${lane.row.state}; only interrupted, failed or stopped lanes resume`,
          'bad-state',
        );
      }
      this.spawn(lane, 'resume');
    });
  }

  async addLearning(text: string, laneName?: string): Promise<void> {
    const clean = text.trim();
    if (!clean) throw new ActionError('a learning needs text', 'bad-input');
    const lane = laneName ? this.require(laneName) : undefined;
    this.captureLearning(lane ?? null, clean, 'note', 'operator');
    this.emit({ type: 'learning', text: clean, lane: laneName });
  }

  async listLearnings(
    query?: string,
    opts: { includeTombstoned?: boolean; limit?: number } = {},
  ): Promise<LearningInfo[]> {
    return learningsDb.listLearnings(this.db, { query, ...opts });
  }

  async tombstoneLearning(id: number, reason: string): Promise<void> {
    if (!reason.trim()) throw new ActionError('a tombstone needs a reason', 'bad-input');
    try {
      learningsDb.tombstoneLearning(this.db, id, reason);
    } catch (err) {
      if (err instanceof learningsDb.LearningNotFoundError) throw new ActionError(err.message, 'not-found');
      throw err;
    }
  }

  async editLearning(id: number, text: string): Promise<void> {
    if (!text.trim()) throw new ActionError('a learning needs text', 'bad-input');
    try {
      learningsDb.editLearning(this.db, id, text);
    } catch (err) {
      if (err instanceof learningsDb.LearningNotFoundError) throw new ActionError(err.message, 'not-found');
      throw err;
    }
  }

  async metrics(): Promise<ConsoleMetrics> {
    return computeMetrics(this.db);
  }

  async shutdown(cause = 'console shut down'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    // Running gates are cancelled (their process groups killed); actions in flight get a moment.
    this.aborter.abort();
    await Promise.race([Promise.all([...this.lanes.values()].map((l) => l.chain)), sleep(WAIT_FOR_EXIT_MS)]);
    const live = [...this.lanes.values()].filter((l) => l.runtime?.alive);
    await Promise.all(
      live.map(async (lane) => {
        // Interrupted first, so the agent's exit (by our signal) does not read as a failure.
        const wasLive = LIVE_STATES.has(lane.row.state);
        if (wasLive) this.move(lane, { type: 'interrupt' }, cause);
        await this.stopRuntime(lane);
        if (wasLive) await this.close(lane, 'interrupted', false);
      }),
    );
    for (const lane of this.lanes.values()) {
      if (lane.row.state === 'queued') this.move(lane, { type: 'stop' }, cause);
      lane.runtime?.dispose();
    }
    await this.recorder.close();
    sessionsDb.endSession(this.db, this.sessionId, cause);
    this.db.close();
  }

  /** @internal the recorder caught up: lanes paused for it read again */
  recorderDrained(): void {
    for (const lane of this.lanes.values()) lane.runtime?.recorderDrained();
  }

  /** Resolves when every output chunk received so far is committed to the database. */
  flushRecording(): Promise<void> {
    return this.recorder.flush();
  }

  /** Reports an engine failure that belongs to no action (e.g. the recorder) to every front end. */
  reportError(message: string, lane?: string): void {
    this.emit({ type: 'error', message, lane });
  }

  // ---------------------------------------------------------------- internals

  private track(row: lanesDb.LaneRow): LaneRecord {
    const profile = this.profiles.get(row.profile);
    const lane: LaneRecord = {
      row,
      runtime: null,
      taskTyped: false,
      chain: Promise.resolve(),
      outputRate: 0,
      lastLine: '',
      profile: profile ?? fallbackProfile(row.profile, this.profiles),
      nextSeq: null,
      bytesBefore: row.outputBytes,
    };
    this.lanes.set(row.name, lane);
    return lane;
  }

  private spawn(lane: LaneRecord, mode: 'start' | 'resume', resumeText?: string): void {
    const { row, profile } = lane;
    // A rework of a lane whose agent has exited is already back in running: it only needs a process.
    const reworking = lane.row.state === 'running';
    if (!reworking)
      this.move(
        lane,
        mode === 'start' ? { type: 'start' } : { type: 'resume' },
        mode === 'start' ? 'lane started' : 'resumed',
      );
    try {
      const briefing = this.brief(lane);
      const vars = {
        task: mode === 'resume' && resumeText ? resumeText : row.task,
        lane: row.name,
        worktree: row.worktree,
        briefingFile: briefing.file,
      };
      const { command, args } = expandArgs(profile, vars, { resume: mode === 'resume' });
      const procToken = randomBytes(12).toString('hex');
      const env = buildAgentEnv({
        source: this.env,
        passthrough: profile.envPassthrough,
        extra: { ...profile.env, AO_BRIEFING: briefing.file },
        lane: row.name,
        session: this.sessionId,
        stateDir: this.opts.stateDir,
        procToken,
      });
      const timeBase = row.startedAt ?? Date.now();
      const firstSeq = lane.nextSeq ?? outputTotals(this.db, row.id).lastSeq + 1;
      if (lane.runtime) lane.bytesBefore += lane.runtime.outputBytes;
      lane.runtime?.dispose();
      const patterns = compilePatterns(profile);
      const learning = patterns.learning;
      const marker = patterns.handoffMarker ?? null;
      lane.taskTyped = mode === 'resume' || profile.taskInput !== 'stdin';
      const runtime = new LaneRuntime({
        command,
        args,
        cwd: row.worktree,
        env,
        cols: row.cols,
        rows: row.rows,
        timeBase,
        firstSeq,
        busyPatterns: patterns.busy,
        waitingPatterns: patterns.waitingInput,
        idleMs: profile.idleMs,
        linePatterns: marker ? [learning, marker] : [learning],
        record: (seq, tMs, data) => this.recorder.append(row.id, seq, tMs, data),
        keyframe: (k) => void (this.closed || this.recorder.keyframe({ laneId: row.id, ...k })),
        onExit: (e) => this.onExit(lane, runtime, e),
        onLine: (line) => this.onLine(lane, line, learning, marker),
        onError: (message) => this.reportError(message, row.name),
      });
      lane.runtime = runtime;
      lane.row = lanesDb.updateLane(this.db, row.id, {
        startedAt: timeBase,
        pid: runtime.pid,
        procToken,
        exitCode: null,
        exitSignal: null,
      });
      const cause = `pid ${runtime.pid}: ${command} ${args.join(' ')}`.slice(0, 500);
      if (reworking) this.logEvent(lane, 'spawned', cause);
      else this.move(lane, { type: 'spawned' }, cause);
    } catch (err) {
      this.move(lane, { type: 'fail', reason: (err as Error).message }, (err as Error).message);
      this.emit({ type: 'error', lane: row.name, message: (err as Error).message });
      void this.close(lane, 'failed', false);
    }
  }

  /** Builds the lane's context packet, writes it for the agent and logs which learnings went in. */
  private brief(lane: LaneRecord): { file: string; markdown: string } {
    const packet = buildContextPacket(this.db, { lane: lane.row.name, task: lane.row.task, laneId: lane.row.id });
    learningsDb.recordInjection(this.db, lane.row.id, [
      ...packet.constraints.map((c) => ({ id: c.id, section: 'constraint' as const, score: c.score })),
      ...packet.learnings.map((l) => ({ id: l.id, section: 'learning' as const, score: l.score })),
    ]);
    const file = writeBriefingFile(this.opts.stateDir, lane.row.name, packet.markdown);
    this.logEvent(
      lane,
      'context-packet',
      `${packet.constraints.length} constraints, ${packet.learnings.length} learnings, ${packet.history.length} closures`,
      {
        file,
        constraints: packet.constraints.map((c) => c.id),
        learnings: packet.learnings.map((l) => l.id),
        history: packet.history.length,
        chars: packet.markdown.length,
      },
    );
    return { file, markdown: packet.markdown };
  }

  /** Stores a learning of this lane (or of none), merged into a near-duplicate when there is one. */
  private captureLearning(lane: LaneRecord | null, text: string, category: string, source: string): void {
    learningsDb.captureLearning(this.db, {
      text,
      category,
      source,
      laneId: lane?.row.id ?? null,
      sessionId: this.sessionId,
    });
  }

  /**
   * Closure: harvest the `.agents/learnings/*.md` files the agent left in its worktree (before
   * the worktree goes), and credit what the lane was briefed with when it was merged. A bad file
   * is reported by name and skipped; nothing here fails a closure.
   */
  private learningsAtClosure(lane: LaneRecord, outcome: string): void {
    try {
      const res = harvestWorktree(this.db, lane.row.worktree, { laneId: lane.row.id, sessionId: this.sessionId });
      if (res.captured + res.merged > 0)
        this.logEvent(lane, 'learnings-harvest', `${res.captured} new, ${res.merged} merged from .agents/learnings`);
      for (const e of res.errors) {
        const message = `skipped malformed learning file ${e.file}: ${e.message}`;
        this.logEvent(lane, 'learnings-harvest-error', message, { file: e.file, error: e.message });
        this.emit({ type: 'error', lane: lane.row.name, message });
      }
      if (outcome === 'merged') learningsDb.creditLane(this.db, lane.row.id, learningsDb.MERGE_UTILITY);
    } catch (err) {
      this.emit({ type: 'error', lane: lane.row.name, message: `learnings at closure: ${(err as Error).message}` });
    }
  }

  private onLine(lane: LaneRecord, line: string, learning: RegExp | null, marker: RegExp | null): void {
    if (learning) {
      const m = learning.exec(line);
      if (m) {
        const text = (m[1] ?? line).trim();
        if (text) {
          this.captureLearning(lane, text, 'agent', 'agent-output');
          this.emit({ type: 'learning', text, lane: lane.row.name });
        }
      }
    }
    if (marker?.test(line) && LIVE_STATES.has(lane.row.state)) {
      void this.handoff(lane.row.name, 'handoff marker in output').catch((err: Error) =>
        this.emit({ type: 'error', lane: lane.row.name, message: err.message }),
      );
    }
  }

  private onExit(lane: LaneRecord, runtime: LaneRuntime, e: { code: number | null; signal: number | null }): void {
    if (lane.runtime !== runtime) return;
    lane.lastLine = runtime.terminal.lastLine();
    lane.nextSeq = runtime.nextSeq;
    lane.row = lanesDb.updateLane(this.db, lane.row.id, { exitCode: e.code, exitSignal: e.signal });
    this.emit({ type: 'lane-exit', lane: lane.row.name, code: e.code, signal: e.signal });
    const before = lane.row.state;
    const cause = e.signal !== null ? `agent killed by signal ${e.signal}` : `agent exited with code ${e.code}`;
    this.move(lane, { type: 'exit', code: e.code, signal: e.signal, handoffOnExit: lane.profile.handoffOnExit }, cause);
    // Anything the agent left behind (children that outlived it) goes with it.
    void stopProcessTree({ pid: runtime.pid, procToken: lane.row.procToken ?? '', graceMs: 500 }).catch(() => {});
    const after = lane.row.state;
    if (before !== after) {
      if (after === 'gating') {
        void this.serial(lane, () => this.gate(lane)).catch((err: Error) =>
          this.emit({ type: 'error', lane: lane.row.name, message: err.message }),
        );
      } else if (after === 'failed') {
        void this.close(lane, 'failed', false);
      }
      this.startQueued();
    }
  }

  /** Handoff work: commit what is pending, record head and diff, run gates, await approval. */
  private async gate(lane: LaneRecord): Promise<void> {
    const { row } = lane;
    await commitPendingChanges(row.worktree, {
      message: `${firstLine(row.task)}\n\nCommitted by ao-console at handoff of lane ${row.name}.`,
      author: this.config.commitAuthor,
    });
    const head = await headCommit(row.worktree);
    const empty = await isEmptyAgainst(this.repoRoot, row.base, head);
    const stat = await diffStat(this.repoRoot, row.base, head);
    lane.row = lanesDb.updateLane(this.db, row.id, { headCommit: head, empty });
    this.logEvent(lane, 'handoff', empty ? 'no change against base' : `${stat.length} files changed`, {
      head,
      empty,
      diffStat: stat,
    });
    if (empty) {
      this.move(lane, { type: 'gates-done' }, 'empty: no change against base, gates skipped');
      return;
    }
    const runId = Date.now();
    lane.verdicts = [];
    const verdicts = await runGates({
      gates: this.config.gates,
      worktree: row.worktree,
      repoRoot: this.repoRoot,
      base: row.base,
      head,
      env: buildAgentEnv({
        source: this.env,
        passthrough: lane.profile.envPassthrough,
        extra: {},
        lane: row.name,
        session: this.sessionId,
        stateDir: this.opts.stateDir,
        procToken: lane.row.procToken ?? randomBytes(12).toString('hex'),
      }),
      signal: this.aborter.signal,
      failFast: this.config.gateMode?.failFast,
      parallel: this.config.gateMode?.parallel,
      onVerdict: (v) => {
        reviewDb.insertVerdict(this.db, lane.row.id, runId, v);
        lane.verdicts = [...(lane.verdicts ?? []), v];
        this.emit({ type: 'gate-verdict', lane: row.name, verdict: v });
      },
    });
    for (const v of verdicts) {
      if (v.status !== 'PASS' && v.required) {
        this.captureLearning(lane, `gate ${v.gate} ${v.status}: ${summarize(v.output)}`, 'finding', 'gate-failure');
      }
    }
    const failed = verdicts.filter((v) => v.required && v.status !== 'PASS').map((v) => v.gate);
    this.move(
      lane,
      { type: 'gates-done' },
      failed.length ? `gates failed: ${failed.join(', ')}` : 'all required gates passed',
    );
  }

  private async close(lane: LaneRecord, outcome: string, final = true): Promise<void> {
    await this.recorder.flush();
    this.learningsAtClosure(lane, outcome);
    const head = lane.row.headCommit;
    // After a merge the base contains the lane: its work is measured from where the base was.
    const from = lane.mergedFrom ?? lane.row.base;
    const closure = buildClosure({
      db: this.db,
      laneId: lane.row.id,
      outcome,
      diffStat: head ? await diffStat(this.repoRoot, from, head).catch(() => []) : [],
      commits: head ? await laneCommits(this.repoRoot, from, head) : [],
    });
    reviewDb.upsertClosure(this.db, lane.row.id, outcome, closure);
    if (!final) return;
    if (outcome === 'merged' || outcome === 'discarded') {
      await this.stopRuntime(lane);
      try {
        const res = await removeLaneWorktree({
          repoRoot: this.repoRoot,
          stateDir: this.opts.stateDir,
          lane: lane.row.name,
          worktreePath: lane.row.worktree,
          branch: lane.row.branch,
          base: lane.row.base,
        });
        if (res.archivedRef)
          this.logEvent(lane, 'archive', `work kept at ${res.archivedRef}`, { ref: res.archivedRef });
      } catch (err) {
        this.emit({ type: 'error', lane: lane.row.name, message: `worktree removal: ${(err as Error).message}` });
      }
    }
    lanesDb.markLaneClosed(this.db, lane.row.id);
    lane.row = lanesDb.getLane(this.db, lane.row.id) ?? lane.row;
  }

  private async stopRuntime(lane: LaneRecord): Promise<void> {
    const runtime = lane.runtime;
    if (!runtime) return;
    if (runtime.alive) {
      runtime.drainForExit();
      await stopProcessTree({
        pid: runtime.pid,
        procToken: lane.row.procToken ?? '',
        graceMs: this.opts.stopGraceMs ?? 3000,
      });
      await Promise.race([runtime.whenExited(), sleep(WAIT_FOR_EXIT_MS)]);
    }
  }

  private tick(): void {
    for (const lane of this.lanes.values()) {
      try {
        this.tickLane(lane, Date.now());
      } catch (err) {
        // A timer must never take the console down: report and try again next tick.
        this.reportError(`lane ${lane.row.name}: ${(err as Error).message}`, lane.row.name);
      }
    }
  }

  private tickLane(lane: LaneRecord, now: number): void {
    const runtime = lane.runtime;
    if (!runtime?.alive) return;
    lane.outputRate = runtime.outputRate(now);
    if (!LIVE_STATES.has(lane.row.state) || lane.row.state === 'starting') return;
    const activity = runtime.activity(now);
    lane.lastLine = runtime.terminal.lastLine();
    if (activity === 'waiting-input' && !lane.taskTyped) {
      lane.taskTyped = true;
      runtime.write(lane.row.task.replace(/[\r\n]+/g, ' ') + '\r');
      return;
    }
    const next: LaneState = activity === 'busy' ? 'running' : activity;
    if (next !== lane.row.state) this.move(lane, { type: 'activity', activity }, `screen reads ${activity}`);
  }

  private startQueued(): void {
    for (const lane of this.lanes.values()) {
      if (this.liveCount() >= this.config.maxConcurrentLanes) return;
      if (lane.row.state === 'queued') this.spawn(lane, 'start');
    }
  }

  private liveCount(): number {
    return [...this.lanes.values()].filter((l) => LIVE_STATES.has(l.row.state)).length;
  }

  private move(lane: LaneRecord, event: LaneEvent, cause: string): void {
    const from = lane.row.state;
    let to: LaneState;
    try {
      to = transition(from, event);
    } catch (err) {
      if (err instanceof InvalidTransitionError)
        throw new ActionError(`lane "${lane.row.name}": ${err.message}`, 'bad-state');
      throw err;
    }
    if (to === from) return;
    this.setStateDirect(lane, to, cause);
  }

  private setStateDirect(lane: LaneRecord, to: LaneState, cause: string): void {
    const from = lane.row.state;
    const now = Date.now();
    lane.row = lanesDb.setLaneState(this.db, lane.row.id, to, { cause, at: now }).lane;
    this.emit({ type: 'lane-state', lane: lane.row.name, from, to, cause });
  }

  private logEvent(lane: LaneRecord, kind: string, cause: string, data?: unknown): void {
    const now = Date.now();
    eventsDb.appendEvent(this.db, {
      laneId: lane.row.id,
      at: now,
      tMs: lane.row.startedAt ? now - lane.row.startedAt : 0,
      kind,
      cause,
      data,
    });
  }

  private decide(lane: LaneRecord, d: Omit<Decision, 'lane' | 'at' | 'by'> & { by?: string }): void {
    const decision: Decision = { ...d, lane: lane.row.name, at: Date.now(), by: d.by ?? os.userInfo().username };
    reviewDb.insertDecision(this.db, lane.row.id, decision);
    this.logEvent(
      lane,
      'decision',
      `${decision.action}${decision.mode ? ` (${decision.mode})` : ''}${decision.reason ? `: ${decision.reason}` : ''}`,
      decision,
    );
    this.emit({ type: 'decision', decision });
  }

  /**
   * The verdicts of the lane's latest gate run (kept in memory, read once from the store),
   * stale unless bound to `head` (default: the head recorded at handoff).
   */
  private verdictsOf(lane: LaneRecord, head: string | null = lane.row.headCommit): GateVerdict[] {
    lane.verdicts ??= reviewDb.latestVerdicts(this.db, lane.row.id);
    return lane.verdicts.map((v) => ({ ...v, stale: head ? isStale(v, head) : true }));
  }

  /** The commit the lane's branch points at now (null when git cannot say). */
  private async branchTip(lane: LaneRecord): Promise<string | null> {
    const res = await git(['rev-parse', '--verify', '--quiet', `refs/heads/${lane.row.branch}^{commit}`], {
      cwd: this.repoRoot,
      allowFail: true,
    });
    return res.exitCode === 0 && res.stdout ? res.stdout : null;
  }

  private snapshot(lane: LaneRecord): LaneSnapshot {
    const { row, runtime } = lane;
    const verdicts = row.headCommit ? this.verdictsOf(lane) : [];
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
    };
  }

  private serial<T>(lane: LaneRecord, fn: () => Promise<T>): Promise<T> {
    const run = lane.chain.then(fn, fn);
    lane.chain = run.catch(() => {});
    return run;
  }

  private require(name: string): LaneRecord {
    this.assertOpen();
    const lane = this.lanes.get(name);
    if (!lane) throw new ActionError(`no lane named "${name}"`, 'not-found');
    return lane;
  }

  private runtimeOf(name: string): LaneRuntime | null {
    return this.lanes.get(name)?.runtime ?? null;
  }

  private assertOpen(): void {
    if (this.closed) throw new ActionError('the console is shutting down', 'bad-state');
  }

  private async currentBranch(): Promise<string> {
    const res = await git(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: this.repoRoot, allowFail: true });
    if (res.exitCode !== 0 || !res.stdout) {
      throw new ActionError(
        'the repo has a detached HEAD: pass a base branch or set baseBranch in .ao/config.json',
        'bad-input',
      );
    }
    return res.stdout;
  }

  private emit(event: SupervisorEvent): void {
    this.emitter.emit('event', event);
  }
}

function fallbackProfile(name: string, profiles: Map<string, LoadedProfile>): LoadedProfile {
  const shell = profiles.get('shell');
  if (!shell) throw new Error(`profile "${name}" is gone and there is no shell profile to fall back on`);
  return shell;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
