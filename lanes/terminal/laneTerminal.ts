/**
 * A lane's screen: a headless xterm.js fed with the agent's exact output bytes.
 *
 * Everything the console shows of an agent outside attach mode is rebuilt from this
 * emulator's cells (text, styled runs, SGR-only lines), so escape sequences an agent writes
 * (OSC 52 clipboard writes, title changes, mode switches) never reach the operator's terminal.
 *
 * Flow control: xterm.js parses at its own pace (about 50 MiB/s) and buffers what is written
 * ahead of it, discarding data past 50 MB. The live lanes' terminals run in the emulator worker
 * and the main thread's RemoteTerminal pauses the pty while too much is unparsed (`pending`
 * and `whenIdle` say how far parsing is).
 *
 * Hostile output: every chunk passes the output clamp (lanes/terminal/clamp.ts) before xterm.js
 * parses it, so a repeat count or an endless string cannot wedge the emulator. The caller's
 * bytes (the recording) stay as they are.
 *
 * Queries: agents ask the terminal who it is before they draw (Claude Code sends DA1 and
 * XTVERSION and waits). xterm.js answers DA1, DA2, DSR, CPR and DECRQM itself; this class adds
 * XTVERSION and the OSC 10/11 colour queries. Answers go to onReply, for the lane to write
 * into the pty.
 */
import xtermHeadless from '@xterm/headless';
import type { Terminal as TerminalType, IBufferCell, IDisposable } from '@xterm/headless';
import serializeAddon from '@xterm/addon-serialize';
import type { StyledRow, StyledRun } from '../lane/types.js';
import { lastTextLine } from '../lane/activity.js';
import { OutputClamp } from './clamp.js';

// Both packages are CommonJS bundles: Node's ESM loader only exposes their default export.
const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializeAddon;

export interface LaneTerminalOptions {
  cols: number;
  rows: number;
  /** lines kept above the screen (default 1000) */
  scrollback?: number;
}

export interface CursorInfo {
  x: number;
  y: number;
  visible: boolean;
}

const XTVERSION_REPLY = '\x1bP>|xterm.js(6.0.0)\x1b\\';
/** What OSC 10 / 11 queries are told: xterm.js's default white on black. */
const COLOUR_REPLIES: Record<number, string> = {
  10: '\x1b]10;rgb:ffff/ffff/ffff\x1b\\',
  11: '\x1b]11;rgb:0000/0000/0000\x1b\\',
};
/** C0, DEL and C1 controls: never let one into drawn text. */
const CONTROL_CHARS = /[\x00-\x1f\x7f-\x9f]/g;

export class LaneTerminal {
  private readonly term: TerminalType;
  private readonly serializer: InstanceType<typeof SerializeAddon>;
  private readonly clamp: OutputClamp;
  private readonly disposables: IDisposable[] = [];
  private readonly replyListeners = new Set<(data: string) => void>();
  private idleWaiters: Array<() => void> = [];
  private pendingBytes = 0;
  private cursorVisible = true;
  private disposed = false;

  constructor(opts: LaneTerminalOptions) {
    this.term = new Terminal({
      cols: opts.cols,
      rows: opts.rows,
      scrollback: opts.scrollback ?? 1000,
      allowProposedApi: true,
      windowOptions: { getWinSizeChars: true },
      // Agents write malformed sequences and binary garbage; xterm.js copes, but would log every
      // parsing error (with its whole state) to the console.
      logLevel: 'off',
    });
    this.clamp = new OutputClamp({ cols: opts.cols, rows: opts.rows });
    this.serializer = new SerializeAddon();
    this.term.loadAddon(this.serializer);
    this.disposables.push(this.term.onData((data) => this.reply(data)));
    const parser = this.term.parser;
    this.disposables.push(
      // XTVERSION: CSI > q or CSI > 0 q.
      parser.registerCsiHandler({ prefix: '>', final: 'q' }, (params) => {
        if (Number(params[0] ?? 0) !== 0) return false;
        this.term.input(XTVERSION_REPLY, false);
        return true;
      }),
      // DECTCEM (cursor shown / hidden): watched, then left to xterm.js.
      parser.registerCsiHandler({ prefix: '?', final: 'h' }, (params) => {
        if (params.includes(25)) this.cursorVisible = true;
        return false;
      }),
      parser.registerCsiHandler({ prefix: '?', final: 'l' }, (params) => {
        if (params.includes(25)) this.cursorVisible = false;
        return false;
      }),
      parser.registerEscHandler({ final: 'c' }, () => {
        this.cursorVisible = true; // RIS
        return false;
      }),
    );
    for (const ident of [10, 11]) {
      this.disposables.push(
        parser.registerOscHandler(ident, (data) => {
          if (data !== '?') return false;
          this.term.input(COLOUR_REPLIES[ident], false);
          return true;
        }),
      );
    }
  }

