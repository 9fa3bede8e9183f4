/** Word wrap into lines of at most `width` cells (long words are cut). */
import { charWidth, textWidth, truncate } from './text.js';

export function wrap(text: string, width: number, maxLines = Infinity): string[] {
  const w = Math.max(1, width);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (textWidth(next) <= w) {
      line = next;
      continue;
    }
    if (line) lines.push(line);
    line = textWidth(word) > w ? truncate(word, w) : word;
  }
  if (line) lines.push(line);
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = truncate(`${kept[maxLines - 1]} …`, w);
    return kept;
  }
  return lines;
}

/**
 * Cuts `text` into pieces of at most `width` cells, every character kept (a wide character is
 * never split): long diff and output lines are shown whole on several lines.
 */
export function hardWrap(text: string, width: number): string[] {
  const w = Math.max(2, width);
  const pieces: string[] = [];
  let piece = '';
  let used = 0;
  for (const ch of text) {
    const cw = charWidth(ch.codePointAt(0) ?? 0);
    if (used + cw > w) {
      pieces.push(piece);
      piece = '';
      used = 0;
    }
    piece += ch;
    used += cw;
  }
  pieces.push(piece);
  return pieces;
}
