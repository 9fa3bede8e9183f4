/**
 * Every transition of the dashboard state, as plain functions callable outside React, put
 * together from one file per concern: lanes (laneActions.ts), review (reviewActions.ts), text
 * input (formActions.ts), learnings (learningsActions.ts), history and replay
 * (replayActions.ts), and the pull from the engine (sync.ts). What is left here are the
 * overlay, scrolling, size and flash-line actions every view shares.
 */
import type { StoreApi } from 'zustand/vanilla';
import { createActionContext } from './context.js';
import { createFormActions, type FormActions } from './formActions.js';
import { createLaneActions, type LaneActions } from './laneActions.js';
import { createLearningsActions, type LearningsActions } from './learningsActions.js';
import { createReplayActions, type ReplayActions } from './replayActions.js';
import { createReviewActions, type ReviewActions } from './reviewActions.js';
import { createCommentActions, type CommentActions } from './commentActions.js';
import { createQueueActions, type QueueActions } from './queueActions.js';
import type { Sync } from './sync.js';
import { NO_OVERLAY, type AppState, type Flash, type SupervisorApi } from './types.js';

type ScrollTarget = keyof AppState['scroll'];

export interface ViewActions {
  setSize(cols: number, rows: number): void;
  setPaneSize(cols: number, rows: number): void;
  flash(text: string, kind?: Flash['kind']): void;
  clearFlash(): void;
  /** back to the dashboard from any overlay */
  closeOverlay(): void;
  openHelp(): void;
  /** the message log: the flash line's last messages with their times, newest at the bottom */
  openMessages(): void;
  /** `/` in the help: type a search that filters the keys shown */
  helpSearch(): void;
  /** enter in the help's search: stop typing, keep the filter */
  helpSearchDone(): void;
  /** escape in the help: clears the search while typing one, else closes the help */
  helpEscape(): void;
  scroll(target: ScrollTarget, delta: number | 'top' | 'bottom'): void;
  /** a pane that knows how many lines it has puts the clamped offset back */
  setScroll(target: ScrollTarget, offset: number): void;
}

export type AppActions = Pick<Sync, 'refresh' | 'loadReview'> &
  ViewActions &
  LaneActions &
  ReviewActions &
  QueueActions &
  CommentActions &
  FormActions &
  LearningsActions &
  ReplayActions;

export function createActions(
  store: StoreApi<AppState>,
  supervisor: SupervisorApi,
  now: () => number = Date.now,
): AppActions {
  const ctx = createActionContext(store, supervisor, now);
  const { get, set } = ctx;
  const lanes = createLaneActions(ctx);
  const learnings = createLearningsActions(ctx);

  const view: ViewActions = {
    setSize(cols, rows) {
      const s = get().size;
      if (s.cols !== cols || s.rows !== rows) set({ size: { cols, rows } });
    },

    setPaneSize(cols, rows) {
      const s = get().paneSize;
      if (s.cols === cols && s.rows === rows) return;
      set({ paneSize: { cols, rows } });
      ctx.fitFocusedLane();
    },

    flash: ctx.flash,
    clearFlash: () => set({ flash: null }),
    closeOverlay: () => set({ overlay: NO_OVERLAY }),
    openHelp: () => set({ overlay: { kind: 'help' }, scroll: { ...get().scroll, help: 0 } }),
    openMessages: () =>
      set({ overlay: { kind: 'messages' }, scroll: { ...get().scroll, messages: Number.MAX_SAFE_INTEGER } }),
    helpSearch: () =>
      set({ overlay: { kind: 'help', search: '', typing: true }, scroll: { ...get().scroll, help: 0 } }),
    helpSearchDone() {
      const o = ctx.overlay('help');
      if (o) set({ overlay: { ...o, typing: false } });
    },
    helpEscape() {
      const o = ctx.overlay('help');
      if (o?.typing || o?.search) set({ overlay: { kind: 'help' }, scroll: { ...get().scroll, help: 0 } });
      else set({ overlay: NO_OVERLAY });
    },

    scroll(target, delta) {
      const s = get();
      const cur = s.scroll[target];
      const next = delta === 'top' ? 0 : delta === 'bottom' ? Number.MAX_SAFE_INTEGER : Math.max(0, cur + delta);
      // the component clamps the upper bound, it knows how many lines there are
      set({ scroll: { ...s.scroll, [target]: next } });
    },

    setScroll(target, offset) {
      const s = get();
      if (s.scroll[target] !== offset) set({ scroll: { ...s.scroll, [target]: offset } });
    },
  };

  return {
    refresh: ctx.refresh,
    loadReview: ctx.loadReview,
    ...view,
    ...lanes,
    ...createReviewActions(ctx, lanes),
    ...createQueueActions(ctx),
    ...createCommentActions(ctx, (delta) => view.scroll('viewer', delta)),
    ...createFormActions(ctx, learnings),
    ...learnings,
    ...createReplayActions(ctx),
  };
}