  /**
   * Feeds output bytes. xterm.js decodes UTF-8 itself, also across chunk boundaries. The chunk
   * is kept until parsed: do not modify it afterwards. Nothing is dropped when the producer
   * ignores onPressure; memory then grows with the backlog. `onParsed` runs right after this
   * chunk is parsed, before any later chunk is (a replay keyframe is taken there). What xterm.js
   * parses is the chunk through the output clamp: possibly another array, possibly empty (the
   * callback still runs in order).
   */
  write(chunk: Buffer | Uint8Array, onParsed?: () => void): void {
    if (this.disposed || chunk.length === 0) return;
    this.writeClamped(this.clamped(chunk), chunk.length, onParsed);
  }

  /**
   * `chunk` through the output clamp (the clamp keeps state: every chunk goes through it once, in
   * order), for writeClamped: `write` in two steps, for a caller that holds output back
   * (terminalWorker.ts, lanes/terminal/fastForward.ts).
   */
  clamped(chunk: Uint8Array): Uint8Array {
    return this.clamp.push(chunk);
  }

  /** Feeds what clamped() gave, for `rawBytes` of output (counted in `pending` until parsed). */
  writeClamped(bytes: Uint8Array, rawBytes: number, onParsed?: () => void): void {
    if (this.disposed) return;
    this.pendingBytes += rawBytes;
    this.term.write(bytes, () => {
      onParsed?.();
      this.parsed(rawBytes);
    });
  }

  /** Whether the emulator's parser is in its ground state after everything clamped() gave (OutputClamp.atGround). */
  get atGround(): boolean {
    return this.clamp.atGround;
  }

  /**
   * Whether the emulator's own state lets fast-forward cut output (lanes/terminal/fastForward.ts):
   * its scroll region is the whole screen (xterm.js keeps it internal; unknown counts as no).
   */
  get fullScrollRegion(): boolean {
    const buf = (this.term as unknown as { _core?: { buffer?: { scrollTop?: number; scrollBottom?: number } } })._core
      ?.buffer;
    return buf?.scrollTop === 0 && buf.scrollBottom === this.term.rows - 1;
  }

  /**
   * The window title the agent sets (OSC 0 or 2), control characters removed and cut to
   * TITLE_MAX characters; a state signal for some agents (lanes/lane/activitySources.ts), never
   * passed to the operator's terminal. Returns unsubscribe.
   */
  onTitle(cb: (title: string) => void): () => void {
    const sub = this.term.onTitleChange((title) => cb(cleanTitle(title)));
    this.disposables.push(sub);
    return () => sub.dispose();
  }

  /** Answers to the agent's terminal queries, to be written into its pty. Returns unsubscribe. */
  onReply(cb: (data: string) => void): () => void {
    this.replyListeners.add(cb);
    return () => this.replyListeners.delete(cb);
  }

  /** bytes written but not yet parsed */
  get pending(): number {
    return this.pendingBytes;
  }

  get cols(): number {
    return this.term.cols;
  }

  get rows(): number {
    return this.term.rows;
  }

  /** lines held by the active buffer (screen plus scrollback) */
  get bufferLength(): number {
    return this.term.buffer.active.length;
  }

  resize(cols: number, rows: number): void {
    if (this.disposed || (cols === this.term.cols && rows === this.term.rows)) return;
    this.term.resize(cols, rows);
    this.clamp.resize(cols, rows);
  }

  /** The visible rows, trailing spaces trimmed. */
  text(): string[] {
    const buf = this.term.buffer.active;
    const rows: string[] = [];
    for (let y = 0; y < this.term.rows; y++) {
      const line = buf.getLine(buf.baseY + y)?.translateToString(true) ?? '';
      rows.push(trimSpaces(line.replace(CONTROL_CHARS, ' ')));
    }
    return rows;
  }

  /** Every line the buffer holds, oldest first (the scrollback, then the screen), trailing spaces trimmed. */
  bufferText(): string[] {
    const buf = this.term.buffer.active;
    const rows: string[] = [];
    for (let y = 0; y < buf.length; y++) {
      const line = buf.getLine(y)?.translateToString(true) ?? '';
      rows.push(trimSpaces(line.replace(CONTROL_CHARS, ' ')));
    }
    return rows;
  }

  /** The agent's last line of text: the last row with letters or digits, frames and spinners cut off. */
  lastLine(): string {
    return lastTextLine(this.text());
  }

  /** The visible rows as runs of equally styled text; trailing unstyled blanks are dropped. */
  styled(): StyledRow[] {
    const buf = this.term.buffer.active;
    const cell = buf.getNullCell();
    const rows: StyledRow[] = [];
    for (let y = 0; y < this.term.rows; y++) {
      const line = buf.getLine(buf.baseY + y);
      const row: StyledRow = [];
      if (line) {
        let end = Math.min(line.length, this.term.cols);
        while (end > 0 && isPlainBlank(line.getCell(end - 1, cell))) end--;
        let run: StyledRun | null = null;
        let runKey = '';
        for (let x = 0; x < end; x++) {
          if (!line.getCell(x, cell) || cell.getWidth() === 0) continue; // right half of a wide char
          const style = styleOf(cell);
          const key = styleKey(style);
          const chars = cell.isInvisible() ? ' '.repeat(cell.getWidth()) : cellText(cell);
          if (run && key === runKey) {
            run.text += chars;
          } else {
            run = { text: chars, ...style };
            runKey = key;
            row.push(run);
          }
        }
      }
      rows.push(row);
    }
    return rows;
  }

