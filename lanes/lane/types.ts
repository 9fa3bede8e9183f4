/**
 * The engine's vocabulary: lane states, lane events and the snapshot every front end
 * (dashboard, control socket, CLI) reads. Plain data only; no behaviour lives here.
 */
import type { LaneRow } from '../store/laneRow.js';
import type { LaneUsageInfo } from '../usage/types.js';

export { LANE_STATES, type LaneState } from './states.js';

/* What each state allows (live, busy, settled, stop, approve, ...) is read off the state machine:
   lanes/lane/rules.ts. */

/** What the activity detector reads from a lane's screen and output timing. */
export type Activity = 'busy' | 'idle' | 'waiting-input';

/** Inputs of the lane state machine. */
export type LaneEvent =
  | { type: 'queue' }
  | { type: 'start' }
  | { type: 'spawned' }
  | { type: 'activity'; activity: Activity }
  | { type: 'exit'; code: number | null; signal: number | null; handoffOnExit: boolean }
  | { type: 'handoff' }
  | { type: 'gates-done' }
  | { type: 'approve' }
  /** the merge queue validated the lane on the merged tree and lands it now */
  | { type: 'land' }
  /** the lane leaves the merge queue without landing: it failed on the merged tree, or the operator took it out */
  | { type: 'dequeue' }
  | { type: 'merged' }
  | { type: 'merge-failed' }
  | { type: 'rework' }
  | { type: 'rerun-gates' }
  | { type: 'discard' }
  /** the operator takes the lane away whatever it was doing: its work archived, its worktree removed */
  | { type: 'remove' }
  | { type: 'stop' }
  | { type: 'interrupt' }
  | { type: 'resume' }
  | { type: 'fail'; reason: string };

/** Where an approved lane is in the merge queue (lanes/supervisor/mergeQueue.ts). */
export interface MergeQueuePlace {
  /** 1: the next to land */
  position: number;
  /** entries in the queue */
  length: number;
  /** waiting its turn, validating on the merged tree (base + lane), or merging */
  state: 'waiting' | 'validating' | 'merging';
  /** epoch ms it entered that state */
  since: number;
  /** the queue is paused: no next entry starts */
  paused: boolean;
}

/** A gate's verdict. */
export type VerdictStatus = 'PASS' | 'FAIL' | 'TIMEOUT' | 'ERROR';

/**
 * What a front end knows about one lane: the stored lane's fields (lanes/store/laneRow.ts) that
 * front ends show, and what the running console adds.
 */
export interface LaneSnapshot extends Pick<
  LaneRow,
  | 'id'
  | 'name'
  | 'sessionId'
  | 'profile'
  | 'task'
  | 'branch'
  | 'base'
  | 'worktree'
  | 'state'
  | 'stateSince'
  | 'createdAt'
  | 'exitCode'
  | 'exitSignal'
  | 'reworkCount'
  | 'outputBytes'
  | 'empty'
  | 'cols'
  | 'rows'
> {
  /** bytes per second over the last few seconds */
  outputRate: number;
  /** the last non-blank line of the lane's screen */
  lastLine: string;
  /** short summary of the gate verdicts for the current head ("3/4 pass", "stale", "") */
  gateSummary: string;
  /**
   * the agent process runs now (in any state: also awaiting-approval or gating after an agent's
   * Stop hook handed the lane off); attach and send need it (lanes/lane/rules.ts canAttach)
   */
  alive: boolean;
  /** its place in the merge queue while it waits there or lands; absent otherwise */
  queue?: MergeQueuePlace;
  /** tokens and cost from its agent's own records (lanes/usage/); absent before the first */
  usage?: LaneUsageInfo;
}

/** One styled cell run of a screen row, for drawing a lane's screen without raw escapes. */
export interface StyledRun {
  text: string;
  fg?: string; // '#rrggbb' or an ANSI palette index as 'p<N>'
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}
export type StyledRow = StyledRun[];
