/**
 * What a key binding is, and where it acts. Each scope is an overlay kind of the store
 * (src/state/types.ts, OVERLAY_KINDS, whose order the help and the docs follow), except
 * 'dashboard': no overlay.
 */
import type { AppActions } from '../state/actions.js';
import { OVERLAY_KINDS, type AppState, type OverlayKind } from '../state/types.js';

/** Where a binding acts: the dashboard (no overlay), or the overlay of that kind. */
export type Scope = 'dashboard' | Exclude<OverlayKind, 'none'>;

/** Every scope, in the order the help overlay and docs/keybindings.md list them. */
export const SCOPES: readonly Scope[] = [
  'dashboard',
  ...OVERLAY_KINDS.filter((k): k is Exclude<OverlayKind, 'none'> => k !== 'none'),
];

export const SCOPE_TITLES: Record<Scope, string> = {
  dashboard: 'Dashboard',
  help: 'Help overlay',
  viewer: 'Diff and gate output viewer',
  confirm: 'Confirm dialog',
  'new-lane-form': 'New lane form',
  'reject-form': 'Reject form',
  'learning-input': 'Learning input',
  learnings: 'Learnings browser',
  metrics: 'Metrics panel',
  history: 'History (past lanes)',
  replay: 'Replay player',
  messages: 'Message log',
  'engine-gone': 'Engine gone',
};

export interface KeyBinding {
  /** dotted id, e.g. 'lanes.next' */
  id: string;
  /** key names: 'down', 'j', 'enter', 'escape', 'tab', 'shift-tab', 'pageup', 'ctrl-c', 'space', 'G', ... */
  keys: string[];
  scope: Scope;
  description: string;
  /** footer label */
  short: string;
  /** false: never listed in the footer (still in help) */
  footer?: boolean;
  /** how the footer names the keys when it differs from the key list (e.g. '↑↓/jk') */
  footerKeys?: string;
  /** true when the key acts now, else the reason it does nothing */
  enabled(state: AppState): true | string;
  run(actions: AppActions, state: AppState): void | Promise<void>;
}

export const always = (): true => true;
