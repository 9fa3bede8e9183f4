/**
 * The learnings table, its full-text index (learnings_fts, FTS5) and lane_learnings, the log of
 * which learnings went into which lane's context packet. Only the SQL lives here: dedup, ranking
 * and decay are lanes/learnings/ (store.ts, rank.ts, text.ts, packet.ts).
 */
import type { Db } from './open.js';
import { writeTransaction } from './open.js';

/** A learning as stored, with the name of the lane it came from (null when none or deleted). */
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

export interface NewLearningRow {
  text: string;
  norm: string;
  category: string;
  source: string;
  laneId: number | null;
  sessionId: string | null;
  /** also its first updated_at */
  createdAt: number;
  confidence: number;
  utility: number;
  maturity: string;
  tombstoned: boolean;
  tombstoneReason: string | null;
}

/** A live learning that a full-text query matched, with what ranking needs (lanes/learnings/rank.ts). */
export interface RankableLearning {
  id: number;
  text: string;
  /** FTS5 bm25() of the learning against the query: negative, lower is more relevant */
  bm25: number;
  confidence: number;
  utility: number;
  createdAt: number;
  updatedAt: number | null;
  lastUsedAt: number | null;
}

const SELECT = `SELECT l.id, l.text, l.norm, l.category, l.source, l.lane_id, ln.name AS lane, l.session_id, l.created_at,
  l.updated_at, l.last_used_at, l.confidence, l.utility, l.maturity, l.uses, l.tombstoned, l.tombstone_reason
  FROM learnings l LEFT JOIN lanes ln ON ln.id = l.lane_id`;

/** The learning with this normalised text (other than `exceptId`), if any. */
export function findLearningByNorm(
  db: Db,
  norm: string,
  exceptId = -1,
): { id: number; laneId: number | null } | undefined {
  return db.prepare(`SELECT id, lane_id AS laneId FROM learnings WHERE norm = ? AND id != ?`).get(norm, exceptId) as
    { id: number; laneId: number | null } | undefined;
}

/** Live learnings of `category` matching an FTS5 query, best match first (near-duplicate candidates). */
export function matchingLearnings(
  db: Db,
  ftsQuery: string,
  category: string,
  limit = 20,
): { id: number; text: string; laneId: number | null }[] {
  return db
    .prepare(
      `SELECT l.id, l.text, l.lane_id AS laneId FROM learnings_fts f JOIN learnings l ON l.id = f.rowid
       WHERE learnings_fts MATCH ? AND l.category = ? AND l.tombstoned = 0 ORDER BY bm25(learnings_fts) LIMIT ?`,
    )
    .all(ftsQuery, category, limit) as { id: number; text: string; laneId: number | null }[];
}

/** Raises a learning's confidence by `by` (capped at 1) and marks it updated. */
export function raiseConfidence(db: Db, id: number, by: number, at: number): void {
  db.prepare(`UPDATE learnings SET confidence = MIN(1.0, confidence + ?), updated_at = ? WHERE id = ?`).run(by, at, id);
}

