/**
 * Pure questions about the state, shared by the keymap, the components and the actions. What a
 * lane's state allows is the engine's lane rules (lanes/lane/rules.ts), re-exported here so
 * components ask them without importing the engine.
 */
import {
  allows,
  canAttach,
  isBusy,
  isFinal,
  isLive,
  isSettled,
  needsOperator,
  refusal,
  type LaneAction,
} from '../../lanes/lane/rules.js';
import { LANE_STATES } from '../../lanes/lane/types.js';
import { TODAY_OUTCOME } from '../ui/theme.js';
import type {
  AppState,
  LaneSnapshot,
  LaneState,
  LearningInfo,
  OverlayKind,
  Scrollback,
  OverlayOf,
  OutcomeCount,
  StyledRow,
  TodayCounts,
} from './types.js';

export { allows, canAttach, isBusy, isFinal, isLive, isSettled, needsOperator, refusal, type LaneAction };

export function focusedLane(s: Pick<AppState, 'lanes' | 'focused'>): LaneSnapshot | undefined {
  return s.lanes.find((l) => l.name === s.focused);
}

/** The overlay if it is of this kind, else null (a stable reference: safe in a selector). */
export function overlayOf<K extends OverlayKind>(s: Pick<AppState, 'overlay'>, kind: K): OverlayOf<K> | null {
  return s.overlay.kind === kind ? (s.overlay as OverlayOf<K>) : null;
}

export function selectedLearning(s: Pick<AppState, 'learningsBrowser'>): LearningInfo | undefined {
  return s.learningsBrowser.items[s.learningsBrowser.selected];
}

/** A lane the operator decides on: the focus pane shows its review instead of its screen. */
export function showsReview(lane: LaneSnapshot): boolean {
  return allows(lane.state, 'approve');
}

/**
 * A lane whose worktree is still there to diff: it goes when the lane is merged or discarded,
 * the final states (no event moves the lane any more).
 */
export function hasWorktree(lane: LaneSnapshot): boolean {
  return !!lane.worktree && !isFinal(lane.state);
}

export function laneCounts(lanes: readonly LaneSnapshot[]): Array<[LaneState, number]> {
  const counts = new Map<LaneState, number>();
  for (const l of lanes) counts.set(l.state, (counts.get(l.state) ?? 0) + 1);
  return LANE_STATES.filter((st) => counts.has(st)).map((st) => [st, counts.get(st) ?? 0]);
}

/** The lanes that wait on the operator (lanes/lane/rules.ts, needsOperator): the header counts them. */
export function needingOperator(lanes: readonly LaneSnapshot[]): LaneSnapshot[] {
  return lanes.filter((l) => needsOperator(l.state));
}

export function startOfDay(now: number): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/**
 * Today's outcomes, derived from the snapshots: lanes that reached an outcome state since local
 * midnight (which state counts as which: TODAY_OUTCOME in src/ui/theme.ts). A rejection with rework leaves the lane alive, so `rejected` also adds
 * the rework count of lanes touched today.
 */
export function todayCounts(
  lanes: readonly LaneSnapshot[],
  now: number,
  past?: TodayCounts & { since: number },
): TodayCounts {
  const since = startOfDay(now);
  // earlier sessions' lanes of today (counted at start; of another day: left out)
  const counts =
    past && past.since === since
      ? { merged: past.merged, rejected: past.rejected, failed: past.failed }
      : { merged: 0, rejected: 0, failed: 0 };
  for (const l of lanes) {
    if (l.stateSince < since) continue;
    const outcome = TODAY_OUTCOME[l.state];
    if (outcome) counts[outcome]++;
    counts.rejected += l.reworkCount;
  }
  return counts;
}

/**
 * Today's outcomes of the lanes of earlier sessions, from how the engine's store says they ended
 * since local midnight (`since`; SupervisorApi.pastOutcomes): by their closure's outcome, a
 * rejection counted as rejected.
 */
export function pastTodayCounts(outcomes: readonly OutcomeCount[], since: number): TodayCounts & { since: number } {
  const counts = { merged: 0, rejected: 0, failed: 0, since };
  for (const { outcome, n } of outcomes) {
    const kind = outcome === 'rejected' ? 'rejected' : TODAY_OUTCOME[outcome as LaneState];
    if (kind) counts[kind] += n;
  }
  return counts;
}

/** What a recorded screen is cached by: the lane and how much it had written. */
export function recordedKey(lane: { id: number; outputBytes: number }): string {
  return `${lane.id}:${lane.outputBytes}`;
}

/**
 * The focused lane's screen to draw: its live screen, or, when its agent is gone and that screen
 * is blank (a lane of an earlier session), the last screen of its recording once loaded.
 * `fromRecording` says which; `wanted` says the recording should be loaded.
 */
export function shownScreen(s: Pick<AppState, 'lanes' | 'focused' | 'screen' | 'recordedScreen'>): {
  screen: StyledRow[];
  fromRecording: boolean;
  wanted: boolean;
} {
  const lane = focusedLane(s);
  const blank = s.screen.every((row) => row.every((run) => run.text.trim() === ''));
  if (!lane || lane.alive || !blank) return { screen: s.screen, fromRecording: false, wanted: false };
  const rec = s.recordedScreen;
  if (rec && rec.key === recordedKey(lane) && rec.screen.length > 0)
    return { screen: rec.screen, fromRecording: true, wanted: false };
  return { screen: s.screen, fromRecording: false, wanted: rec?.key !== recordedKey(lane) };
}

/** Why nothing can be done to the focused lane, or null when there is one. */
export function noLaneReason(s: Pick<AppState, 'lanes' | 'focused'>): string | null {
  if (s.lanes.length === 0) return 'no lanes yet (n: new lane)';
  if (!focusedLane(s)) return 'no lane selected';
  return null;
}

/** Rows of a lane's scrollback a focus pane of `paneRows` shows (one is its status line). */
export function scrollbackRows(paneRows: number): number {
  return Math.max(1, paneRows - 1);
}

/** The focused lane's scrollback when the focus pane shows it (page up), else null. */
export function shownScrollback(s: Pick<AppState, 'lanes' | 'focused' | 'scrollback'>): Scrollback | null {
  const sb = s.scrollback;
  return sb && sb.lane === s.focused && focusedLane(s) ? sb : null;
}
