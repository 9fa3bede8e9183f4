/** Turns Ink's (input, key) pair into the key names of the keymap table. */
import type { Key } from 'ink';

export function keyNameOf(input: string, key: Key): string | null {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.return) return 'enter';
  if (key.escape) return 'escape';
  if (key.tab) return key.shift ? 'shift-tab' : 'tab';
  // Most terminals send DEL (0x7f) for backspace; Ink names it 'delete'.
  if (key.backspace || key.delete) return 'backspace';
  if (key.ctrl && input.length === 1) return `ctrl-${input.toLowerCase()}`;
  if (key.meta) return null;
  if (input === ' ') return 'space';
  if (Array.from(input).length === 1) return input;
  return null; // a paste or an unknown sequence
}

const BURST_KEYS: Record<string, string> = {
  '\r': 'enter',
  '\n': 'enter',
  '\t': 'tab',
  '\x7f': 'backspace',
  '\b': 'backspace',
  ' ': 'space',
};

/**
 * Splits a chunk of several plain keys (no escape sequences) into single key presses, or
 * returns null when the chunk is not such a burst. Text fields still get printable runs whole.
 */
export function splitKeys(input: string): { name: string | null; input: string }[] | null {
  const chars = Array.from(input);
  if (chars.length < 2 || input.includes('\x1b')) return null;
  return chars.map((c) => {
    if (BURST_KEYS[c]) return { name: BURST_KEYS[c], input: c === ' ' ? ' ' : '' };
    const code = c.charCodeAt(0);
    if (code < 0x20) return { name: `ctrl-${String.fromCharCode(code + 0x60)}`, input: '' };
    return { name: c, input: c };
  });
}
