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
  refusal,
  type LaneAction,
} from '../../lanes/lane/rules.js';
import { LANE_STATES } from '../../lanes/lane/types.js';
import { TODAY_OUTCOME } from '../ui/theme.js';
import type { AppState, LaneSnapshot, LaneState, LearningInfo, OverlayKind, OverlayOf } from './types.js';

export { allows, canAttach, isBusy, isFinal, isLive, isSettled, refusal, type LaneAction };

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

function startOfDay(now: number): number {
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
): { merged: number; rejected: number; failed: number } {
  const since = startOfDay(now);
  const counts = { merged: 0, rejected: 0, failed: 0 };
  for (const l of lanes) {
    if (l.stateSince < since) continue;
    const outcome = TODAY_OUTCOME[l.state];
    if (outcome) counts[outcome]++;
    counts.rejected += l.reworkCount;
  }
  return counts;
}

/** Why nothing can be done to the focused lane, or null when there is one. */
export function noLaneReason(s: Pick<AppState, 'lanes' | 'focused'>): string | null {
  if (s.lanes.length === 0) return 'no lanes yet (n: new lane)';
  if (!focusedLane(s)) return 'no lane selected';
  return null;
}
