/**
 * The supervisor's actions and events: the one surface that the dashboard, the control
 * socket and the CLI drive. Front ends depend on this interface, never on the engine's parts.
 */
import type { OutcomeCount } from '../store/history.js';
import type { LaneSnapshot, LaneState, MergeQueuePlace, StyledRow, VerdictStatus } from '../lane/types.js';

export interface NewLaneRequest {
  name: string;
  profile: string;
  task: string;
  /** base branch; default from repo config, else the repo's current branch */
  base?: string;
}

export interface GateVerdict {
  gate: string;
  status: VerdictStatus;
  required: boolean;
  durationMs: number;
  exitCode: number | null;
  /** stdout+stderr interleaved, bounded */
  output: string;
  /** the lane head commit this verdict is bound to */
  commit: string;
  /** true when the lane's head moved on since this verdict */
  stale: boolean;
  at: number;
}

export interface DiffStatEntry {
  path: string;
  added: number;
  deleted: number;
}

export interface ReviewInfo {
  lane: string;
  head: string | null;
  base: string;
  empty: boolean;
  verdicts: GateVerdict[];
  diffStat: DiffStatEntry[];
  /** the full diff against the base (git's own colour-free text) */
  diff: string;
  /** true when every required gate passed on the current head */
  requiredPassed: boolean;
  /** the latest merge of this handoff that failed (it changed nothing), with git's reason */
  mergeFailure?: { at: number; reason: string } | null;
  /** the operator's comments on the lane's diff, sent ones judged against this head */
  comments?: ReviewComment[];
  /**
   * the latest time the merge queue sent this lane back because it failed on the merged tree
   * (base + lane), with the verdicts of the gates run there (lanes/supervisor/mergeQueue.ts)
   */
  mergedTreeFailure?: { at: number; reason: string; verdicts: GateVerdict[] } | null;
}

/** One entry of the merge queue, as `ao-console queue --json` prints it. */
export interface MergeQueueEntry {
  lane: string;
  state: MergeQueuePlace['state'];
  /** epoch ms it entered that state */
  since: number;
}

/** The merge queue: approved lanes in the order they land. */
export interface MergeQueueInfo {
  paused: boolean;
  entries: MergeQueueEntry[];
}

/**
 * Where a review comment stands: a draft (editable), sent to the agent with a rework, then, once
 * the branch moved on, addressed (its lines changed since the commit it was made on) or not.
 */
export type CommentStatus = 'draft' | 'sent' | 'addressed' | 'unaddressed';

/** An operator's comment on a line (or lines) of a lane's diff (lanes/supervisor/comments.ts). */
export interface ReviewComment {
  id: number;
  lane: string;
  /** path in the lane's tree at `commit` */
  file: string;
  /** 1-based line numbers of the file at `commit`, `endLine` >= `line` */
  line: number;
  endLine: number;
  /** the lane head the comment was made on */
  commit: string;
  /** those lines at `commit` */
  excerpt: string;
  text: string;
  createdAt: number;
  updatedAt: number;
  /** when it went to the agent, and in which rework round (the lane's rework count then) */
  sentAt: number | null;
  sentRound: number | null;
  status: CommentStatus;
}

/** A new comment: a line (or a range up to `endLine`) of a file in the lane's diff. */
export interface NewComment {
  file: string;
  line: number;
  endLine?: number;
  text: string;
}

export type RejectMode = 'rework' | 'discard';

export interface Decision {
  lane: string;
  action: 'approve' | 'reject';
  mode?: RejectMode;
  reason?: string;
  override: boolean;
  by: string;
  at: number;
}

export type SupervisorEvent =
  | { type: 'lane-created'; lane: string }
  | { type: 'lane-state'; lane: string; from: LaneState; to: LaneState; cause: string }
  | { type: 'lane-exit'; lane: string; code: number | null; signal: number | null }
  | { type: 'gate-verdict'; lane: string; verdict: GateVerdict }
  | { type: 'decision'; decision: Decision }
  | { type: 'learning'; text: string; lane?: string }
  | { type: 'error'; lane?: string; message: string }
  /** something the operator should know that is not an error (e.g. recording is written again) */
  | { type: 'notice'; lane?: string; message: string }
  /** the merge queue changed (an entry came, moved, started validating, landed or left; paused) */
  | { type: 'queue'; lane?: string; message: string }
  /** a lane used 80% of a budget limit (`warning`), or reached it and its agent was paused (lanes/usage/) */
  | { type: 'budget'; lane: string; state: LaneState; level: 'warning' | 'paused'; message: string };

