/**
 * The store's three slices with their initial values. Transitions live in actions.ts; the
 * slices only say what each part of the state holds.
 */
import type { LanesSlice, NewLaneFormState, ReviewSlice, UiSlice } from './types.js';

export interface UiSliceOptions {
  repoLabel: string;
  baseBranch: string;
  sessionId: string;
  profiles: string[];
  color: boolean;
  size: { cols: number; rows: number };
}

export function createLanesSlice(): LanesSlice {
  return { lanes: [], screen: [], screenLane: null, cursor: null, refreshedAt: 0 };
}

export function emptyNewLaneForm(baseBranch: string, profile = 0): NewLaneFormState {
  return { field: 'name', name: '', profile, task: '', base: baseBranch, errors: {}, submitting: false };
}

export function createUiSlice(opts: UiSliceOptions): UiSlice {
  return {
    repoLabel: opts.repoLabel,
    baseBranch: opts.baseBranch,
    sessionId: opts.sessionId,
    profiles: opts.profiles,
    color: opts.color,
    size: opts.size,
    // 0x0 until the focus pane reports its size: no lane is resized before that
    paneSize: { cols: 0, rows: 0 },
    focused: null,
    mode: 'none',
    scroll: { review: 0, viewer: 0, help: 0 },
    flash: null,
    newLane: emptyNewLaneForm(opts.baseBranch),
    reject: null,
    confirm: null,
    learning: { text: '', lane: null },
    request: { attach: null, quit: false },
  };
}

export function createReviewSlice(): ReviewSlice {
  return { review: { lane: null, info: null, loading: false, error: null } };
}
