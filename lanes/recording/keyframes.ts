/**
 * Replay keyframes while recording: every so often the lane's emulator state is serialized
 * (@xterm/addon-serialize) and stored next to the chunks, so a replay seeks by restoring the
 * nearest keyframe and replaying at most one interval of output (src/replay/player.ts).
 *
 * The policy: a keyframe after `everyBytes` of output (512 KiB) or after `everyMs` (10 s) of lane
 * time with output since the last one, whichever comes first; one after the first chunk of every
 * run of the agent (a start or a resume begins on a fresh emulator, so that keyframe begins with
 * RIS, `ESC c`: the replay resets its emulator there too); and one after the first chunk
 * following a resize.
 *
 * xterm.js parses asynchronously. A keyframe is taken in the write callback of the chunk it
 * covers: xterm.js calls it right after parsing that chunk and before parsing the next, so the
 * keyframe is exactly the screen after chunk `seq`, even while output floods in.
 */
import type { LaneTerminal } from '../terminal/laneTerminal.js';

/** What the runtime hands to its `keyframe` callback; the supervisor adds the lane id. */
export interface KeyframeCapture {
  /** the last chunk the state includes */
  seq: number;
  /** t_ms of that chunk */
  tMs: number;
  cols: number;
  rows: number;
  data: string;
}

export interface KeyframePolicyOptions {
  /** output bytes between keyframes (default 512 KiB) */
  everyBytes?: number;
  /** lane ms between keyframes while there is output (default 10 s) */
  everyMs?: number;
}

/** 512 KiB: bench/seek.mjs measures a 100 MB lane at p50 ~35 ms, max ~105 ms (1 MiB: max ~280 ms). */
export const KEYFRAME_EVERY_BYTES = 512 * 1024;
export const KEYFRAME_EVERY_MS = 10_000;
/** Marks a keyframe taken on a fresh emulator (a new run of the agent). */
export const RESET_PREFIX = '\x1bc';

export class KeyframePolicy {
  private readonly everyBytes: number;
  private readonly everyMs: number;
  private bytesSince = 0;
  private lastMs: number | null = null;
  private first = true;
  private resized = false;

  constructor(opts: KeyframePolicyOptions = {}) {
    this.everyBytes = opts.everyBytes ?? KEYFRAME_EVERY_BYTES;
    this.everyMs = opts.everyMs ?? KEYFRAME_EVERY_MS;
  }

  /**
   * Counts one chunk; returns the kind of keyframe due after it (null: none). Call it for every
   * chunk, in order.
   */
  note(tMs: number, bytes: number): 'reset' | 'regular' | null {
    this.bytesSince += bytes;
    if (this.lastMs === null) this.lastMs = tMs;
    let due: 'reset' | 'regular' | null = null;
    if (this.first) due = 'reset';
    else if (this.resized || this.bytesSince >= this.everyBytes || tMs - this.lastMs >= this.everyMs) due = 'regular';
    if (due) {
      this.first = false;
      this.resized = false;
      this.bytesSince = 0;
      this.lastMs = tMs;
    }
    return due;
  }

  /** The terminal was resized: the next chunk gets a keyframe (it carries the new size). */
  noteResize(): void {
    this.resized = true;
  }
}

/** Serializes the terminal as a keyframe (call it from the chunk's write callback). */
export function captureKeyframe(
  terminal: LaneTerminal,
  seq: number,
  tMs: number,
  kind: 'reset' | 'regular',
): KeyframeCapture {
  // The addon writes "move 0 cells" as CSI 0 C / D, which terminals read as 1: drop those.
  let data = terminal.serialize().replace(/\x1b\[0[ABCD]/g, '') + cursorFix(terminal);
  // DECTCEM is not part of the serialized modes.
  if (!terminal.cursor().visible) data += '\x1b[?25l';
  return { seq, tMs, cols: terminal.cols, rows: terminal.rows, data: kind === 'reset' ? RESET_PREFIX + data : data };
}

/**
 * The serialize addon sometimes leaves the cursor a cell off (after wide characters, or in the
 * "pending wrap" state at the right margin). An absolute position fixes the first; the second is
 * rebuilt by printing the last cell of the row again, which leaves the cursor pending a wrap.
 */
function cursorFix(terminal: LaneTerminal): string {
  const { x, y } = terminal.cursor();
  if (x < terminal.cols) return `\x1b[${y + 1};${x + 1}H`;
  const chars = Array.from((terminal.styled()[y] ?? []).map((r) => r.text).join(''));
  const width = chars.reduce((n, ch) => n + cellWidth(ch), 0);
  const last = width >= terminal.cols ? (chars[chars.length - 1] ?? ' ') : ' ';
  const w = cellWidth(last);
  return `\x1b[${y + 1};${terminal.cols - w + 1}H${last}`;
}

/** 2 for East Asian wide and emoji code points, else 1 (enough for the margin case above). */
function cellWidth(ch: string): number {
  const c = ch.codePointAt(0) ?? 0;
  const wide =
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1f64f) ||
    (c >= 0x1f900 && c <= 0x1f9ff) ||
    (c >= 0x20000 && c <= 0x3fffd);
  return wide ? 2 : 1;
}
