/** Review comments: the operator's notes on lines of a lane's diff (table `comments`, docs/data-model.md). */
import type { CommentStatus } from '../supervisor/api.js';
import { writeTransaction, type Db } from './open.js';

/** A comment as stored. */
export interface CommentRow {
  id: number;
  laneId: number;
  file: string;
  line: number;
  endLine: number;
  commit: string;
  excerpt: string;
  text: string;
  createdAt: number;
  updatedAt: number;
  sentAt: number | null;
  sentRound: number | null;
  status: CommentStatus;
  /** the lane head `status` was judged against (addressed / unaddressed) */
  checkedHead: string | null;
  deleted: boolean;
}

export interface NewCommentRow {
  laneId: number;
  file: string;
  line: number;
  endLine: number;
  commit: string;
  excerpt: string;
  text: string;
  /** default: now */
  at?: number;
}

interface CommentRecord {
  id: number;
  lane_id: number;
  file: string;
  line: number;
  end_line: number;
  commit_sha: string;
  excerpt: string;
  text: string;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
  sent_round: number | null;
  status: CommentStatus;
  checked_head: string | null;
  deleted: number;
}

const toRow = (r: CommentRecord): CommentRow => ({
  id: r.id,
  laneId: r.lane_id,
  file: r.file,
  line: r.line,
  endLine: r.end_line,
  commit: r.commit_sha,
  excerpt: r.excerpt,
  text: r.text,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  sentAt: r.sent_at,
  sentRound: r.sent_round,
  status: r.status,
  checkedHead: r.checked_head,
  deleted: r.deleted === 1,
});

export function insertComment(db: Db, c: NewCommentRow): CommentRow {
  const at = c.at ?? Date.now();
  const info = db
    .prepare(
      `INSERT INTO comments (lane_id, file, line, end_line, commit_sha, excerpt, text, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(c.laneId, c.file, c.line, c.endLine, c.commit, c.excerpt, c.text, at, at);
  return getComment(db, Number(info.lastInsertRowid))!;
}

/** One comment by id (deleted ones too); undefined when there is none. */
export function getComment(db: Db, id: number): CommentRow | undefined {
  const r = db.prepare(`SELECT * FROM comments WHERE id = ?`).get(id) as CommentRecord | undefined;
  return r ? toRow(r) : undefined;
}

/** A lane's comments in file and line order (deleted ones only when asked). */
export function listComments(db: Db, laneId: number, opts: { includeDeleted?: boolean } = {}): CommentRow[] {
  const rows = db
    .prepare(`SELECT * FROM comments WHERE lane_id = ? AND (? = 1 OR deleted = 0) ORDER BY file, line, end_line, id`)
    .all(laneId, opts.includeDeleted ? 1 : 0) as CommentRecord[];
  return rows.map(toRow);
}

export function setCommentText(db: Db, id: number, text: string, at = Date.now()): CommentRow {
  db.prepare(`UPDATE comments SET text = ?, updated_at = ? WHERE id = ?`).run(text, at, id);
  return getComment(db, id)!;
}

/** Soft delete: the row stays for the record (replay's events point at it), never listed again. */
export function deleteComment(db: Db, id: number, at = Date.now()): void {
  db.prepare(`UPDATE comments SET deleted = 1, updated_at = ? WHERE id = ?`).run(at, id);
}

/** The drafts go out with rework round `round`: status sent, all in one transaction. */
export function markSent(db: Db, ids: readonly number[], round: number, at = Date.now()): void {
  writeTransaction(db, () => {
    const stmt = db.prepare(
      `UPDATE comments SET status = 'sent', sent_at = ?, sent_round = ?, updated_at = ? WHERE id = ? AND status = 'draft'`,
    );
    for (const id of ids) stmt.run(at, round, at, id);
  });
}

/** A sent comment judged against the lane head `head`: addressed, unaddressed, or still sent (head unmoved). */
export function setCommentOutcome(db: Db, id: number, status: CommentStatus, head: string): void {
  db.prepare(`UPDATE comments SET status = ?, checked_head = ? WHERE id = ?`).run(status, head, id);
}