  /** The visible rows rebuilt from cells with SGR escapes only (safe to print anywhere). */
  ansiLines(): string[] {
    return this.styled().map((row) => {
      let out = '';
      for (const run of row) {
        const sgr = sgrOf(run);
        out += sgr ? `\x1b[0;${sgr}m${run.text}` : `\x1b[0m${run.text}`;
      }
      return row.length > 0 ? `${out}\x1b[0m` : '';
    });
  }

  cursor(): CursorInfo {
    const buf = this.term.buffer.active;
    return { x: buf.cursorX, y: buf.cursorY, visible: this.cursorVisible };
  }

  /** The screen (and up to `scrollback` lines above it) as escapes that redraw it: a replay keyframe. */
  serialize(opts: { scrollback?: number } = {}): string {
    return this.serializer.serialize({ scrollback: opts.scrollback ?? 0 });
  }

  /** Resolves once everything written so far has been parsed. */
  whenIdle(): Promise<void> {
    if (this.pendingBytes === 0 || this.disposed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.disposables) d.dispose();
    this.term.dispose();
    this.replyListeners.clear();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private parsed(len: number): void {
    this.pendingBytes -= len;
    if (this.pendingBytes === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private reply(data: string): void {
    if (this.disposed) return;
    for (const cb of this.replyListeners) cb(data);
  }
}

/** A title is cut to this many characters. */
export const TITLE_MAX = 200;

/** A window title safe to match and to store: no control characters, trimmed, at most TITLE_MAX. */
export function cleanTitle(title: string): string {
  return title.replace(CONTROL_CHARS, ' ').trim().slice(0, TITLE_MAX);
}

/**
 * `row` without its trailing spaces, in linear time: `/ +$/` backtracks quadratically on a row
 * with many inner spaces (480 µs per 48-row screen against 87 µs), and `trimEnd()` would also
 * drop a trailing no-break space the agent drew.
 */
export function trimSpaces(row: string): string {
  let end = row.length;
  while (end > 0 && row.charCodeAt(end - 1) === 32) end--;
  return end === row.length ? row : row.slice(0, end);
}

type Style = Omit<StyledRun, 'text'>;

function colour(mode: 'fg' | 'bg', cell: IBufferCell): string | undefined {
  if (mode === 'fg') {
    if (cell.isFgRGB()) return `#${cell.getFgColor().toString(16).padStart(6, '0')}`;
    if (cell.isFgPalette()) return `p${cell.getFgColor()}`;
    return undefined;
  }
  if (cell.isBgRGB()) return `#${cell.getBgColor().toString(16).padStart(6, '0')}`;
  if (cell.isBgPalette()) return `p${cell.getBgColor()}`;
  return undefined;
}

function styleOf(cell: IBufferCell): Style {
  const style: Style = {};
  const fg = colour('fg', cell);
  const bg = colour('bg', cell);
  if (fg) style.fg = fg;
  if (bg) style.bg = bg;
  if (cell.isBold()) style.bold = true;
  if (cell.isDim()) style.dim = true;
  if (cell.isItalic()) style.italic = true;
  if (cell.isUnderline()) style.underline = true;
  if (cell.isInverse()) style.inverse = true;
  return style;
}

function styleKey(s: Style): string {
  return `${s.fg ?? ''}|${s.bg ?? ''}|${s.bold ? 1 : 0}${s.dim ? 1 : 0}${s.italic ? 1 : 0}${s.underline ? 1 : 0}${s.inverse ? 1 : 0}`;
}

function cellText(cell: IBufferCell): string {
  const chars = cell.getChars();
  return chars === '' ? ' ' : chars.replace(CONTROL_CHARS, ' ');
}

/** A cell that looks like nothing: blank, default background, no inverse or underline. */
function isPlainBlank(cell: IBufferCell | undefined): boolean {
  if (!cell) return true;
  const chars = cell.getChars();
  return (chars === '' || chars === ' ') && cell.isBgDefault() && !cell.isInverse() && !cell.isUnderline();
}

function sgrColour(c: string, base: number, bright: number, extended: number): string {
  if (c.startsWith('#')) {
    const n = parseInt(c.slice(1), 16);
    return `${extended};2;${(n >> 16) & 255};${(n >> 8) & 255};${n & 255}`;
  }
  const n = Number(c.slice(1));
  if (n < 8) return String(base + n);
  if (n < 16) return String(bright + n - 8);
  return `${extended};5;${n}`;
}

function sgrOf(run: StyledRun): string {
  const parts: string[] = [];
  if (run.bold) parts.push('1');
  if (run.dim) parts.push('2');
  if (run.italic) parts.push('3');
  if (run.underline) parts.push('4');
  if (run.inverse) parts.push('7');
  if (run.fg) parts.push(sgrColour(run.fg, 30, 90, 38));
  if (run.bg) parts.push(sgrColour(run.bg, 40, 100, 48));
  return parts.join(';');
}
