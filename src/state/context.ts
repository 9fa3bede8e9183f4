/**
 * What every group of actions shares: the store, the engine (SupervisorApi), the flash line, a
 * guard that turns an engine refusal (ActionError) into the flash line instead of throwing, and
 * the pull of the engine's state into the store (sync.ts). Each *Actions.ts file builds its
 * actions from one ActionContext; actions.ts puts them together.
 */
import type { StoreApi } from 'zustand/vanilla';
import { focusedLane, overlayOf } from './selectors.js';
import { createSync, errorText, type Sync } from './sync.js';
import {
  MESSAGE_LOG_SIZE,
  type AppState,
  type Flash,
  type LaneSnapshot,
  type OverlayKind,
  type OverlayOf,
  type DashboardSupervisor,
} from './types.js';

export { errorText };

export interface ActionContext extends Sync {
  get(): AppState;
  set(patch: Partial<AppState>): void;
  supervisor: DashboardSupervisor;
  now(): number;
  flash(text: string, kind?: Flash['kind']): void;
  /** Runs an engine call; a refusal goes to the flash line. Refreshes after; false when it failed. */
  guard(what: string, fn: () => Promise<void>): Promise<boolean>;
  /** The focused lane, or undefined after saying so in the flash line. */
  needFocused(): LaneSnapshot | undefined;
  /** The overlay if it is of this kind, else null. */
  overlay<K extends OverlayKind>(kind: K): OverlayOf<K> | null;
}

export function createActionContext(
  store: StoreApi<AppState>,
  supervisor: DashboardSupervisor,
  now: () => number = Date.now,
): ActionContext {
  const get = store.getState;
  const set = (patch: Partial<AppState>): void => store.setState(patch);
  // every message of the flash line is kept in the message log too (the last MESSAGE_LOG_SIZE)
  const flash = (text: string, kind: Flash['kind'] = 'info'): void => {
    const msg = { text, kind, at: now() };
    set({ flash: msg, messages: [...get().messages, msg].slice(-MESSAGE_LOG_SIZE) });
  };
  const sync = createSync(get, set, supervisor, now, flash);
  return {
    ...sync,
    get,
    set,
    supervisor,
    now,
    flash,
    async guard(what, fn) {
      try {
        await fn();
        return true;
      } catch (err) {
        flash(`${what}: ${errorText(err)}`, 'error');
        return false;
      } finally {
        sync.refresh();
      }
    },
    needFocused() {
      const lane = focusedLane(get());
      if (!lane) flash('no lane selected', 'warn');
      return lane;
    },
    overlay: (kind) => overlayOf(get(), kind),
  };
}
