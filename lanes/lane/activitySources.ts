/**
 * Where a lane's activity (busy, idle, waiting-input) comes from, and which source to believe.
 *
 * Four sources, in order of trust: the agent's hooks (`ao-console ctl waiting` from a hook the
 * profile wires), its status file where it keeps one (Claude Code's `~/.claude/sessions/<pid>.json`:
 * lanes/lane/statusFile.ts), the terminal title it sets (Gemini CLI's `◇ Ready` / `✋ Action
 * Required`: the profile's titlePatterns), then its screen (lanes/lane/activity.ts). Each source
 * keeps its latest verdict and the moment it "spoke": when that verdict began, or for the screen
 * the last output it saw (its verdict turning idle on a timer, or waiting once a prompt settled,
 * is no newer evidence than the output it read).
 *
 * - The verdict is the most trusted source that spoke within `recentMs`: a less trusted source
 *   never overrides a more trusted one that spoke recently.
 * - When none spoke that recently, the source that spoke last wins (the freshest news; equal
 *   times go to the more trusted).
 * - Debounced: a status file's or a title's new verdict counts only once it held for
 *   `debounceMs` (a flicker is not a change). Hooks are events and count at once; the screen has
 *   its own thresholds (settle, idle).
 * - A hook's verdict (waiting for the operator) is dropped when the operator types into the lane:
 *   the input answered it.
 *
 * Pure: the caller passes the time. The source of each change is recorded with the lane's state
 * event (`data.source`, docs/data-model.md) and shown in replay.
 */
import type { Activity } from './types.js';

export const ACTIVITY_SOURCES = ['hook', 'status-file', 'title', 'screen'] as const;
export type ActivitySource = (typeof ACTIVITY_SOURCES)[number];

/** Higher is more trusted. */
export const SOURCE_TRUST: Record<ActivitySource, number> = { hook: 3, 'status-file': 2, title: 1, screen: 0 };

/** A more trusted source that spoke this recently is not overridden by a less trusted one. */
export const RECENT_MS = 2000;
/** A status file's or title's new verdict must hold this long to count. */
export const DEBOUNCE_MS = 300;

/** The sources whose verdicts are debounced (the others count at once). */
const DEBOUNCED: ReadonlySet<ActivitySource> = new Set(['status-file', 'title']);

export interface SourcedActivity {
  activity: Activity;
  source: ActivitySource;
  /** what the source said, for the event's cause: a title, a status value, a hook's cause */
  detail: string;
  /** what the screen alone reads (a task typed on stdin waits for the screen's prompt) */
  screen?: Activity;
}

interface Opinion {
  activity: Activity;
  detail: string;
  /** when this verdict began (epoch ms) */
  at: number;
}

export interface ActivitySourcesOptions {
  recentMs?: number;
  debounceMs?: number;
}

export class ActivitySources {
  private readonly recentMs: number;
  private readonly debounceMs: number;
  private readonly opinions = new Map<ActivitySource, Opinion>();
  private readonly pending = new Map<ActivitySource, Opinion>();

  constructor(opts: ActivitySourcesOptions = {}) {
    this.recentMs = opts.recentMs ?? RECENT_MS;
    this.debounceMs = opts.debounceMs ?? DEBOUNCE_MS;
  }

  /**
   * A source's verdict at `now`; null: it has no opinion now (a title that matches no pattern, a
   * status file that is gone). The same verdict again changes nothing (it keeps its start time),
   * unless `evidenceAt` says when the source last saw evidence (the screen: its last output).
   */
  report(source: ActivitySource, activity: Activity | null, detail: string, now: number, evidenceAt?: number): void {
    if (activity === null) {
      this.opinions.delete(source);
      this.pending.delete(source);
      return;
    }
    const current = this.opinions.get(source);
    if (current?.activity === activity) {
      current.detail = detail;
      if (evidenceAt !== undefined) current.at = evidenceAt;
      this.pending.delete(source);
      return;
    }
    if (!DEBOUNCED.has(source) || this.debounceMs <= 0) {
      this.opinions.set(source, { activity, detail, at: evidenceAt ?? now });
      this.pending.delete(source);
      return;
    }
    const waiting = this.pending.get(source);
    if (waiting?.activity === activity) waiting.detail = detail;
    else this.pending.set(source, { activity, detail, at: now });
    this.promote(now);
  }

  /** The source has nothing to say any more (a hook's question was answered). */
  forget(source: ActivitySource): void {
    this.opinions.delete(source);
    this.pending.delete(source);
  }

  /** The source's current verdict (after debouncing), if any. */
  opinion(source: ActivitySource): Activity | null {
    return this.opinions.get(source)?.activity ?? null;
  }

  /** The verdict at `now` and the source it came from; null while no source has spoken. */
  decide(now: number): SourcedActivity | null {
    this.promote(now);
    let best: { source: ActivitySource; o: Opinion } | null = null;
    // the most trusted of the sources that spoke recently
    for (const [source, o] of this.opinions) {
      if (now - o.at >= this.recentMs) continue;
      if (!best || SOURCE_TRUST[source] > SOURCE_TRUST[best.source]) best = { source, o };
    }
    if (!best) {
      // none did: the one that spoke last
      for (const [source, o] of this.opinions) {
        if (!best || o.at > best.o.at || (o.at === best.o.at && SOURCE_TRUST[source] > SOURCE_TRUST[best.source]))
          best = { source, o };
      }
    }
    return best && { activity: best.o.activity, source: best.source, detail: best.o.detail };
  }

  /** Debounced verdicts that held long enough become the source's verdict (from when they began). */
  private promote(now: number): void {
    for (const [source, p] of this.pending) {
      if (now - p.at < this.debounceMs) continue;
      this.opinions.set(source, p);
      this.pending.delete(source);
    }
  }
}

/** The verdict a title gives by the profile's title patterns (waiting-input first, then busy, then idle); null: none matches. */
export function titleActivity(
  title: string,
  patterns: { busy: RegExp[]; waitingInput: RegExp[]; idle: RegExp[] },
): Activity | null {
  const hit = (res: RegExp[]) => res.some((re) => title.search(re) >= 0);
  if (hit(patterns.waitingInput)) return 'waiting-input';
  if (hit(patterns.busy)) return 'busy';
  if (hit(patterns.idle)) return 'idle';
  return null;
}
