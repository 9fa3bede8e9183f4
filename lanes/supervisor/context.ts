/**
 * What every part of the supervisor shares: the lane table, the world and the store it was built
 * with, and the few primitives each job uses — moving a lane through the state machine, logging
 * its events, serialising its actions, stopping its agent. The jobs themselves live in
 * launch.ts, reviewFlow.ts, learningsCapture.ts and closure.ts; supervisor.ts ties them up.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { ActionError, type Decision, type GateVerdict, type SupervisorEvent } from './api.js';
import type { LaneEvent, LaneState } from '../lane/types.js';
import { InvalidTransitionError, transition } from '../lane/stateMachine.js';
import { refusal, type LaneAction } from '../lane/rules.js';
import { isStale } from '../gates/runGates.js';
import * as lanesDb from '../store/lanes.js';
import * as reviewDb from '../store/review.js';
import * as eventsDb from '../store/events.js';
import type { LoadedProfile } from '../../profiles/loader.js';
import type { LaneProcess, SupervisorDeps } from './world.js';
import type { UsageTracker } from '../usage/tracker.js';

export interface SupervisorOptions {
  repoRoot: string;
  stateDir: string;
  cols: number;
  rows: number;
  /** the console's environment, filtered by the allowlist before it reaches an agent */
  env?: NodeJS.ProcessEnv;
  /** activity check period (ms) */
  tickMs?: number;
  /** how often the usage of lanes whose agent runs is read (ms; default 5000) */
  usagePollMs?: number;
  /** grace between SIGTERM and SIGKILL when stopping a lane */
  stopGraceMs?: number;
}

/** One lane as the supervisor holds it. */
export interface LaneRecord {
  row: lanesDb.LaneRow;
  runtime: LaneProcess | null;
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
  /** the gate run in flight: stop and remove cancel it (see gateRun) */
  gates?: GateRun;
}

/** One gate run of a lane: cancelled at shutdown, or by the operator (stop, remove). */
export interface GateRun {
  readonly signal: AbortSignal;
  /** why the operator cancelled it; null when it ran to its end (or the console shut down) */
  readonly cancelledBy: () => string | null;
  /** the operator cancels it (stop, remove): its process groups are killed, its verdicts say why */
  cancel(why: string): void;
  /** the run is over: it no longer listens to the console's shutdown */
  end(): void;
}

/** What the review flow does when a lane hands off by itself (launch.ts calls up through it). */
export interface HandoffHooks {
  /** the agent printed its handoff marker: hand off as the operator would */
  handoff(lane: LaneRecord, cause: string): Promise<void>;
  /** the agent's exit moved the lane into gating: run the handoff work */
  gate(lane: LaneRecord): Promise<void>;
}

/** What approve needs of the merge queue (./mergeQueue.ts). */
export interface MergeQueueHooks {
  /** appends the lane (its approved head) to the queue; the caller moves it to approved at once */
  enqueue(lane: LaneRecord, opts: { head: string; override: boolean }): void;
}

export const WAIT_FOR_EXIT_MS = 5000;

export class SupervisorCore {
  readonly lanes = new Map<string, LaneRecord>();
  readonly env: NodeJS.ProcessEnv;
  /** aborted at shutdown: running gates are cancelled */
  readonly aborter = new AbortController();
  closed = false;
  /** the merge queue (./mergeQueue.ts), set by the supervisor: approve puts lanes in it */
  queue: MergeQueueHooks = {
    enqueue: () => {
      throw new ActionError('this console has no merge queue', 'bad-state');
    },
  };
  /** tokens and cost per lane, and the budget (lanes/usage/tracker.ts), set by the supervisor */
  usage: UsageTracker | null = null;
  /** set by the supervisor once the review flow exists */
  hooks: HandoffHooks = {
    handoff: async () => {},
    gate: async () => {},
  };
  private readonly emitter = new EventEmitter();

  constructor(
    readonly sessionId: string,
    readonly opts: SupervisorOptions,
    readonly deps: SupervisorDeps,
  ) {
    this.env = opts.env ?? process.env;
    this.emitter.setMaxListeners(0);
  }

  get db() {
    return this.deps.db;
  }
  get world() {
    return this.deps.world;
  }
  get git() {
    return this.deps.world.git;
  }
  get config() {
    return this.deps.config;
  }
  get repoRoot(): string {
    return this.opts.repoRoot;
  }