/** Inserts a learning and returns its id. */
export function insertLearning(db: Db, l: NewLearningRow): number {
  const res = db
    .prepare(
      `INSERT INTO learnings (text, norm, category, source, lane_id, session_id, created_at, updated_at, confidence, utility,
       maturity, tombstoned, tombstone_reason)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      l.text,
      l.norm,
      l.category,
      l.source,
      l.laneId,
      l.sessionId,
      l.createdAt,
      l.createdAt,
      l.confidence,
      l.utility,
      l.maturity,
      l.tombstoned ? 1 : 0,
      l.tombstoneReason,
    );
  return Number(res.lastInsertRowid);
}

export function getLearningRow(db: Db, id: number): LearningRow | undefined {
  return db.prepare(`${SELECT} WHERE l.id = ?`).get(id) as LearningRow | undefined;
}

/** Learnings matching an FTS5 query, best (bm25) first. */
export function searchLearningRows(
  db: Db,
  ftsQuery: string,
  opts: { includeTombstoned?: boolean; limit: number },
): LearningRow[] {
  const live = opts.includeTombstoned ? '' : 'AND l.tombstoned = 0';
  return db
    .prepare(
      `${SELECT} JOIN learnings_fts f ON f.rowid = l.id WHERE learnings_fts MATCH ? ${live}
       ORDER BY bm25(learnings_fts), l.id DESC LIMIT ?`,
    )
    .all(ftsQuery, opts.limit) as LearningRow[];
}

/** Learnings, the most recently written or used first. */
export function recentLearningRows(db: Db, opts: { includeTombstoned?: boolean; limit: number }): LearningRow[] {
  const live = opts.includeTombstoned ? '' : 'AND l.tombstoned = 0';
  return db
    .prepare(
      `${SELECT} WHERE 1 = 1 ${live} ORDER BY MAX(l.created_at, COALESCE(l.updated_at, 0), COALESCE(l.last_used_at, 0)) DESC, l.id DESC LIMIT ?`,
    )
    .all(opts.limit) as LearningRow[];
}

/** Every learning, oldest first. */
export function allLearningRows(db: Db, includeTombstoned = true): LearningRow[] {
  return db
    .prepare(`${SELECT} ${includeTombstoned ? '' : 'WHERE l.tombstoned = 0'} ORDER BY l.id`)
    .all() as LearningRow[];
}

/** Tombstones a learning; false when there is no learning with this id. */
export function setTombstone(db: Db, id: number, reason: string | null, at: number): boolean {
  return (
    db
      .prepare(`UPDATE learnings SET tombstoned = 1, tombstone_reason = ?, updated_at = ? WHERE id = ?`)
      .run(reason, at, id).changes > 0
  );
}

/** Replaces a learning's text (and its normalised form); false when there is no learning with this id. */
export function setLearningText(db: Db, id: number, text: string, norm: string, at: number): boolean {
  return (
    db.prepare(`UPDATE learnings SET text = ?, norm = ?, updated_at = ? WHERE id = ?`).run(text, norm, at, id).changes >
    0
  );
}

/** Logs that a lane was briefed with these learnings (idempotent per lane and learning) and marks them used. */
export function recordInjection(
  db: Db,
  laneId: number,
  items: readonly { id: number; section: 'constraint' | 'learning'; score: number | null }[],
  at = Date.now(),
): void {
  if (items.length === 0) return;
  writeTransaction(db, () => {
    const ins = db.prepare(
      `INSERT INTO lane_learnings (lane_id, learning_id, section, score, at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (lane_id, learning_id) DO NOTHING`,
    );
    const use = db.prepare(`UPDATE learnings SET uses = uses + ?, last_used_at = ? WHERE id = ?`);
    for (const it of items) {
      const fresh = ins.run(laneId, it.id, it.section, it.score, at).changes;
      use.run(fresh, at, it.id);
    }
  });
}

/** Ids of the learnings a lane was briefed with. */
export function injectedInto(db: Db, laneId: number): { learningId: number; section: string; utilityDelta: number }[] {
  return db
    .prepare(
      `SELECT learning_id AS learningId, section, utility_delta AS utilityDelta FROM lane_learnings
       WHERE lane_id = ? ORDER BY at, learning_id`,
    )
    .all(laneId) as { learningId: number; section: string; utilityDelta: number }[];
}

/**
 * Credits the learnings a lane was briefed with: `delta` utility each (MERGE_UTILITY when it
 * was merged, REJECT_UTILITY per rejection: lanes/learnings/store.ts). A merge also counts as a
 * use (it resets decay). Returns how many learnings were credited.
 */
export function creditLane(db: Db, laneId: number, delta: number, at = Date.now()): number {
  return writeTransaction(db, (): number => {
    const ids = db.prepare(`SELECT learning_id FROM lane_learnings WHERE lane_id = ?`).pluck().all(laneId) as number[];
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
  });
}

/** Learnings that came from a lane (closure record, `show`). */
export function learningsOfLane(db: Db, laneId: number): { text: string; category: string; source: string }[] {
  return db.prepare(`SELECT text, category, source FROM learnings WHERE lane_id = ? ORDER BY id`).all(laneId) as {
    text: string;
    category: string;
    source: string;
  }[];
}

/** Live learnings other than constraints matching an FTS5 query, best (bm25) first: the packet's candidates. */
export function rankableLearnings(db: Db, ftsQuery: string, limit = 200): RankableLearning[] {
  return db
    .prepare(
      `SELECT l.id, l.text, bm25(learnings_fts) AS bm25, l.confidence, l.utility, l.created_at AS createdAt,
         l.updated_at AS updatedAt, l.last_used_at AS lastUsedAt
       FROM learnings_fts JOIN learnings l ON l.id = learnings_fts.rowid
       WHERE learnings_fts MATCH ? AND l.tombstoned = 0 AND l.category != 'constraint'
       ORDER BY bm25(learnings_fts) LIMIT ?`,
    )
    .all(ftsQuery, limit) as RankableLearning[];
}

/** Live constraints (category 'constraint'), the newest first. */
export function liveConstraints(db: Db, limit = 200): { id: number; text: string }[] {
  return db
    .prepare(
      `SELECT id, text FROM learnings WHERE category = 'constraint' AND tombstoned = 0 ORDER BY created_at DESC, id DESC LIMIT ?`,
    )
    .all(limit) as { id: number; text: string }[];
}
