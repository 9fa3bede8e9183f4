/** Pure questions about the state, shared by the keymap, the components and the actions. */
import { LANE_STATES, LIVE_STATES } from '../../lanes/lane/types.js';
import type { AppState, LaneSnapshot, LaneState } from './types.js';

export function focusedLane(s: Pick<AppState, 'lanes' | 'focused'>): LaneSnapshot | undefined {
  return s.lanes.find((l) => l.name === s.focused);
}

export function isLive(state: LaneState): boolean {
  return LIVE_STATES.has(state);
}

/** A lane whose agent, gates or merge is still working: quitting interrupts it. */
export function isBusy(state: LaneState): boolean {
  return LIVE_STATES.has(state) || state === 'gating' || state === 'merging' || state === 'queued';
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
 * Today's outcomes, derived from the snapshots: lanes that reached merged / discarded / failed
 * since local midnight. A rejection with rework leaves the lane alive, so `rejected` also adds
 * the rework count of lanes touched today.
 */
export function todayCounts(
  lanes: readonly LaneSnapshot[],
  now: number,
): { merged: number; rejected: number; failed: number } {
  const since = startOfDay(now);
  let merged = 0;
  let rejected = 0;
  let failed = 0;
  for (const l of lanes) {
    if (l.stateSince < since) continue;
    if (l.state === 'merged') merged++;
    else if (l.state === 'discarded') rejected++;
    else if (l.state === 'failed') failed++;
    rejected += l.reworkCount;
  }
  return { merged, rejected, failed };
}

/** Why nothing can be done to the focused lane, or null when there is one. */
export function noLaneReason(s: Pick<AppState, 'lanes' | 'focused'>): string | null {
  if (s.lanes.length === 0) return 'no lanes yet (n: new lane)';
  if (!focusedLane(s)) return 'no lane selected';
  return null;
}

export function anyBusy(lanes: readonly LaneSnapshot[]): boolean {
  return lanes.some((l) => isBusy(l.state));
}
