/**
 * The dashboard's view of the world: the shape of every slice of the store. Components import
 * engine types from here (never from lanes/ directly), so the view depends on one module of plain
 * types. The slices' initial values are in slices.ts, their transitions in the *Actions.ts files.
 */
export type { LaneSnapshot, LaneState, StyledRow, StyledRun, VerdictStatus } from '../../lanes/lane/types.js';
export type {
  AttachHandle,
  SupervisorApi,
  SupervisorEvent,
  ReviewInfo,
  GateVerdict,
  DiffStatEntry,
  RejectMode,
  NewLaneRequest,
  LearningInfo,
  ConsoleMetrics,
  OutcomeCount,
  ReviewComment,
  CommentStatus,
} from '../../lanes/supervisor/api.js';
export type { HistoryEntry } from '../replay/service.js';
export type { TimelineMark } from '../replay/timeline.js';
export type { MemberState, MemberStatus } from '../control/multiSupervisor.js';

import type { CursorInfo } from '../../lanes/terminal/laneTerminal.js';
import type { LaneSnapshot, StyledRow } from '../../lanes/lane/types.js';
import type {
  ConsoleMetrics,
  LearningInfo,
  ReviewInfo,
  RejectMode,
  SupervisorApi,
} from '../../lanes/supervisor/api.js';
import type { HistoryEntry } from '../replay/service.js';
import type { TimelineMark } from '../replay/timeline.js';
import type { MemberStatus } from '../control/multiSupervisor.js';

/**
 * The supervisor the dashboard drives: one engine's (src/control/remoteSupervisor.ts) or, over
 * several, src/control/multiSupervisor.ts, which adds what only a view of several engines has.
 */
export type DashboardSupervisor = SupervisorApi & {
  /** the engines and how each stands */
  members?(): MemberStatus[];
  /** the state dir of a local engine's lane (its recording's store); null for a remote's */
  stateDirOf?(lane: string): string | null;
  /** where the history (`H`) is read: a local store, or a remote (replayed on its host) */
  historyStore?(): { stateDir: string } | { remote: string } | null;
};

/** How many flash-line messages the message log keeps. */
export const MESSAGE_LOG_SIZE = 100;

export interface Flash {
  text: string;
  kind: 'info' | 'warn' | 'error';
  at: number;
}

export const NEW_LANE_FIELDS = ['name', 'profile', 'task', 'base'] as const;
export type NewLaneField = (typeof NEW_LANE_FIELDS)[number];

export interface NewLaneFormState {
  field: NewLaneField;
  name: string;
  /** index into `profiles` */
  profile: number;
  task: string;
  base: string;
  errors: Partial<Record<NewLaneField, string>>;
  submitting: boolean;
}

export interface RejectFormState {
  lane: string;
  /** first the reason is typed, then rework or discard is chosen */
  step: 'reason' | 'mode';
  reason: string;
  mode: RejectMode;
  error: string | null;
}

/** The text of a review comment being typed in the diff viewer. */
export interface CommentInput {
  text: string;
  file: string;
  line: number;
  endLine: number;
  /** the id of the draft being edited; null for a new comment */
  editing: number | null;
}

/** A yes/no question; `yes` does what `action` names. */
export type ConfirmOverlay =
  | {
      kind: 'confirm';
      action: 'quit';
      message: string;
      /** when ctrl-c opened it: a second ctrl-c within a second quits (like y) */
      ctrlCAt?: number;
    }
  | { kind: 'confirm'; action: 'stop' | 'remove' | 'approve'; lane: string; message: string }
  /** the repo config's commands (setup, gates, notify hook) are not allowed yet: allow them? */
  | { kind: 'confirm'; action: 'trust'; message: string };

/** The replay player's view of one lane's recording (the player itself: src/replay/player.ts). */
export interface ReplayView {
  laneId: number;
  lane: string;
  task: string;
  sessionId: string;
  outcome: string | null;
  /** lanes of the same session (the lane switcher) */
  lanes: HistoryEntry[];
  /** where escape goes: back to the history, or quit (the `replay` command) */
  from: 'history' | 'command';
  playing: boolean;
  speed: number;
  positionMs: number;
  durationMs: number;
  idleCapMs: number;
  /** the timeline, each mark with its play time */
  marks: (TimelineMark & { playMs: number })[];
  /** the last mark at or before the position (-1: none) */
  markIndex: number;
  screen: StyledRow[];
  cursor: CursorInfo | null;
  cols: number;
  rows: number;
  /** the lane may still be recording (not closed): the end moves */
  live: boolean;
}

/**
 * What covers the dashboard right now: exactly one thing at a time, with the state that lives
 * only while it is open. Each kind but 'none' is also the keymap scope of that name
 * (src/keymap/index.ts). The learnings browser, the metrics panel and the history keep their
 * data in their slices between openings.
 */
export type Overlay =
  | { kind: 'none' }
  /** `search` filters the keys shown; `typing`: printable keys go into the search */
  | { kind: 'help'; search?: string; typing?: boolean }
  | {
      kind: 'viewer';
      view: 'diff' | 'gate-output';
      /** the diff's line cursor: an index into the diff's text lines (src/ui/diffTargets.ts) */
      cursor?: number;
      /** the other end of a range being marked (v), or null */
      anchor?: number | null;
      /** a review comment being typed: a new one on `file` `line`..`endLine`, or the edit of comment `editing` */
      comment?: CommentInput | null;
    }
  | ConfirmOverlay
  | { kind: 'new-lane-form'; form: NewLaneFormState }
  | { kind: 'reject-form'; form: RejectFormState }
  | { kind: 'learning-input'; text: string; lane: string | null }
  | { kind: 'learnings' }
  | { kind: 'metrics' }
  | { kind: 'history' }
  | { kind: 'replay'; view: ReplayView }
  /** the last messages of the flash line, with their times */
  | { kind: 'messages' }
  /** the engine went away without a word (killed): start it again, or quit */
  | { kind: 'engine-gone'; message: string; restarting: boolean };

