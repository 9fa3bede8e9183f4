/** The one key handler of the dashboard: every key press goes through the keymap table. */
import { useInput } from 'ink';
import { useRef } from 'react';
import { dispatchKey, textInputActive } from '../keymap/index.js';
import type { AppStore } from '../state/store.js';
import { keyNameOf, PasteReader, splitKeys } from './keys.js';

export function useKeymap(store: AppStore, isActive = true): void {
  const paste = useRef(new PasteReader()).current;
  useInput(
    (input, key) => {
      // A bracketed paste is text for the field in focus, newlines included: never keys.
      const pasted = paste.feed(input, key);
      if (pasted === 'held') return;
      if (pasted) {
        store.actions.pasteText(pasted.text);
        return;
      }
      const name = keyNameOf(input, key);
      // Keys typed faster than a frame (or sent by a script) arrive as one chunk: "jj\r".
      // A paste of plain text into a field stays whole.
      const pasteIntoField = textInputActive(store.getState()) && !/[\x00-\x1f\x7f]/.test(input);
      const burst = name === null && !pasteIntoField ? splitKeys(input) : null;
      if (!burst) {
        dispatchKey(name, input, store.getState(), store.actions);
        return;
      }
      for (const k of burst) dispatchKey(k.name, k.input, store.getState(), store.actions);
    },
    { isActive },
  );
}
