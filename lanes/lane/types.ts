/**
 * The engine's vocabulary: lane states, lane events and the snapshot every front end
 * (dashboard, control socket, CLI) reads. Plain data only; no behaviour lives here.
 */

/** Every state a lane can be in (DESIGN.md, "Lane lifecycle"). */
export const LANE_STATES = [
  'created',
  'queued',
  'starting',
  'running',
  'idle',
  'waiting-input',
  'gating',
  'awaiting-approval',
  'merging',
  'merged',
  'discarded',
  'failed',
  'interrupted',
  'stopped',
] as const;
export type LaneState = (typeof LANE_STATES)[number];

/** States a lane never leaves except by `resume` (failed, interrupted, stopped) or never at all. */
export const TERMINAL_STATES: ReadonlySet<LaneState> = new Set(['merged', 'discarded']);
/** States in which the agent process is (or is about to be) alive. */
export const LIVE_STATES: ReadonlySet<LaneState> = new Set(['starting', 'running', 'idle', 'waiting-input']);

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
  | { type: 'merged' }
  | { type: 'merge-failed' }
  | { type: 'rework' }
  | { type: 'discard' }
  | { type: 'stop' }
  | { type: 'interrupt' }
  | { type: 'resume' }
  | { type: 'fail'; reason: string };

/** A gate's verdict. */
export type VerdictStatus = 'PASS' | 'FAIL' | 'TIMEOUT' | 'ERROR';

/** What a front end knows about one lane. */
export interface LaneSnapshot {
  id: number;
  name: string;
  sessionId: string;
  profile: string;
  task: string;
  branch: string;
  base: string;
  worktree: string;
  state: LaneState;
  /** epoch ms of the last state change */
  stateSince: number;
  createdAt: number;
  exitCode: number | null;
  exitSignal: number | null;
  reworkCount: number;
  /** bytes of output recorded so far */
  outputBytes: number;
  /** bytes per second over the last few seconds */
  outputRate: number;
  /** the last non-blank line of the lane's screen */
  lastLine: string;
  /** short summary of the gate verdicts for the current head ("3/4 pass", "stale", "") */
  gateSummary: string;
  /** true when the lane handed off with no change against its base */
  empty: boolean;
  cols: number;
  rows: number;
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