  on(listener: (event: SupervisorEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  emit(event: SupervisorEvent): void {
    this.emitter.emit('event', event);
  }

  /** Starts holding a stored lane. */
  track(row: lanesDb.LaneRow): LaneRecord {
    const profile = this.deps.profiles.get(row.profile);
    const lane: LaneRecord = {
      row,
      runtime: null,
      taskTyped: false,
      chain: Promise.resolve(),
      outputRate: 0,
      lastLine: '',
      profile: profile ?? fallbackProfile(row.profile, this.deps.profiles),
      nextSeq: null,
      bytesBefore: row.outputBytes,
    };
    this.lanes.set(row.name, lane);
    return lane;
  }

  require(name: string): LaneRecord {
    this.assertOpen();
    const lane = this.lanes.get(name);
    if (!lane) throw new ActionError(`no lane named "${name}"`, 'not-found');
    return lane;
  }

  assertOpen(): void {
    if (this.closed) throw new ActionError('the console is shutting down', 'bad-state');
  }

  /** Throws the lane rules' refusal when the lane's state does not allow `action`. */
  assertAllowed(lane: LaneRecord, action: LaneAction): void {
    const why = refusal(lane.row.state, action);
    if (why) throw new ActionError(`lane "${lane.row.name}" is ${lane.row.state}; ${why}`, 'bad-state');
  }

  /** Runs `fn` after every earlier action of the lane has settled. */
  serial<T>(lane: LaneRecord, fn: () => Promise<T>): Promise<T> {
    const run = lane.chain.then(fn, fn);
    lane.chain = run.catch(() => {});
    return run;
  }

  /**
   * The one way a lane changes state: through the state machine, stored with its cause (and
   * `data`, e.g. an activity change's `{ source }`), announced.
   */
  move(lane: LaneRecord, event: LaneEvent, cause: string, data?: unknown): void {
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
    lane.row = lanesDb.setLaneState(this.db, lane.row.id, to, { cause, at: Date.now(), data }).lane;
    this.emit({ type: 'lane-state', lane: lane.row.name, from, to, cause });
  }

  logEvent(lane: LaneRecord, kind: string, cause: string, data?: unknown): void {
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

  /** Records the operator's decision on a lane (stored, logged, announced). */
  decide(lane: LaneRecord, d: Omit<Decision, 'lane' | 'at' | 'by'> & { by?: string }): void {
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
  verdictsOf(lane: LaneRecord, head: string | null = lane.row.headCommit): GateVerdict[] {
    lane.verdicts ??= reviewDb.latestVerdicts(this.db, lane.row.id);
    return lane.verdicts.map((v) => ({ ...v, stale: head ? isStale(v, head) : true }));
  }

  /** Starts a gate run for the lane: cancelled by the console's shutdown or by cancelGates. */
  gateRun(lane: LaneRecord): GateRun {
    const ctl = new AbortController();
    let by: string | null = null;
    const shutdown = this.aborter.signal;
    const onShutdown = () => ctl.abort(shutdown.reason ?? 'the console shut down');
    if (shutdown.aborted) onShutdown();
    else shutdown.addEventListener('abort', onShutdown, { once: true });
    const run: GateRun = {
      signal: ctl.signal,
      cancelledBy: () => by,
      cancel: (why) => {
        if (ctl.signal.aborted) return;
        by = why;
        ctl.abort(why);
      },
      end: () => {
        shutdown.removeEventListener('abort', onShutdown);
        if (lane.gates === run) lane.gates = undefined;
      },
    };
    lane.gates = run;
    return run;
  }

  /** Cancels the lane's gate run in flight, if any: its process groups are killed, its verdicts say why. */
  cancelGates(lane: LaneRecord, why: string): void {
    lane.gates?.cancel(why);
  }

  /** The commit the lane's branch points at now (null when git cannot say). */
  async branchTip(lane: LaneRecord): Promise<string | null> {
    return this.git.branchTip(this.repoRoot, lane.row.branch).catch(() => null);
  }

  /** Ends the lane's agent and what it left behind, and waits (a while) for its exit. */
  async stopRuntime(lane: LaneRecord): Promise<void> {
    const runtime = lane.runtime;
    if (!runtime?.alive) return;
    runtime.drainForExit();
    await this.world.stopProcessTree({
      pid: runtime.pid,
      procToken: lane.row.procToken ?? '',
      graceMs: this.opts.stopGraceMs ?? 3000,
    });
    await Promise.race([runtime.whenExited(), sleep(WAIT_FOR_EXIT_MS)]);
  }

  /** Reports an engine failure that belongs to no action (e.g. the recorder) to every front end. */
  reportError(message: string, lane?: string): void {
    this.emit({ type: 'error', message, lane });
  }
}

function fallbackProfile(name: string, profiles: Map<string, LoadedProfile>): LoadedProfile {
  const shell = profiles.get('shell');
  if (!shell) throw new Error(`profile "${name}" is gone and there is no shell profile to fall back on`);
  return shell;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
