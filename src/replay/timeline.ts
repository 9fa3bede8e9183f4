/**
 * The replay's timeline (pure): the lane's events as marks on the lane clock, and idle-time
 * compression — every pause longer than the cap between two moments where something happened
 * (output or an event) plays as the cap. Player time ("play time") is the compressed clock.
 */
import { stateSource, type LaneEventRow } from '../../lanes/store/events.js';
import type { VerdictRow } from '../../lanes/store/review.js';

export type MarkKind = 'state' | 'handoff' | 'verdict' | 'decision' | 'merge' | 'resize' | 'comment' | 'event';

export interface TimelineMark {
  /** lane clock (ms since the lane started) */
  tMs: number;
  kind: MarkKind;
  /** one line: "waiting-input [screen] (screen reads waiting-input)", "gate tests PASS", "approve" */
  label: string;
}

/** The lane's timeline marks, in time order (stable for equal times). */
export function buildMarks(
  events: readonly LaneEventRow[],
  verdicts: readonly VerdictRow[],
  timeOf: (e: { tMs: number | null; at: number }) => number,
  clock: (at: number) => number,
): TimelineMark[] {
  const marks: TimelineMark[] = [];
  for (const e of events) {
    const tMs = timeOf(e);
    if (e.kind === 'state') {
      // which state source moved it (hook, status file, title, screen), when one did
      const source = stateSource(e);
      marks.push({
        tMs,
        kind: 'state',
        label: `${e.toState ?? '?'}${source ? ` [${source}]` : ''}${e.cause ? ` (${e.cause})` : ''}`,
      });
    } else if (e.kind === 'handoff') {
      marks.push({ tMs, kind: 'handoff', label: `handoff: ${e.cause ?? ''}` });
    } else if (e.kind === 'decision') {
      marks.push({ tMs, kind: 'decision', label: e.cause ?? 'decision' });
    } else if (e.kind === 'merge') {
      marks.push({ tMs, kind: 'merge', label: e.cause ?? 'merged' });
    } else if (e.kind === 'comment' || e.kind === 'comments-sent') {
      // a review comment made on the diff (file:line: text), or the comments going to the agent
      marks.push({ tMs, kind: 'comment', label: `${e.kind === 'comment' ? 'comment ' : ''}${e.cause ?? ''}` });
    } else if (e.kind === 'resize') {
      marks.push({ tMs, kind: 'resize', label: `resize ${e.cause ?? ''}` });
    } else {
      marks.push({ tMs, kind: 'event', label: `${e.kind}${e.cause ? `: ${e.cause}` : ''}` });
    }
  }
  for (const v of verdicts) {
    marks.push({
      tMs: clock(v.at),
      kind: 'verdict',
      label: `gate ${v.gate} ${v.status}${v.required ? '' : ' (optional)'}${v.exitCode !== null ? ` exit ${v.exitCode}` : ''}`,
    });
  }
  return marks
    .map((m, i) => ({ m, i }))
    .sort((a, b) => a.m.tMs - b.m.tMs || a.i - b.i)
    .map((x) => x.m);
}

/**
 * Maps the lane clock to play time and back, shortening every pause between activity points
 * to at most `capMs` (Infinity: no compression).
 */
export class IdleCompression {
  /** pauses longer than the cap: [start, end) on the lane clock, with play time saved before each */
  private gaps: { start: number; end: number; savedBefore: number }[] = [];
  private saved = 0;
  readonly capMs: number;
  /** lane clock of the last activity point */
  endMs = 0;

  constructor(points: readonly number[], capMs: number) {
    this.capMs = capMs > 0 ? capMs : Infinity;
    this.rebuild(points);
  }

  /** `points` need not be sorted. */
  rebuild(points: readonly number[]): void {
    const sorted = [...points].sort((a, b) => a - b);
    this.gaps = [];
    this.saved = 0;
    let prev = 0;
    for (const p of sorted) {
      if (p - prev > this.capMs) {
        this.gaps.push({ start: prev, end: p, savedBefore: this.saved });
        this.saved += p - prev - this.capMs;
      }
      prev = Math.max(prev, p);
    }
    this.endMs = prev;
  }

  /** lane clock -> play time */
  toPlay(tMs: number): number {
    let saved = 0;
    for (const g of this.gaps) {
      if (tMs <= g.start) break;
      const inGap = Math.min(tMs, g.end) - g.start;
      saved = g.savedBefore + Math.max(0, inGap - this.capMs);
      if (tMs < g.end) return tMs - saved;
      saved = g.savedBefore + (g.end - g.start - this.capMs);
    }
    return tMs - saved;
  }

  /** play time -> lane clock (the earliest lane time that plays at p) */
  toLane(p: number): number {
    let saved = 0;
    for (const g of this.gaps) {
      const gapPlayStart = g.start - g.savedBefore;
      if (p <= gapPlayStart) break;
      if (p < gapPlayStart + this.capMs) return g.start + (p - gapPlayStart);
      saved = g.savedBefore + (g.end - g.start - this.capMs);
    }
    return p + saved;
  }

  /** play time of the last activity point */
  get durationMs(): number {
    return this.toPlay(this.endMs);
  }
}
