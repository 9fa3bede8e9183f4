/**
 * The learnings table: capture with near-duplicate merging, full-text search, tombstones and
 * edits, the per-lane log of injected learnings and the utility they earn. SQLite only here;
 * the ordering rules are in rank.ts, the text rules in text.ts.
 */
import type Database from 'better-sqlite3';
import type { LearningInfo } from '../supervisor/api.js';
import { decayedConfidence, lastTouched } from './rank.js';
import { ftsQueryOf, NEAR_DUPLICATE, normalizeLearning, similarity } from './text.js';

type Db = Database.Database;

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

export interface LearningRow {
  id: number;
  text: string;
  norm: string;
  category: string;
  source: string;
  lane_id: number | null;
  lane: string | null;
  session_id: string | null;
  created_at: number;
  updated_at: number | null;
  last_used_at: number | null;
  confidence: number;
  utility: number;
  maturity: string;
  uses: number;
  tombstoned: number;
  tombstone_reason: string | null;
}

const SELECT = `SELECT l.id, l.text, l.norm, l.category, l.source, l.lane_id, ln.name AS lane, l.session_id, l.created_at,
  l.updated_at, l.last_used_at, l.confidence, l.utility, l.maturity, l.uses, l.tombstoned, l.tombstone_reason
  FROM learnings l LEFT JOIN lanes ln ON ln.id = l.lane_id`;

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

