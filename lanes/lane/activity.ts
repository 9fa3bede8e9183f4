/**
 * What a lane's agent is doing, read from its screen and its output timing: busy (working,
 * output flowing or a busy indicator shown), waiting-input (a prompt for the operator shows
 * and the screen has settled) or idle (quiet, nothing asked).
 *
 * screenMatches is the one rule for what a screen shows (a prompt in its bottom rows, a busy
 * indicator anywhere); the emulator worker applies it to every lane's screen
 * (lanes/terminal/terminalWorker.ts), so the main thread gets two booleans, never the rows.
 * detectActivity is a pure function of those matches and the output timing; ActivityTracker is
 * the cheap path around it for the supervisor's timer: the verdict can only change when output
 * arrived, the matches changed or a time threshold (settle, idle) passed, so it re-reads the
 * matches only then.
 *
 * The screen is the least trusted of a lane's state sources: hooks, the agent's status file and
 * its window title come first (lanes/lane/activitySources.ts).
 */
import type { Activity } from './types.js';

/** A prompt must have been on a quiet screen this long to count as waiting for input. */
export const SETTLE_MS = 300;
/** Output this soon after a resize is the agent redrawing for the new size (SIGWINCH), not work. */
export const RESIZE_REDRAW_MS = 1000;
/** Prompts are looked for in this many rows above the last non-blank row (inclusive). */
export const PROMPT_ROWS = 12;

/** What the screen shows, as far as activity goes (screenMatches). */
export interface ScreenMatches {
  /** a waiting pattern matches the prompt area (promptArea): the agent asks the operator something */
  waiting: boolean;
  /** a busy pattern matches anywhere on the screen */
  busy: boolean;
}

export interface ActivityInput {
  now: number;
  /** epoch ms of the last output chunk (-Infinity when none yet) */
  lastOutputAt: number;
  /** quiet for this long means not busy */
  idleMs: number;
  /** what the visible screen shows (screenMatches of its rows) */
  screen: ScreenMatches;
  /** default SETTLE_MS */
  settleMs?: number;
}

function matchesAny(text: string, patterns: RegExp[]): boolean {
  // search() ignores (and keeps) lastIndex, so patterns with the g or y flag behave too.
  return patterns.some((re) => text.search(re) >= 0);
}

/** The bottom rows that hold content, joined with "\n" (multi-line patterns work). */
export function promptArea(screenText: string[], rows = PROMPT_ROWS): string {
  let end = screenText.length;
  while (end > 0 && screenText[end - 1].trim() === '') end--;
  return screenText.slice(Math.max(0, end - rows), end).join('\n');
}

/**
 * The one rule for reading activity off a screen (one string per row): `waiting` when a waiting
 * pattern matches the prompt area, `busy` when a busy pattern matches anywhere.
 */
export function screenMatches(screenText: string[], busyPatterns: RegExp[], waitingPatterns: RegExp[]): ScreenMatches {
  return {
    waiting: waitingPatterns.length > 0 && matchesAny(promptArea(screenText), waitingPatterns),
    busy: busyPatterns.length > 0 && matchesAny(screenText.join('\n'), busyPatterns),
  };
}

export function detectActivity(input: ActivityInput): Activity {
  const quietFor = input.now - input.lastOutputAt;
  const settleMs = input.settleMs ?? SETTLE_MS;
  if (input.screen.waiting) {
    // A prompt still being drawn is work in progress, not a question yet.
    return quietFor >= settleMs ? 'waiting-input' : 'busy';
  }
  if (quietFor < input.idleMs) return 'busy';
  if (input.screen.busy) return 'busy';
  return 'idle';
}

export interface ActivityTrackerOptions {
  idleMs: number;
  settleMs?: number;
  /** counts as output at start (so a starting lane is busy, not idle); default none */
  startedAt?: number;
}

