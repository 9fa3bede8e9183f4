/**
 * What front ends use to find and open recordings: the history of lanes (with closures), the
 * lanes of a session, resolving `ao-console replay [session | lane]`, and opening a player.
 * One read-only connection, opened lazily.
 */
import type { Db } from '../../lanes/store/open.js';
import { getSession, listSessions, type SessionRow } from '../../lanes/store/sessions.js';
import { ReplayPlayer, type PlayerOptions } from './player.js';
import { openReplayDb } from '../../lanes/recording/reader.js';

export interface HistoryEntry {
  laneId: number;
  name: string;
  sessionId: string;
  profile: string;
  task: string;
  state: string;
  createdAt: number;
  closedAt: number | null;
  /** closure outcome; null while the lane is open */
  outcome: string | null;
  outputBytes: number;
}

export interface ReplayService {
  /** past and present lanes, newest first */
  history(limit?: number): HistoryEntry[];
  lanesOfSession(sessionId: string): HistoryEntry[];
  openPlayer(laneId: number, opts?: PlayerOptions): ReplayPlayer;
  close(): void;
}

const HISTORY_SQL = `SELECT l.id AS laneId, l.name, l.session_id AS sessionId, l.profile, l.task, l.state,
    l.created_at AS createdAt, l.closed_at AS closedAt, c.outcome, l.output_bytes AS outputBytes
  FROM lanes l LEFT JOIN closures c ON c.lane_id = l.id`;

export function listHistory(db: Db, limit = 200): HistoryEntry[] {
  return db.prepare(`${HISTORY_SQL} ORDER BY l.id DESC LIMIT ?`).all(limit) as HistoryEntry[];
}

export function lanesOfSession(db: Db, sessionId: string): HistoryEntry[] {
  return db.prepare(`${HISTORY_SQL} WHERE l.session_id = ? ORDER BY l.id`).all(sessionId) as HistoryEntry[];
}

export function createReplayService(dbFile: string): ReplayService {
  let db: Db | null = null;
  const conn = (): Db => (db ??= openReplayDb(dbFile));
  return {
    history: (limit) => listHistory(conn(), limit),
    lanesOfSession: (id) => lanesOfSession(conn(), id),
    openPlayer: (laneId, opts) => new ReplayPlayer(conn(), laneId, opts),
    close() {
      db?.close();
      db = null;
    },
  };
}

export interface ReplayTarget {
  session: SessionRow;
  lanes: HistoryEntry[];
  /** the lane to show first */
  laneId: number;
}

/**
 * `replay [session | lane]`: no argument = the latest session that has lanes; else a session id
 * (or its first characters), a lane name (the open lane of that name, else the latest one), or a
 * lane id (`#12` or `12`).
 */
export function resolveReplayTarget(db: Db, arg?: string): ReplayTarget {
  const pick = (session: SessionRow, laneId?: number): ReplayTarget => {
    const lanes = lanesOfSession(db, session.id);
    if (lanes.length === 0) throw new Error(`session ${session.id.slice(0, 8)} has no lanes to replay`);
    return { session, lanes, laneId: laneId ?? lanes[0].laneId };
  };
  if (!arg) {
    const withLanes = listSessions(db).find((s) => lanesOfSession(db, s.id).length > 0);
    if (!withLanes) throw new Error('no session with lanes recorded in this repo yet');
    return pick(withLanes);
  }
  const byLane = (where: string, value: string | number): ReplayTarget | null => {
    const row = db
      .prepare(
        `SELECT id, session_id AS sessionId FROM lanes WHERE ${where} ORDER BY closed_at IS NOT NULL, id DESC LIMIT 1`,
      )
      .get(value) as { id: number; sessionId: string } | undefined;
    if (!row) return null;
    const session = getSession(db, row.sessionId);
    return session ? pick(session, row.id) : null;
  };
  const id = /^#?(\d+)$/.exec(arg);
  const sessions = db.prepare("SELECT id FROM sessions WHERE id LIKE ? || '%' ORDER BY started_at DESC").all(arg) as {
    id: string;
  }[];
  if (sessions.length > 1 && !id) throw new Error(`"${arg}" matches ${sessions.length} sessions; give more of the id`);
  if (sessions.length === 1 && !/^#/.test(arg)) return pick(getSession(db, sessions[0].id)!);
  const named = byLane('name = ?', arg) ?? (id ? byLane('id = ?', Number(id[1])) : null);
  if (named) return named;
  throw new Error(
    `no session or lane "${arg}" in this repo's store (see \`ao-console sessions\` and \`ao-console lanes\`)`,
  );
}