/** One learning as front ends see it (lanes/learnings/store.ts). */
export interface LearningInfo {
  id: number;
  text: string;
  /** constraint (from a rejection), finding (from a gate failure), note (operator), agent, ... */
  category: string;
  /** operator, rejection, gate-failure, agent-output, agents-file, import */
  source: string;
  /** the lane it came from (null for imported ones) */
  lane: string | null;
  sessionId: string | null;
  createdAt: number;
  updatedAt: number | null;
  lastUsedAt: number | null;
  /** as stored, and decayed by the time since it was last written or used */
  confidence: number;
  effectiveConfidence: number;
  utility: number;
  maturity: string;
  /** lanes briefed with it */
  uses: number;
  tombstoned: boolean;
  tombstoneReason: string | null;
}

export type { OutcomeCount };

/** The metrics panel (lanes/learnings/metrics.ts): over every lane in the store. */
export interface ConsoleMetrics {
  /** gate runs per profile: a run passes when every required gate of it passed */
  gates: { profile: string; runs: number; passed: number; passRate: number | null }[];
  approvals: number;
  rejections: number;
  /** median ms from a lane's handoff to the operator's decision on it; null with no decision */
  medianDecisionMs: number | null;
  /** rejections with rework, summed over lanes, and how many lanes had any */
  reworkCount: number;
  lanesReworked: number;
  /**
   * cost (USD, lanes/usage/) of closed lanes: merged ones, and ones the operator rejected and that
   * did not merge; `perLane` is null with no such lane
   */
  cost?: {
    merged: { lanes: number; usd: number; perLane: number | null };
    rejected: { lanes: number; usd: number; perLane: number | null };
  };
}

/** An attach in progress (SupervisorApi.attach). */
export interface AttachHandle {
  /** the first frame: the lane's screen as SGR-only rows (safe to print) */
  rows: string[];
  cursor: { x: number; y: number; visible: boolean };
  /** ends the raw output stream; safe to call twice */
  detach(): void;
}

/** A codified refusal that front ends show as is (e.g. "no lane named x"). */
export class ActionError extends Error {
  constructor(
    message: string,
    /** machine-readable reason: not-found, bad-state, bad-input, conflict, needs-override, nothing-to-merge, ... */
    readonly code: string,
  ) {
    super(message);
    this.name = 'ActionError';
  }
}