/** Live learnings of `category` that share words with `text`, the closest first (for near-duplicate checks). */
function nearDuplicateOf(db: Db, text: string, category: string): { id: number; lane_id: number | null } | undefined {
  const q = ftsQueryOf(text);
  if (!q) return undefined;
  const rows = db
    .prepare(
      `SELECT l.id, l.text, l.lane_id FROM learnings_fts f JOIN learnings l ON l.id = f.rowid
       WHERE learnings_fts MATCH ? AND l.category = ? AND l.tombstoned = 0 ORDER BY bm25(learnings_fts) LIMIT 20`,
    )
    .all(q, category) as { id: number; text: string; lane_id: number | null }[];
  let best: { id: number; lane_id: number | null; sim: number } | undefined;
  for (const r of rows) {
    const sim = similarity(text, r.text);
    if (sim >= NEAR_DUPLICATE && (!best || sim > best.sim)) best = { id: r.id, lane_id: r.lane_id, sim };
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
  return db
    .transaction((): CaptureResult => {
      const same =
        (db.prepare(`SELECT id, lane_id FROM learnings WHERE norm = ?`).get(norm) as
          { id: number; lane_id: number | null } | undefined) ?? nearDuplicateOf(db, text, c.category);
      if (same) {
        // The same lane saying it twice (a rework, a re-harvest) is not a second sighting.
        if (c.bump === false) return { id: same.id, status: 'merged' };
        const repeat = same.lane_id === null || c.laneId === null || same.lane_id !== c.laneId;
        db.prepare(`UPDATE learnings SET confidence = MIN(1.0, confidence + ?), updated_at = ? WHERE id = ?`).run(
          repeat ? REPEAT_CONFIDENCE : 0,
          now,
          same.id,
        );
        return { id: same.id, status: 'merged' };
      }
      const created = c.createdAt ?? now;
      const res = db
        .prepare(
          `INSERT INTO learnings (text, norm, category, source, lane_id, session_id, created_at, updated_at, confidence, utility,
           maturity, tombstoned, tombstone_reason)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          text,
          norm,
          c.category || 'general',
          c.source,
          c.laneId,
          c.sessionId,
          created,
          created,
          clamp01(c.confidence ?? 0.5),
          c.utility ?? 0,
          c.maturity ?? 'provisional',
          c.tombstoned ? 1 : 0,
          c.tombstoned ? (c.tombstoneReason ?? null) : null,
        );
      return { id: Number(res.lastInsertRowid), status: 'new' };
    })
    .immediate();
}

export function getLearning(db: Db, id: number): LearningInfo | undefined {
  const row = db.prepare(`${SELECT} WHERE l.id = ?`).get(id) as LearningRow | undefined;
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
  const live = opts.includeTombstoned ? '' : 'AND l.tombstoned = 0';
  const q = opts.query?.trim() ? ftsQueryOf(opts.query) : null;
  if (opts.query?.trim() && !q) return [];
  const rows = q
    ? (db
        .prepare(
          `${SELECT} JOIN learnings_fts f ON f.rowid = l.id WHERE learnings_fts MATCH ? ${live}
           ORDER BY bm25(learnings_fts), l.id DESC LIMIT ?`,
        )
        .all(q, limit) as LearningRow[])
    : (db
        .prepare(
          `${SELECT} WHERE 1 = 1 ${live} ORDER BY MAX(l.created_at, COALESCE(l.updated_at, 0), COALESCE(l.last_used_at, 0)) DESC, l.id DESC LIMIT ?`,
        )
        .all(limit) as LearningRow[]);
  const now = Date.now();
  return rows.map((r) => toInfo(r, now));
}

/** Every learning, oldest first (export). */
export function allLearnings(db: Db, includeTombstoned = true): LearningInfo[] {
  const rows = db
    .prepare(`${SELECT} ${includeTombstoned ? '' : 'WHERE l.tombstoned = 0'} ORDER BY l.id`)
    .all() as LearningRow[];
  return rows.map((r) => toInfo(r));
}

export class LearningNotFoundError extends Error {
  constructor(id: number) {
    super(`no learning #${id}`);
    this.name = 'LearningNotFoundError';
  }
}

/** Retires a learning: it stays for the record and is never injected again. */
export function tombstoneLearning(db: Db, id: number, reason: string): void {
  const res = db
    .prepare(`UPDATE learnings SET tombstoned = 1, tombstone_reason = ?, updated_at = ? WHERE id = ?`)
    .run(reason.trim() || null, Date.now(), id);
  if (res.changes === 0) throw new LearningNotFoundError(id);
}

/**
 * Changes a learning's text. When the new text is the same as another stored learning, the two
 * are one: the edited one is tombstoned as a duplicate of the other, whose id is returned.
 */
export function editLearning(db: Db, id: number, text: string): number {
  const clean = text.trim().slice(0, MAX_LEARNING_CHARS);
  const norm = normalizeLearning(clean);
  if (!norm) throw new Error('a learning needs text');
  return db
    .transaction((): number => {
      const other = db.prepare(`SELECT id FROM learnings WHERE norm = ? AND id != ?`).get(norm, id) as
        { id: number } | undefined;
      if (other) {
        const res = db
          .prepare(`UPDATE learnings SET tombstoned = 1, tombstone_reason = ?, updated_at = ? WHERE id = ?`)
          .run(`edited into a duplicate of #${other.id}`, Date.now(), id);
        if (res.changes === 0) throw new LearningNotFoundError(id);
        return other.id;
      }
      const res = db
        .prepare(`UPDATE learnings SET text = ?, norm = ?, updated_at = ? WHERE id = ?`)
        .run(clean, norm, Date.now(), id);
      if (res.changes === 0) throw new LearningNotFoundError(id);
      return id;
    })
    .immediate();
}

/** Logs that a lane was briefed with these learnings (idempotent per lane and learning) and marks them used. */
export function recordInjection(
  db: Db,
  laneId: number,
  items: readonly { id: number; section: 'constraint' | 'learning'; score: number | null }[],
  at = Date.now(),
): void {
  if (items.length === 0) return;
  db.transaction(() => {
    const ins = db.prepare(
      `INSERT INTO lane_learnings (lane_id, learning_id, section, score, at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (lane_id, learning_id) DO NOTHING`,
    );
    const use = db.prepare(`UPDATE learnings SET uses = uses + ?, last_used_at = ? WHERE id = ?`);
    for (const it of items) {
      const fresh = ins.run(laneId, it.id, it.section, it.score, at).changes;
      use.run(fresh, at, it.id);
    }
  }).immediate();
}

/** Ids of the learnings a lane was briefed with. */
export function injectedInto(db: Db, laneId: number): { learningId: number; section: string; utilityDelta: number }[] {
  return (
    db
      .prepare(
        `SELECT learning_id, section, utility_delta FROM lane_learnings WHERE lane_id = ? ORDER BY at, learning_id`,
      )
      .all(laneId) as {
      learning_id: number;
      section: string;
      utility_delta: number;
    }[]
  ).map((r) => ({ learningId: r.learning_id, section: r.section, utilityDelta: r.utility_delta }));
}

/**
 * Credits the learnings a lane was briefed with: `delta` utility each (MERGE_UTILITY when it
 * was merged, REJECT_UTILITY per rejection). A merge also counts as a use (it resets decay).
 * Returns how many learnings were credited.
 */
export function creditLane(db: Db, laneId: number, delta: number, at = Date.now()): number {
  return db
    .transaction((): number => {
      const ids = db
        .prepare(`SELECT learning_id FROM lane_learnings WHERE lane_id = ?`)
        .pluck()
        .all(laneId) as number[];
      const upd = db.prepare(
        `UPDATE learnings SET utility = utility + ?, last_used_at = CASE WHEN ? > 0 THEN ? ELSE last_used_at END WHERE id = ?`,
      );
      const log = db.prepare(
        `UPDATE lane_learnings SET utility_delta = utility_delta + ? WHERE lane_id = ? AND learning_id = ?`,
      );
      for (const id of ids) {
        upd.run(delta, delta, at, id);
        log.run(delta, laneId, id);
      }
      return ids.length;
    })
    .immediate();
}

/** Learnings that came from a lane (closure record, `show`). */
export function learningsOfLane(db: Db, laneId: number): { text: string; category: string; source: string }[] {
  return db.prepare(`SELECT text, category, source FROM learnings WHERE lane_id = ? ORDER BY id`).all(laneId) as {
    text: string;
    category: string;
    source: string;
  }[];
}