export type OverlayKind = Overlay['kind'];
export type OverlayOf<K extends OverlayKind> = Extract<Overlay, { kind: K }>;

/** Every overlay kind, for tests and tables that must cover them all; the keymap's scopes follow this order. */
export const OVERLAY_KINDS = [
  'none',
  'help',
  'viewer',
  'confirm',
  'new-lane-form',
  'reject-form',
  'learning-input',
  'learnings',
  'metrics',
  'history',
  'replay',
  'messages',
  'engine-gone',
] as const satisfies readonly OverlayKind[];
// a kind left out of OVERLAY_KINDS makes this a type error
const _everyKind: Exclude<OverlayKind, (typeof OVERLAY_KINDS)[number]> extends never ? true : never = true;

export const NO_OVERLAY: Overlay = { kind: 'none' };

export interface LanesSlice {
  lanes: LaneSnapshot[];
  /** the focused lane's screen as styled runs (refreshed with the lanes) */
  screen: StyledRow[];
  screenLane: string | null;
  cursor: { x: number; y: number; visible: boolean } | null;
  refreshedAt: number;
  /**
   * The engines of a dashboard over several (src/control/multiSupervisor.ts), in key order, each
   * a group of the lane list; absent (undefined) for the dashboard of one engine.
   */
  members?: MemberStatus[];
}

export interface UiSlice {
  repoLabel: string;
  baseBranch: string;
  sessionId: string;
  profiles: string[];
  /** the new-lane form's default profile (the repo's configured one, else the first on PATH) */
  defaultProfile?: string | null;
  /** profiles whose command is missing here: why, and how to install it (the form marks them) */
  profileMissing?: Record<string, string>;
  /** false when NO_COLOR is set: components then pass no colour props */
  color: boolean;
  /** the operator's terminal */
  size: { cols: number; rows: number };
  /** the focus pane's inner size, used to size the focused lane's screen */
  paneSize: { cols: number; rows: number };
  focused: string | null;
  overlay: Overlay;
  scroll: { review: number; viewer: number; help: number; messages: number };
  flash: Flash | null;
  /** the flash line's messages, oldest first, at most MESSAGE_LOG_SIZE (the message log) */
  messages: Flash[];
  /** what the host (runDashboard) should do next; the store only asks */
  request: {
    attach: string | null;
    quit: boolean;
    /** with quit: stop every lane and the engine too (an engine client's second choice) */
    stopEngine?: boolean;
    /** the engine is gone: start it again (the host does, then calls engineBack) */
    restartEngine?: boolean;
    /** the operator allowed the repo config's commands: the host records it (lanes/trust), then trustDone */
    trust?: boolean;
    /** switch to the other view (viewSwitch): the host ends this one and opens that one */
    switchView?: boolean;
  };
  /**
   * The view the switch key (A) opens from here: `all`, every running engine of the user; `repo`,
   * this repo's dashboard; absent: no switch (e.g. --all outside a repo, or a remote's dashboard).
   */
  viewSwitch?: 'all' | 'repo';
  /** the lanes live in an engine and outlive this dashboard: quitting leaves them running */
  lanesOutlive?: boolean;
  /**
   * The last screen of a lane's recording, shown for a lane with no live screen (an earlier
   * session's, or one whose agent is gone); `key` is the lane's id and output size it was read at.
   */
  recordedScreen?: { key: string; screen: StyledRow[] } | null;
  /**
   * Page up in the focus pane: the focused lane's history read back from its recording (text,
   * oldest first, ending with its last screen), `offset` lines scrolled up from the bottom; null: live.
   */
  scrollback?: Scrollback | null;
  /** today's outcomes of the lanes of earlier sessions (the recording's store), counted since `since` */
  todayPast?: TodayCounts & { since: number };
}

/** A lane's scrollback as the focus pane pages through it (AppState.scrollback). */
export interface Scrollback {
  lane: string;
  rows: string[];
  /** lines scrolled up from the bottom (0: the last screen) */
  offset: number;
  /** epoch ms it was read at (the history is a snapshot; new output shows when back to live) */
  at: number;
  loading: boolean;
}

/** The header's "today" line: lanes merged, rejected and failed since local midnight. */
export interface TodayCounts {
  merged: number;
  rejected: number;
  failed: number;
}

export interface ReviewSlice {
  review: {
    lane: string | null;
    info: ReviewInfo | null;
    loading: boolean;
    error: string | null;
  };
}

export type LearningsInputKind = 'search' | 'tombstone' | 'edit';

export interface LearningsBrowserState {
  /** the search applied to `items` */
  query: string;
  items: LearningInfo[];
  /** index into items */
  selected: number;
  includeTombstoned: boolean;
  loading: boolean;
  error: string | null;
  /** text being typed: a search, a tombstone reason, or the learning's new text */
  input: { kind: LearningsInputKind; text: string } | null;
}

export interface MetricsPanelState {
  data: ConsoleMetrics | null;
  loading: boolean;
  error: string | null;
}

export interface LearningsSlice {
  learningsBrowser: LearningsBrowserState;
  metricsPanel: MetricsPanelState;
}

export interface HistoryState {
  entries: HistoryEntry[];
  selected: number;
  error: string | null;
}

export interface ReplaySlice {
  history: HistoryState;
}

export type AppState = LanesSlice & UiSlice & ReviewSlice & LearningsSlice & ReplaySlice;