export interface SupervisorApi {
  readonly sessionId: string;
  readonly repoRoot: string;
  /** every lane of this session, plus resumable lanes of earlier sessions */
  listLanes(): LaneSnapshot[];
  getLane(name: string): LaneSnapshot | undefined;
  newLane(req: NewLaneRequest): Promise<LaneSnapshot>;
  /** bytes typed into the lane's pty */
  send(name: string, data: string): void;
  /**
   * the lane's screen, one string per row, trailing spaces trimmed. A lane nobody draws posts no
   * screens (only its last line and pattern matches), so this is the screen as of the last sync:
   * `await syncScreen(name)` first for the screen as of now (a read also watches it for 2 s).
   */
  screenText(name: string): string[];
  /** the lane's screen with SGR colour escapes (only SGR: safe to print) */
  screenAnsi(name: string): string[];
  /** the lane's screen as styled runs, the window [top, top+rows) of the visible screen */
  screenStyled(name: string): StyledRow[];
  /** cursor position on the lane's screen */
  cursor(name: string): { x: number; y: number; visible: boolean };
  resize(name: string, cols: number, rows: number): void;
  /** Resolves when the lane's screen reflects all output so far. */
  syncScreen(name: string): Promise<void>;
  /**
   * Attach mode: resizes the lane to `size` when given (the latest size wins), brings its screen
   * up to date and resolves with that first frame (SGR-only rows and the cursor); from then on
   * `onData` gets the lane's raw pty output until `detach()`. Atomic: the first frame and the
   * stream miss and repeat nothing. Refused (`bad-state`) unless the lane's process is alive.
   */
  attach(name: string, onData: (data: string) => void, size?: { cols: number; rows: number }): Promise<AttachHandle>;
  /**
   * Which lanes' screens this front end draws now: their emulators keep styled snapshots; lanes
   * nobody draws cost parsing only. Replaces the previous set (optional: remote front ends).
   */
  watchScreens?(names: string[]): void;
  handoff(name: string, cause?: string): Promise<void>;
  /**
   * The agent itself says it waits for input (an agent hook): the most trusted state source,
   * held until the operator types or, 2 s on, another source has newer news (lanes/lane/activitySources.ts).
   */
  reportWaiting(name: string, cause?: string): void;
  rerunGates(name: string): Promise<void>;
  review(name: string): Promise<ReviewInfo>;
  /**
   * Puts the lane in the merge queue (lanes/supervisor/mergeQueue.ts) and resolves once it is
   * queued; with `wait`, once it landed (merged), rejecting with why when it left the queue
   * without landing (failed on the merged tree, a conflict, taken out of the queue).
   */
  approve(name: string, opts?: { override?: boolean; by?: string; wait?: boolean }): Promise<void>;
  /** the merge queue, next to land first (optional: front ends with no queue) */
  mergeQueue?(): Promise<MergeQueueInfo>;
  /** moves a waiting entry to `position` (1: next to land; after any entry already validating or merging) */
  moveInQueue?(name: string, position: number): Promise<MergeQueueInfo>;
  /** takes the lane out of the merge queue: back to awaiting approval (refused while it merges) */
  removeFromQueue?(name: string): Promise<void>;
  /** pauses the queue (no next entry starts; one validating or merging finishes) or resumes it */
  pauseQueue?(paused: boolean): Promise<MergeQueueInfo>;
  reject(name: string, opts: { reason: string; mode: RejectMode; by?: string }): Promise<void>;
  /** ends what runs (agent, gates; refused while a merge is in flight); the lane stays, resumable */
  stop(name: string): Promise<void>;
  /**
   * takes the lane away from any state but a merge in flight: what runs is stopped, its work kept
   * under an archive ref, its worktree removed, a closure written (discarded), its name freed
   */
  remove(name: string): Promise<void>;
  resume(name: string): Promise<void>;
  addLearning(text: string, lane?: string): Promise<void>;
  /** learnings matching `query` (full text; empty: all), best match first (optional: learnings browser) */
  listLearnings?(query?: string, opts?: { includeTombstoned?: boolean; limit?: number }): Promise<LearningInfo[]>;
  /** retires a learning: kept for the record, never injected again */
  tombstoneLearning?(id: number, reason: string): Promise<void>;
  editLearning?(id: number, text: string): Promise<void>;
  metrics?(): Promise<ConsoleMetrics>;
  /**
   * How the lanes of earlier sessions that closed at or after `since` (epoch ms) ended, with
   * counts: closure outcome, else state (optional: the header's "today")
   */
  pastOutcomes?(since: number): Promise<OutcomeCount[]>;
  /** the lane's review comments, sent ones judged addressed or not against its branch now (optional: review comments) */
  listComments?(lane: string): Promise<ReviewComment[]>;
  /** a draft comment on the lane's head: the file must be in its diff, the lines in the file */
  addComment?(lane: string, comment: NewComment): Promise<ReviewComment>;
  /** a draft's new text (a sent comment is refused) */
  editComment?(lane: string, id: number, text: string): Promise<ReviewComment>;
  /** deletes a draft (a sent comment is refused: it is part of the record) */
  deleteComment?(lane: string, id: number): Promise<void>;
  on(listener: (event: SupervisorEvent) => void): () => void;
  /** stops every lane cleanly and closes the store */
  shutdown(cause?: string): Promise<void>;
}
