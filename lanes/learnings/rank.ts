/**
 * Ranking and decay of learnings, pure: the database hands in candidates with their FTS5 bm25
 * score (lanes/store/learnings.ts, rankableLearnings), this decides their order. Tested alone
 * (test/unit/learnings.test.ts).
 */
import type { RankableLearning } from '../store/learnings.js';

const DAY_MS = 86_400_000;

export interface RankOptions {
  now: number;
  /** confidence halves after this many days without use (default 60) */
  confidenceHalfLifeDays?: number;
  /** the recency term halves after this many days (default 14) */
  recencyHalfLifeDays?: number;
  /** candidates whose decayed confidence is below this are left out (default 0.05) */
  minConfidence?: number;
}

/** A learning to rank: what the store's full-text match gives (bm25: lower is more relevant). */
export type RankCandidate = Omit<RankableLearning, 'text'>;

export interface Ranked<T> {
  item: T;
  score: number;
  relevance: number;
  confidence: number;
}

/** When a learning was last written or used: the clock of its decay. */
export function lastTouched(c: Pick<RankCandidate, 'createdAt' | 'updatedAt' | 'lastUsedAt'>): number {
  return Math.max(c.createdAt, c.updatedAt ?? 0, c.lastUsedAt ?? 0);
}

/** Confidence decays exponentially with the time since the learning was last written or used. */
export function decayedConfidence(confidence: number, touchedAt: number, now: number, halfLifeDays = 60): number {
  const ageDays = Math.max(0, now - touchedAt) / DAY_MS;
  return Math.max(0, Math.min(1, confidence * Math.pow(0.5, ageDays / halfLifeDays)));
}

/** Utility (unbounded, 0 = neutral) squashed to 0..1, 0.5 at 0. */
export function utilityFactor(utility: number): number {
  return 1 / (1 + Math.exp(-utility));
}

/**
 * Orders candidates by a score that combines relevance to the task (bm25, scaled to 0..1 by the
 * best candidate), recency and utility, weighted by decayed confidence. Best first; ties keep
 * the newer learning first.
 */
export function rankLearnings<T extends RankCandidate>(candidates: readonly T[], opts: RankOptions): Ranked<T>[] {
  const halfLife = opts.confidenceHalfLifeDays ?? 60;
  const recencyHalfLife = opts.recencyHalfLifeDays ?? 14;
  const minConfidence = opts.minConfidence ?? 0.05;
  const best = Math.max(0, ...candidates.map((c) => -c.bm25));
  const ranked: Ranked<T>[] = [];
  for (const c of candidates) {
    const touched = lastTouched(c);
    const confidence = decayedConfidence(c.confidence, touched, opts.now, halfLife);
    if (confidence < minConfidence) continue;
    const relevance = best > 0 ? Math.max(0, -c.bm25) / best : 0;
    const recency = Math.pow(0.5, Math.max(0, opts.now - touched) / DAY_MS / recencyHalfLife);
    const score = (0.6 * relevance + 0.2 * recency + 0.2 * utilityFactor(c.utility)) * (0.5 + 0.5 * confidence);
    ranked.push({ item: c, score, relevance, confidence });
  }
  return ranked.sort((a, b) => b.score - a.score || lastTouched(b.item) - lastTouched(a.item) || b.item.id - a.item.id);
}
