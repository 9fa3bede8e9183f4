/**
 * The store's slices with their initial values. Transitions live in the *Actions.ts files; the
 * slices only say what each part of the state holds at the start.
 */
import {
  NO_OVERLAY,
  type LanesSlice,
  type LearningsSlice,
  type NewLaneFormState,
  type ReplaySlice,
  type ReviewSlice,
  type UiSlice,
} from './types.js';

/** What the host knows before the store exists; the rest of the ui slice starts empty. */
export type UiSliceOptions = Pick<UiSlice, 'repoLabel' | 'baseBranch' | 'sessionId' | 'profiles' | 'color' | 'size'>;

export function createLanesSlice(): LanesSlice {
  return { lanes: [], screen: [], screenLane: null, cursor: null, refreshedAt: 0 };
}

export function emptyNewLaneForm(baseBranch: string, profile = 0): NewLaneFormState {
  return { field: 'name', name: '', profile, task: '', base: baseBranch, errors: {}, submitting: false };
}

export function createUiSlice(opts: UiSliceOptions): UiSlice {
  return {
    ...opts,
    // 0x0 until the focus pane reports its size: no lane is resized before that
    paneSize: { cols: 0, rows: 0 },
    focused: null,
    overlay: NO_OVERLAY,
    scroll: { review: 0, viewer: 0, help: 0, messages: 0 },
    flash: null,
    messages: [],
    request: { attach: null, quit: false },
  };
}

export function emptyReview(): ReviewSlice['review'] {
  return { lane: null, info: null, loading: false, error: null };
}

export function createReviewSlice(): ReviewSlice {
  return { review: emptyReview() };
}

export function createLearningsSlice(): LearningsSlice {
  return {
    learningsBrowser: {
      query: '',
      items: [],
      selected: 0,
      includeTombstoned: false,
      loading: false,
      error: null,
      input: null,
    },
    metricsPanel: { data: null, loading: false, error: null },
  };
}

export function createReplaySlice(): ReplaySlice {
  return { history: { entries: [], selected: 0, error: null } };
}
