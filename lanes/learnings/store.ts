/**
 * Learnings: capture with near-duplicate merging, full-text search, tombstones and edits, the
 * per-lane log of injected learnings and the utility they earn. The rules live here (dedup:
 * text.ts, ordering and decay: rank.ts); the SQL is lanes/store/learnings.ts.
 */
import type { LearningInfo } from '../supervisor/api.js';
import { writeTransaction, type Db } from '../store/open.js';
import {
  allLearningRows,
  findLearningByNorm,
  getLearningRow,
  insertLearning,
  matchingLearnings,
  raiseConfidence,
  recentLearningRows,
  searchLearningRows,
  setLearningText,
  setTombstone,
  type LearningRow,
} from '../store/learnings.js';
import { decayedConfidence, lastTouched } from './rank.js';
import { ftsQueryOf, NEAR_DUPLICATE, normalizeLearning, similarity } from './text.js';

// The injection log and the utility it earns are SQL with no rule of their own: the store's
// functions are this module's API as they are.
export { creditLane, recordInjection } from '../store/learnings.js';

export const MAX_LEARNING_CHARS = 2000;
/** What one more sighting of a learning adds to its confidence. */
export const REPEAT_CONFIDENCE = 0.1;
/** Utility a learning gains when a lane briefed with it is merged, and loses when one is rejected. */
export const MERGE_UTILITY = 1;
export const REJECT_UTILITY = -0.5;

export interface LearningCandidate {
  text: string;
  category: string;
  /** operator, rejection, gate-failure, agent-output, agents-file, import */
  source: string;
  laneId: number | null;
  sessionId: string | null;
  confidence?: number;
  utility?: number;
  maturity?: string;
  createdAt?: number;
  tombstoned?: boolean;
  tombstoneReason?: string | null;
  /** false: a duplicate found is left as it is (import); default: a repeat raises its confidence */
  bump?: boolean;
}

export interface CaptureResult {
  id: number;
  /** 'new': stored; 'merged': a (near-)duplicate existed and was refreshed instead */
  status: 'new' | 'merged';
}

export function toInfo(r: LearningRow, now = Date.now()): LearningInfo {
  return {
    id: r.id,
    text: r.text,
    category: r.category,
    source: r.source,
    lane: r.lane,
    sessionId: r.session_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastUsedAt: r.last_used_at,
    confidence: r.confidence,
    effectiveConfidence: decayedConfidence(
      r.confidence,
      lastTouched({ createdAt: r.created_at, updatedAt: r.updated_at, lastUsedAt: r.last_used_at }),
      now,
    ),
    utility: r.utility,
    maturity: r.maturity,
    uses: r.uses,
    tombstoned: r.tombstoned === 1,
    tombstoneReason: r.tombstone_reason,
  };
}

const clamp01 = (n: number): number => Math.max(0, Math.min(1, n));

/** The closest live learning of `category` similar enough to `text` to be the same one. */
function nearDuplicateOf(db: Db, text: string, category: string): { id: number; laneId: number | null } | undefined {
  const q = ftsQueryOf(text);
  if (!q) return undefined;
  let best: { id: number; laneId: number | null; sim: number } | undefined;
  for (const r of matchingLearnings(db, q, category)) {
    const sim = similarity(text, r.text);
    if (sim >= NEAR_DUPLICATE && (!best || sim > best.sim)) best = { id: r.id, laneId: r.laneId, sim };
  }
  return best;
}

/**
 * Stores a learning, unless the same one (same normalised text) or a near-duplicate (same
 * category, similar words) is stored already: then that one is refreshed and, when the repeat
 * comes from another lane, its confidence rises. Returns null for text with no words.
 */
export function captureLearning(db: Db, c: LearningCandidate): CaptureResult | null {
  const text = c.text.trim().slice(0, MAX_LEARNING_CHARS);
  const norm = normalizeLearning(text);
  if (!norm) return null;
  const now = Date.now();
  return writeTransaction(db, (): CaptureResult => {
    const same = findLearningByNorm(db, norm) ?? nearDuplicateOf(db, text, c.category);
    if (same) {
      // The same lane saying it twice (a rework, a re-harvest) is not a second sighting.
      if (c.bump === false) return { id: same.id, status: 'merged' };
      const repeat = same.laneId === null || c.laneId === null || same.laneId !== c.laneId;
      raiseConfidence(db, same.id, repeat ? REPEAT_CONFIDENCE : 0, now);
      return { id: same.id, status: 'merged' };
    }
    const id = insertLearning(db, {
      text,
      norm,
      category: c.category || 'general',
      source: c.source,
      laneId: c.laneId,
      sessionId: c.sessionId,
      createdAt: c.createdAt ?? now,
      confidence: clamp01(c.confidence ?? 0.5),
      utility: c.utility ?? 0,
      maturity: c.maturity ?? 'provisional',
      tombstoned: Boolean(c.tombstoned),
      tombstoneReason: c.tombstoned ? (c.tombstoneReason ?? null) : null,
    });
    return { id, status: 'new' };
  });
}

export function getLearning(db: Db, id: number): LearningInfo | undefined {
  const row = getLearningRow(db, id);
  return row ? toInfo(row) : undefined;
}

/**
 * Learnings for the browser and the CLI: with a query, the full-text matches best first
 * (bm25); without, the most recently written or used first.
 */
export function listLearnings(
  db: Db,
  opts: { query?: string; includeTombstoned?: boolean; limit?: number } = {},
): LearningInfo[] {
  const limit = opts.limit ?? 200;
  const q = opts.query?.trim() ? ftsQueryOf(opts.query) : null;
  if (opts.query?.trim() && !q) return [];
  const rows = q
    ? searchLearningRows(db, q, { includeTombstoned: opts.includeTombstoned, limit })
    : recentLearningRows(db, { includeTombstoned: opts.includeTombstoned, limit });
  const now = Date.now();
  return rows.map((r) => toInfo(r, now));
}

/** Every learning, oldest first (export). */
export function allLearnings(db: Db, includeTombstoned = true): LearningInfo[] {
  return allLearningRows(db, includeTombstoned).map((r) => toInfo(r));
}

export class LearningNotFoundError extends Error {
  constructor(id: number) {
    super(`no learning #${id}`);
    this.name = 'LearningNotFoundError';
  }
}

/** Retires a learning: it stays for the record and is never injected again. */
export function tombstoneLearning(db: Db, id: number, reason: string): void {
  if (!setTombstone(db, id, reason.trim() || null, Date.now())) throw new LearningNotFoundError(id);
}

/**
 * Changes a learning's text. When the new text is the same as another stored learning, the two
 * are one: the edited one is tombstoned as a duplicate of the other, whose id is returned.
 */
export function editLearning(db: Db, id: number, text: string): number {
  const clean = text.trim().slice(0, MAX_LEARNING_CHARS);
  const norm = normalizeLearning(clean);
  if (!norm) throw new Error('a learning needs text');
  return writeTransaction(db, (): number => {
    const other = findLearningByNorm(db, norm, id);
    if (other) {
      if (!setTombstone(db, id, `edited into a duplicate of #${other.id}`, Date.now()))
        throw new LearningNotFoundError(id);
      return other.id;
    }
    if (!setLearningText(db, id, clean, norm, Date.now())) throw new LearningNotFoundError(id);
    return id;
  });
}
