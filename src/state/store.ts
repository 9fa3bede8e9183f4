/**
 * The dashboard store: a zustand vanilla store made of slices (lanes, ui, review, learnings,
 * replay; slices.ts) plus the actions that change it (actions.ts). Engine news reaches the store
 * on a timer (about 4 Hz) and, for supervisor events and an engine's pushes (lane list, watched
 * screens), through one coalesced refresh — never once per output chunk.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { createActions, type AppActions } from './actions.js';
import {
  createLanesSlice,
  createLearningsSlice,
  createReplaySlice,
  createReviewSlice,
  createUiSlice,
  emptyReview,
} from './slices.js';
import type { AppState, SupervisorApi, SupervisorEvent } from './types.js';

/** How long after the store starts the header's count of earlier sessions' lanes is read. */
const TODAY_PAST_DELAY_MS = 1000;

export interface AppStoreOptions {
  /** profile names the new-lane form offers */
  profiles?: string[];
  /** the form's default profile and the profiles that cannot run here (profiles/availability.ts) */
  profileChoices?: { defaultProfile: string | null; missing: Record<string, string> };
  repoLabel?: string;
  baseBranch?: string;
  /** refresh period in ms (default 250); 0 disables the timer (tests call refresh themselves) */
  refreshMs?: number;
  /** colour on or off; default: off when NO_COLOR is set and not empty */
  color?: boolean;
  size?: { cols: number; rows: number };
  now?: () => number;
  /** the lanes live in an engine and outlive this dashboard (quitting leaves them running) */
  lanesOutlive?: boolean;
  /** count earlier sessions' lanes in the header's "today" (default true; tests without a store turn it off) */
  todayFromHistory?: boolean;
  /** called back whenever the supervisor's caches changed (a remote's pushes): refresh soon */
  changes?: (listener: () => void) => () => void;
}

export type AppStore = StoreApi<AppState> & {
  readonly actions: AppActions;
  readonly supervisor: SupervisorApi;
  /** stops the timer and the event subscription */
  dispose(): void;
};

export function colorEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NO_COLOR === undefined || env.NO_COLOR === '';
}

/** Events after which the focused lane's review may have changed. */
function touchesReview(ev: SupervisorEvent): string | undefined {
  if (ev.type === 'gate-verdict' || ev.type === 'lane-state') return ev.lane;
  if (ev.type === 'decision') return ev.decision.lane;
  return undefined;
}

export function createAppStore(supervisor: SupervisorApi, opts: AppStoreOptions = {}): AppStore {
  const store = createStore<AppState>()(() => ({
    ...createLanesSlice(),
    ...createUiSlice({
      repoLabel: opts.repoLabel ?? supervisor.repoRoot,
      baseBranch: opts.baseBranch ?? '',
      sessionId: supervisor.sessionId,
      profiles: opts.profiles ?? [],
      color: opts.color ?? colorEnabled(),
      size: opts.size ?? { cols: 80, rows: 24 },
    }),
    ...createReviewSlice(),
    ...createLearningsSlice(),
    ...createReplaySlice(),
  }));
  if (opts.lanesOutlive) store.setState({ lanesOutlive: true });
  if (opts.profileChoices)
    store.setState({
      defaultProfile: opts.profileChoices.defaultProfile,
      profileMissing: opts.profileChoices.missing,
    });
  const actions = createActions(store, supervisor, opts.now);

  let pending: ReturnType<typeof setTimeout> | null = null;
  const reviewDirty = new Set<string>();
  let learningsDirty = false;
  const flushEvents = (): void => {
    pending = null;
    actions.refresh();
    const s = store.getState();
    const reviewed = s.review.lane;
    if (reviewed && reviewDirty.has(reviewed)) {
      if (s.focused === reviewed || s.overlay.kind === 'viewer') void actions.loadReview(reviewed);
      // not on screen: forget it, so it is loaded afresh when the lane gets focus again
      else store.setState({ review: emptyReview() });
    }
    reviewDirty.clear();
    // a learning captured while the browser is open shows at once, not at its next opening
    if (learningsDirty && s.overlay.kind === 'learnings') void actions.loadLearnings();
    learningsDirty = false;
  };
  const unsubscribe = supervisor.on((ev) => {
    const lane = touchesReview(ev);
    if (lane) reviewDirty.add(lane);
    if (ev.type === 'learning') learningsDirty = true;
    if (ev.type === 'error') actions.flash(ev.lane ? `${ev.lane}: ${ev.message}` : ev.message, 'error');
    else if (ev.type === 'notice') actions.flash(ev.lane ? `${ev.lane}: ${ev.message}` : ev.message, 'info');
    if (!pending) pending = setTimeout(flushEvents, 20);
  });
  const offChanges = opts.changes?.(() => {
    if (!pending) pending = setTimeout(flushEvents, 15);
  });

  const period = opts.refreshMs ?? 250;
  const timer = period > 0 ? setInterval(() => actions.refresh(), period) : null;
  timer?.unref?.();
  actions.refresh();
  // the header's "today" also counts the lanes of earlier sessions (the engine reads them from
  // its store: the dashboard opens no store of its own), a moment after the first frame
  const todayTimer =
    opts.todayFromHistory !== false ? setTimeout(() => void actions.loadTodayPast(), TODAY_PAST_DELAY_MS) : null;
  todayTimer?.unref?.();

  return Object.assign(store, {
    actions,
    supervisor,
    dispose() {
      if (timer) clearInterval(timer);
      if (todayTimer) clearTimeout(todayTimer);
      if (pending) clearTimeout(pending);
      pending = null;
      unsubscribe();
      offChanges?.();
    },
  });
}
