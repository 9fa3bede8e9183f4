/** Sessions: one row per run of the console. */
import { randomUUID } from 'node:crypto';
import type { Db } from './open.js';

export interface SessionRow {
  id: string;
  repo: string;
  pid: number;
  startedAt: number;
  endedAt: number | null;
  endReason: string | null;
}

export interface NewSession {
  repo: string;
  /** default: a random UUID */
  id?: string;
  /** default: this process */
  pid?: number;
  /** default: now */
  startedAt?: number;
}

interface SessionRecord {
  id: string;
  repo: string;
  pid: number;
  started_at: number;
  ended_at: number | null;
  end_reason: string | null;
}

const toRow = (r: SessionRecord): SessionRow => ({
  id: r.id,
  repo: r.repo,
  pid: r.pid,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  endReason: r.end_reason,
});

export function createSession(db: Db, s: NewSession): SessionRow {
  const row: SessionRow = {
    id: s.id ?? randomUUID(),
    repo: s.repo,
    pid: s.pid ?? process.pid,
    startedAt: s.startedAt ?? Date.now(),
    endedAt: null,
    endReason: null,
  };
  db.prepare('INSERT INTO sessions (id, repo, pid, started_at) VALUES (?, ?, ?, ?)').run(
    row.id,
    row.repo,
    row.pid,
    row.startedAt,
  );
  return row;
}

/** Records the end of a session; a session already ended keeps its first end. */
export function endSession(db: Db, id: string, reason: string, at: number = Date.now()): void {
  db.prepare('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL').run(at, reason, id);
}

export function getSession(db: Db, id: string): SessionRow | undefined {
  const r = db.prepare('SELECT * FROM sessions WHERE id = ?').get(id) as SessionRecord | undefined;
  return r && toRow(r);
}

/** Sessions, newest first. */
export function listSessions(db: Db, opts: { limit?: number } = {}): SessionRow[] {
  const rows = db
    .prepare('SELECT * FROM sessions ORDER BY started_at DESC, rowid DESC LIMIT ?')
    .all(opts.limit ?? -1) as SessionRecord[];
  return rows.map(toRow);
}

/** The most recently started session, if any. */
export function latestSession(db: Db): SessionRow | undefined {
  return listSessions(db, { limit: 1 })[0];
}

/** Ids of the sessions whose id starts with `prefix`, newest first. */
export function sessionIdsStartingWith(db: Db, prefix: string): string[] {
  return db
    .prepare("SELECT id FROM sessions WHERE id LIKE ? || '%' ORDER BY started_at DESC")
    .pluck()
    .all(prefix) as string[];
}
