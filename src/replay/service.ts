/**
 * What front ends use to find and open recordings: the history of lanes (with closures), the
 * lanes of a session, resolving `ao-console replay [session | lane]`, and opening a player.
 * One read-only connection, opened lazily.
 */
import type { Db } from '../../lanes/store/open.js';
import { findRecordedLane, lanesOfSession, listHistory, type HistoryEntry } from '../../lanes/store/history.js';
import { getSession, listSessions, sessionIdsStartingWith, type SessionRow } from '../../lanes/store/sessions.js';
import { ReplayPlayer, type PlayerOptions } from './player.js';
import { openReplayDb } from '../../lanes/recording/reader.js';

export type { HistoryEntry };

export interface ReplayService {
  /** past and present lanes, newest first */
  history(limit?: number): HistoryEntry[];
  lanesOfSession(sessionId: string): HistoryEntry[];
  openPlayer(laneId: number, opts?: PlayerOptions): ReplayPlayer;
  close(): void;
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
  const byLane = (by: { name: string } | { id: number }): ReplayTarget | null => {
    const row = findRecordedLane(db, by);
    if (!row) return null;
    const session = getSession(db, row.sessionId);
    return session ? pick(session, row.id) : null;
  };
  const id = /^#?(\d+)$/.exec(arg);
  const sessions = sessionIdsStartingWith(db, arg);
  if (sessions.length > 1 && !id) throw new Error(`"${arg}" matches ${sessions.length} sessions; give more of the id`);
  if (sessions.length === 1 && !/^#/.test(arg)) return pick(getSession(db, sessions[0])!);
  const named = byLane({ name: arg }) ?? (id ? byLane({ id: Number(id[1]) }) : null);
  if (named) return named;
  throw new Error(
    `no session or lane "${arg}" in this repo's store (see \`ao-console sessions\` and \`ao-console lanes\`)`,
  );
}
