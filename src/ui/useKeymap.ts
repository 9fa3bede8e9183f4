/** The one key handler of the dashboard: every key press goes through the keymap table. */
import { useInput } from 'ink';
import { dispatchKey } from '../keymap.js';
import type { AppStore } from '../state/store.js';
import { keyNameOf } from './keys.js';

export function useKeymap(store: AppStore, isActive = true): void {
  useInput(
    (input, key) => {
      dispatchKey(keyNameOf(input, key), input, store.getState(), store.actions);
    },
    { isActive },
  );
}
