/**
 * The dashboard's view of the world. Components import engine types from here (never from
 * lanes/ directly), so the view depends on one module of plain types.
 */
export type { LaneSnapshot, LaneState, StyledRow, StyledRun, VerdictStatus } from '../../lanes/lane/types.js';
export type {
  SupervisorApi,
  SupervisorEvent,
  ReviewInfo,
  GateVerdict,
  DiffStatEntry,
  RejectMode,
  NewLaneRequest,
  LearningInfo,
  ConsoleMetrics,
} from '../../lanes/supervisor/api.js';
export type { LearningsBrowserState, MetricsPanelState, LearningsSlice } from './learningsSlice.js';

import type { LaneSnapshot, StyledRow } from '../../lanes/lane/types.js';
import type { ReviewInfo, RejectMode } from '../../lanes/supervisor/api.js';
import type { LearningsSlice } from './learningsSlice.js';
import type { ReplaySlice } from './replaySlice.js';
export type { HistoryEntry, HistoryState, ReplaySlice, ReplayView, TimelineMark } from './replaySlice.js';

/** What covers the dashboard right now; exactly one at a time. */
export type Mode =
  | 'none'
  | 'help'
  | 'new-lane-form'
  | 'reject-form'
  | 'confirm-stop'
  | 'confirm-quit'
  | 'confirm-approve'
  | 'learning-input'
  | 'diff'
  | 'gate-output'
  | 'learnings'
  | 'metrics'
  | 'history'
  | 'replay';

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

export interface ConfirmState {
  lane: string | null;
  message: string;
}

export interface LanesSlice {
  lanes: LaneSnapshot[];
  /** the focused lane's screen as styled runs (refreshed with the lanes) */
  screen: StyledRow[];
  screenLane: string | null;
  cursor: { x: number; y: number; visible: boolean } | null;
  refreshedAt: number;
}

export interface UiSlice {
  repoLabel: string;
  baseBranch: string;
  sessionId: string;
  profiles: string[];
  /** false when NO_COLOR is set: components then pass no colour props */
  color: boolean;
  /** the operator's terminal */
  size: { cols: number; rows: number };
  /** the focus pane's inner size, used to size the focused lane's screen */
  paneSize: { cols: number; rows: number };
  focused: string | null;
  mode: Mode;
  scroll: { review: number; viewer: number; help: number };
  flash: Flash | null;
  newLane: NewLaneFormState;
  reject: RejectFormState | null;
  confirm: ConfirmState | null;
  learning: { text: string; lane: string | null };
  /** what the host (runDashboard) should do next; the store only asks */
  request: { attach: string | null; quit: boolean };
}

export interface ReviewSlice {
  review: {
    lane: string | null;
    info: ReviewInfo | null;
    loading: boolean;
    error: string | null;
  };
}

export type AppState = LanesSlice & UiSlice & ReviewSlice & LearningsSlice & ReplaySlice;
