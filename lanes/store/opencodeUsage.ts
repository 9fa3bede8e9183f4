/**
 * Reading opencode's own database (`~/.local/share/opencode/opencode.db`, opencode 1.18) for the
 * usage reader lanes/usage/opencode.ts: the assistant messages of the sessions whose `directory`
 * is a lane's worktree. Read-only and short: the file is opencode's, opened per read, never
 * written, never migrated; a busy, locked, missing or foreign-shaped file reads as nothing new.
 */
import Database from 'better-sqlite3';

/** One row of opencode's `message` table: `data` is its JSON (role, modelID, tokens, cost, ...). */
export interface OpencodeMessageRow {
  id: string;
  timeUpdated: number;
  data: string;
}

/**
 * The messages of sessions in `directory`, created at or after `since`, updated at or after
 * `updatedFrom` (a cursor: the caller keeps the largest `timeUpdated` it saw). Null when the
 * database cannot be read now (missing, locked, not opencode's).
 */
export function readOpencodeMessages(
  file: string,
  opts: { directory: string; since: number; updatedFrom: number },
): OpencodeMessageRow[] | null {
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 100 });
    return db
      .prepare(
        `SELECT m.id AS id, m.time_updated AS timeUpdated, m.data AS data
         FROM message m JOIN session s ON s.id = m.session_id
         WHERE s.directory = ? AND m.time_created >= ? AND m.time_updated >= ?
         ORDER BY m.time_updated`,
      )
      .all(opts.directory, opts.since, opts.updatedFrom) as OpencodeMessageRow[];
  } catch {
    return null;
  } finally {
    db?.close();
  }
}
