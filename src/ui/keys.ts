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
  if (key.return) return key.meta ? 'alt-enter' : 'enter';
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

/** Bracketed paste (DECSET 2004): the terminal wraps a paste in ESC[200~ … ESC[201~. */
export const BRACKETED_PASTE_ON = '\x1b[?2004h';
export const BRACKETED_PASTE_OFF = '\x1b[?2004l';
/** The markers as Ink hands them to useInput (their own input, ESC stripped). */
const PASTE_START = '[200~';
const PASTE_END = '[201~';

/**
 * Collects a bracketed paste from Ink's inputs: everything between the markers is text, newlines
 * included, never keys (a multi-line paste must not press enter). Returns 'held' for a part of a
 * paste, the whole text at its end marker, and null for input that is no paste.
 */
export class PasteReader {
  private parts: string[] | null = null;

  feed(input: string, key: Pick<Key, 'return' | 'tab' | 'backspace' | 'delete'>): { text: string } | 'held' | null {
    if (input === PASTE_START || input.endsWith(PASTE_START)) {
      this.parts = [];
      return 'held';
    }
    if (this.parts === null) return null;
    if (input === PASTE_END || input.endsWith(PASTE_END)) {
      const text = this.parts.join('');
      this.parts = null;
      return { text };
    }
    // Ink names a lone newline or tab and hands no text for it
    if (key.return) this.parts.push('\n');
    else if (key.tab) this.parts.push('\t');
    else this.parts.push(input);
    return 'held';
  }
}
