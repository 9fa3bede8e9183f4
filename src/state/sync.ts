/**
 * The engine's state pulled into the store: lane snapshots and the focused lane's screen (on the
 * store's timer and after supervisor events, never per output chunk), the review of a lane in
 * review, and the focused live lane's pty sized to the focus pane.
 *
 * The engine is told which lanes this dashboard draws (watchScreens: the focused one), so only
 * their screens are sent. A lane's pty follows the latest client (tmux's "latest"): this
 * dashboard resizes the focused lane when the focus moves to it or this terminal's pane changes
 * size, never merely because the lane's size differs (two dashboards of different sizes would
 * fight); a screen of another size is drawn cropped or padded.
 */
import { canAttach, focusedLane, showsReview } from './selectors.js';
import type { AppState, DashboardSupervisor, Flash, LaneSnapshot, StyledRow } from './types.js';

export interface Sync {
  /** pull lane snapshots (and the focused lane's screen) from the supervisor */
  refresh(): void;
  loadReview(name?: string): Promise<void>;
  /** keep the focused live lane's pty at the focus pane's size, so its screen fits the pane */
  fitFocusedLane(): void;
}

/** Same content; the supervisors hand back the same object until a push replaces it. */
function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** An error as one line for the flash line. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createSync(
  get: () => AppState,
  set: (patch: Partial<AppState>) => void,
  supervisor: DashboardSupervisor,
  now: () => number,
  flash: (text: string, kind?: Flash['kind']) => void,
): Sync {
  function readScreen(name: string): { screen: StyledRow[]; cursor: AppState['cursor'] } {
    try {
      return { screen: supervisor.screenStyled(name), cursor: supervisor.cursor(name) };
    } catch {
      return { screen: [], cursor: null };
    }
  }

  /** the lane and pane size this dashboard last sized a pty to */
  let lastFit: { lane: string; cols: number; rows: number } | null = null;

  const sync: Sync = {
    refresh() {
      const s = get();
      let lanes: LaneSnapshot[];
      try {
        lanes = supervisor.listLanes();
      } catch (err) {
        flash(`cannot list lanes: ${errorText(err)}`, 'error');
        return;
      }
      const patch: Partial<AppState> = {};
      if (!sameJson(lanes, s.lanes)) patch.lanes = lanes;
      const members = supervisor.members?.();
      if (members && !sameJson(members, s.members)) patch.members = members;
      let focused = s.focused;
      if (!focused || !lanes.some((l) => l.name === focused)) {
        focused = lanes[0]?.name ?? null;
        if (focused !== s.focused) patch.focused = focused;
      }
      supervisor.watchScreens?.(focused ? [focused] : []);
      if (focused) {
        const { screen, cursor } = readScreen(focused);
        if (focused !== s.screenLane || !sameJson(screen, s.screen)) {
          patch.screen = screen;
          patch.screenLane = focused;
        }
        if (!sameJson(cursor, s.cursor)) patch.cursor = cursor;
      } else if (s.screenLane !== null) {
        patch.screen = [];
        patch.screenLane = null;
        patch.cursor = null;
      }
      if (Object.keys(patch).length > 0) {
        patch.refreshedAt = now();
        set(patch);
      }
      const after = get();
      sync.fitFocusedLane();
      const lane = focusedLane(after);
      // The review of a lane in review is loaded on demand: when it gets focus or reaches
      // review, and again when its head or gate verdicts change (gateSummary moves).
      if (lane && showsReview(lane)) {
        const r = after.review;
        if (!r.loading && (r.lane !== lane.name || (r.info === null && r.error === null)))
          void sync.loadReview(lane.name);
      }
    },

    async loadReview(name) {
      const lane = name ?? get().focused;
      if (!lane) return;
      set({
        review: { lane, info: get().review.lane === lane ? get().review.info : null, loading: true, error: null },
      });
      try {
        const info = await supervisor.review(lane);
        if (get().review.lane === lane) set({ review: { lane, info, loading: false, error: null } });
      } catch (err) {
        if (get().review.lane === lane) set({ review: { lane, info: null, loading: false, error: errorText(err) } });
      }
    },

    fitFocusedLane() {
      const s = get();
      const lane = focusedLane(s);
      if (s.request.attach) {
        lastFit = null; // attach sized it to the whole terminal: size it to the pane after
        return;
      }
      if (!lane || !canAttach(lane)) return;
      const { cols, rows } = s.paneSize;
      if (cols < 10 || rows < 3) return;
      if (lastFit && lastFit.lane === lane.name && lastFit.cols === cols && lastFit.rows === rows) return;
      lastFit = { lane: lane.name, cols, rows };
      if (lane.cols === cols && lane.rows === rows) return;
      try {
        supervisor.resize(lane.name, cols, rows);
      } catch {
        // a lane that just exited cannot be resized; the next refresh shows its new state
      }
    },
  };
  return sync;
}
