/**
 * What a lane's agent is doing, read from its screen and its output timing: busy (working,
 * output flowing or a busy indicator shown), waiting-input (a prompt for the operator shows
 * and the screen has settled) or idle (quiet, nothing asked).
 *
 * detectActivity is a pure function; ActivityTracker is the cheap path around it for the
 * supervisor's timer: the verdict can only change when output arrived or when a time threshold
 * (settle, idle) passed, so it re-reads the screen only then.
 */
import type { Activity } from './types.js';

/** A prompt must have been on a quiet screen this long to count as waiting for input. */
export const SETTLE_MS = 300;
/** Prompts are looked for in this many rows above the last non-blank row (inclusive). */
export const PROMPT_ROWS = 12;

export interface ActivityInput {
  now: number;
  /** epoch ms of the last output chunk (-Infinity when none yet) */
  lastOutputAt: number;
  /** quiet for this long means not busy */
  idleMs: number;
  /** the visible screen, one string per row */
  screenText: string[];
  /** any match anywhere on the screen means busy */
  busyPatterns: RegExp[];
  /** a match in the bottom rows of the screen means the agent asks the operator something */
  waitingPatterns: RegExp[];
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

export function detectActivity(input: ActivityInput): Activity {
  const quietFor = input.now - input.lastOutputAt;
  const settleMs = input.settleMs ?? SETTLE_MS;
  if (input.waitingPatterns.length > 0 && matchesAny(promptArea(input.screenText), input.waitingPatterns)) {
    // A prompt still being drawn is work in progress, not a question yet.
    return quietFor >= settleMs ? 'waiting-input' : 'busy';
  }
  if (quietFor < input.idleMs) return 'busy';
  if (input.busyPatterns.length > 0 && matchesAny(input.screenText.join('\n'), input.busyPatterns)) return 'busy';
  return 'idle';
}

export interface ActivityTrackerOptions {
  idleMs: number;
  busyPatterns: RegExp[];
  waitingPatterns: RegExp[];
  settleMs?: number;
  /** counts as output at start (so a starting lane is busy, not idle); default none */
  startedAt?: number;
}

export class ActivityTracker {
  private readonly opts: ActivityTrackerOptions;
  private lastOutputAt: number;
  private lastCheckAt = -Infinity;
  private verdict: Activity | null = null;
  private held: Activity | null = null;
  /** how many times the screen was read (for tests and stats) */
  reads = 0;

  constructor(opts: ActivityTrackerOptions) {
    this.opts = opts;
    this.lastOutputAt = opts.startedAt ?? -Infinity;
  }

  /** Call on every output chunk; costs nothing. */
  noteOutput(at: number): void {
    if (at > this.lastOutputAt) this.lastOutputAt = at;
    this.held = null;
  }

  /** Reports `verdict` until the next output, whatever the screen says (an agent hook told us). */
  hold(verdict: Activity): void {
    this.held = verdict;
  }

  /** Forces the next check to read the screen (after a resize: the screen changed without output). */
  invalidate(): void {
    this.verdict = null;
  }

  /** the last verdict, null before the first check */
  get current(): Activity | null {
    return this.verdict;
  }

  /** The verdict at `now`; calls readScreen only when the verdict may have changed. */
  check(now: number, readScreen: () => string[]): Activity {
    if (this.held) return this.held;
    if (this.verdict === null || this.mayHaveChanged(now)) {
      this.reads++;
      this.verdict = detectActivity({
        now,
        lastOutputAt: this.lastOutputAt,
        idleMs: this.opts.idleMs,
        screenText: readScreen(),
        busyPatterns: this.opts.busyPatterns,
        waitingPatterns: this.opts.waitingPatterns,
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
