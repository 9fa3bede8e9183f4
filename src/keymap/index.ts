/**
 * The one table of key bindings, kept in one file per scope (dashboard.ts, overlays.ts,
 * learnings.ts, replay.ts). It drives the key dispatch (useKeymap), the footer (the keys that act
 * now), the help overlay (every key; disabled ones with their reason) and the generated
 * docs/keybindings.md. No React and no engine code here: only the store's types and selectors.
 */
import type { AppActions } from '../state/actions.js';
import type { AppState, OverlayKind } from '../state/types.js';
import { DASHBOARD_KEYS } from './dashboard.js';
import { LEARNINGS_KEYS } from './learnings.js';
import { OVERLAY_KEYS } from './overlays.js';
import { REPLAY_KEYS } from './replay.js';
import type { KeyBinding, Scope } from './types.js';

export { SCOPES, SCOPE_TITLES, type KeyBinding, type Scope } from './types.js';

export const KEYMAP: readonly KeyBinding[] = [...DASHBOARD_KEYS, ...OVERLAY_KEYS, ...LEARNINGS_KEYS, ...REPLAY_KEYS];

/** Where keys act now: the overlay's scope, or the dashboard when nothing covers it. */
export function scopeOf(kind: OverlayKind): Scope {
  return kind === 'none' ? 'dashboard' : kind;
}

/** True when printable keys type text (into a form field) instead of acting as bindings. */
export function textInputActive(s: AppState): boolean {
  const o = s.overlay;
  switch (o.kind) {
    case 'new-lane-form':
      return o.form.field !== 'profile';
    case 'reject-form':
      return o.form.step === 'reason';
    case 'learnings':
      return s.learningsBrowser.input !== null;
    case 'learning-input':
      return true;
    case 'help':
      return o.typing === true;
    case 'viewer':
      return !!o.comment;
    default:
      return false;
  }
}

export function bindingsIn(scope: Scope): KeyBinding[] {
  return KEYMAP.filter((b) => b.scope === scope);
}

/** The bindings that act now, in table order: what the footer shows. */
export function activeBindings(s: AppState): KeyBinding[] {
  return bindingsIn(scopeOf(s.overlay.kind)).filter((b) => b.footer !== false && b.enabled(s) === true);
}

const KEY_LABELS: Record<string, string> = {
  up: '↑',
  down: '↓',
  left: '←',
  right: '→',
  enter: 'enter',
  escape: 'esc',
  space: 'space',
};

/** How keys are shown to the operator: '↓/j', 'enter', 'ctrl-c'. */
export function keyLabel(keys: readonly string[]): string {
  return keys.map((k) => KEY_LABELS[k] ?? k).join('/');
}

/** The footer's label of a binding: 'a approve', '↑↓/jk move'. ctrl-c is left out (it is everywhere). */
export function footerLabel(b: KeyBinding): string {
  return `${b.footerKeys ?? keyLabel(b.keys.filter((k) => k !== 'ctrl-c'))} ${b.short}`;
}

export type DispatchResult = 'ran' | 'disabled' | 'typed' | 'ignored';

function isPrintable(keyName: string | null, input: string): boolean {
  if (!input) return false;
  if (keyName === null) return true; // a paste: several characters at once
  return keyName === 'space' || Array.from(keyName).length === 1;
}

/**
 * Handle one key press: typed text goes to the active field, a binding of the current scope
 * runs when enabled, and a disabled binding says why in the flash line.
 */
export function dispatchKey(
  keyName: string | null,
  input: string,
  state: AppState,
  actions: AppActions,
): DispatchResult {
  if (textInputActive(state) && isPrintable(keyName, input)) {
    actions.typeText(input);
    return 'typed';
  }
  if (keyName === null) return 'ignored';
  const scope = scopeOf(state.overlay.kind);
  const binding = KEYMAP.find((b) => b.scope === scope && b.keys.includes(keyName));
  if (!binding) return 'ignored';
  const ok = binding.enabled(state);
  if (ok !== true) {
    actions.flash(`${keyLabel([keyName])}: ${ok}`, 'warn');
    return 'disabled';
  }
  const result = binding.run(actions, state);
  if (result instanceof Promise)
    result.catch((err: unknown) => actions.flash(err instanceof Error ? err.message : String(err), 'error'));
  return 'ran';
}