export class ActivityTracker {
  private readonly opts: ActivityTrackerOptions;
  private lastOutputAt: number;
  private lastCheckAt = -Infinity;
  private verdict: Activity | null = null;
  private resizedAt = -Infinity;
  /**
   * the verdict before a resize, held while the agent redraws (RESIZE_REDRAW_MS): a screen read
   * mid-redraw may lack the prompt it is about to draw again
   */
  private held: Activity | null = null;
  /** how many times the screen's matches were read (for tests and stats) */
  reads = 0;

  constructor(opts: ActivityTrackerOptions) {
    this.opts = opts;
    this.lastOutputAt = opts.startedAt ?? -Infinity;
  }

  /** Call on every output chunk; costs nothing. */
  noteOutput(at: number): void {
    // the agent redrawing for a new size is not work: the lane keeps its state (and its time in it)
    if (at - this.resizedAt < RESIZE_REDRAW_MS) {
      this.verdict = null; // the screen is read again, its timing stays
      return;
    }
    if (at > this.lastOutputAt) this.lastOutputAt = at;
  }

  /** Forces the next check to read the matches (they changed, possibly without output). */
  invalidate(): void {
    this.verdict = null;
  }

  /**
   * The terminal was resized: the screen changed without output, and the output of the next
   * RESIZE_REDRAW_MS is the agent redrawing for the new size, not work.
   */
  noteResize(at: number): void {
    if (at - this.resizedAt >= RESIZE_REDRAW_MS) this.held = this.verdict;
    this.resizedAt = at;
    this.verdict = null;
  }

  /** the last verdict, null before the first check */
  get current(): Activity | null {
    return this.verdict;
  }

  /** The verdict at `now`; calls readMatches only when the verdict may have changed. */
  check(now: number, readMatches: () => ScreenMatches): Activity {
    if (this.held !== null && now - this.resizedAt < RESIZE_REDRAW_MS) {
      this.lastCheckAt = now;
      return this.held;
    }
    this.held = null;
    if (this.verdict === null || this.mayHaveChanged(now)) {
      this.reads++;
      this.verdict = detectActivity({
        now,
        lastOutputAt: this.lastOutputAt,
        idleMs: this.opts.idleMs,
        screen: readMatches(),
        settleMs: this.opts.settleMs,
      });
    }
    this.lastCheckAt = now;
    return this.verdict;
  }

  private mayHaveChanged(now: number): boolean {
    if (this.lastOutputAt >= this.lastCheckAt) return true; // output since the last check
    const settleMs = this.opts.settleMs ?? SETTLE_MS;
    for (const after of [settleMs, this.opts.idleMs]) {
      const at = this.lastOutputAt + after;
      if (this.lastCheckAt < at && at <= now) return true;
    }
    return false;
  }
}

/**
 * Drawing around an agent's text: box drawing, block elements and braille (frames, bars,
 * spinners), geometric shapes and the star dingbats spinners cycle through.
 */
const DECORATION = '\\u2500-\\u259f\\u25a0-\\u25ff\\u2800-\\u28ff\\u2722-\\u274b\\u00b7\\u2022\\u2219';
const LEADING = new RegExp(`^[\\s${DECORATION}]+`, 'u');
const TRAILING = new RegExp(`[\\s${DECORATION}]+$`, 'u');
const HAS_TEXT = /[\p{L}\p{N}]/u;

/** A screen row without the frame around it (`│ > fix it │` -> `> fix it`), or '' for a row of decoration only. */
export function rowText(row: string): string {
  const text = row.replace(LEADING, '').replace(TRAILING, '');
  return HAS_TEXT.test(text) ? text : '';
}

/** The agent's last line of text: the last row with letters or digits, its frame and spinner cut off. */
export function lastTextLine(rows: readonly string[]): string {
  for (let i = rows.length - 1; i >= 0; i--) {
    const text = rowText(rows[i]);
    if (text) return text;
  }
  return '';
}
