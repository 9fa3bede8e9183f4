/**
 * Lane history: past and present lanes with their closure's outcome, for the front ends that
 * read the store without a console (`ao-console lanes`, `sessions`, `replay`, `export`). Each
 * row is picked from the stored lane (lanes/store/laneRow.ts) plus the outcome.
 */
import type { LaneRow } from './lanes.js';
import { laneSelectList } from './laneRow.js';
import type { Db } from './open.js';

/** A row of `ao-console lanes` (and of its `--json`). */
export type LaneSummary = Pick<
  LaneRow,
  | 'id'
  | 'name'
  | 'sessionId'
  | 'profile'
  | 'task'
  | 'branch'
  | 'base'
  | 'state'
  | 'stateSince'
  | 'createdAt'
  | 'closedAt'
  | 'reworkCount'
> & {
  /** closure outcome; null while the lane is open */
  outcome: string | null;
};

/** A lane in the replay browser's history. */
export type HistoryEntry = Pick<
  LaneRow,
  'name' | 'sessionId' | 'profile' | 'task' | 'state' | 'createdAt' | 'closedAt' | 'outputBytes'
> & {
  laneId: number;
  /** closure outcome; null while the lane is open */
  outcome: string | null;
};

const SUMMARY_SQL = `SELECT ${laneSelectList([
  'id',
  'name',
  'sessionId',
  'profile',
  'task',
  'branch',
  'base',
  'state',
  'stateSince',
  'createdAt',
  'closedAt',
  'reworkCount',
])}, c.outcome FROM lanes l LEFT JOIN closures c ON c.lane_id = l.id`;

/**
 * Lanes, newest first: of the sessions whose id starts with `sessionPrefix` (all when absent),
 * only the open ones when `open`, at most `limit`.
 */
export function listLaneSummaries(
  db: Db,
  opts: { sessionPrefix?: string; open?: boolean; limit: number },
): LaneSummary[] {
  const session = opts.sessionPrefix ?? null;
  return db
    .prepare(
      `${SUMMARY_SQL}
       WHERE (? IS NULL OR l.session_id LIKE ? || '%') AND (? = 0 OR l.closed_at IS NULL)
       ORDER BY l.id DESC LIMIT ?`,
    )
    .all(session, session, opts.open ? 1 : 0, opts.limit) as LaneSummary[];
}

const HISTORY_SQL = `SELECT l.id AS laneId, ${laneSelectList([
  'name',
  'sessionId',
  'profile',
  'task',
  'state',
  'createdAt',
  'closedAt',
])}, c.outcome, l.output_bytes AS outputBytes
  FROM lanes l LEFT JOIN closures c ON c.lane_id = l.id`;

/** Past and present lanes, newest first. */
export function listHistory(db: Db, limit = 200): HistoryEntry[] {
  return db.prepare(`${HISTORY_SQL} ORDER BY l.id DESC LIMIT ?`).all(limit) as HistoryEntry[];
}

/** The lanes of a session, oldest first. */
export function lanesOfSession(db: Db, sessionId: string): HistoryEntry[] {
  return db.prepare(`${HISTORY_SQL} WHERE l.session_id = ? ORDER BY l.id`).all(sessionId) as HistoryEntry[];
}

/** How many lanes ended one way: a closure's outcome, else a lane's state. */
export interface OutcomeCount {
  outcome: string;
  n: number;
}

/** OutcomeCounts of the lanes `where` picks (`l` the lane, `c` its closure). */
function outcomeCounts(db: Db, where: string, ...params: (string | number)[]): OutcomeCount[] {
  return db
    .prepare(
      `SELECT coalesce(c.outcome, l.state) AS outcome, COUNT(*) AS n FROM lanes l LEFT JOIN closures c ON c.lane_id = l.id
       WHERE ${where} GROUP BY 1 ORDER BY 1`,
    )
    .all(...params) as OutcomeCount[];
}

/** How the lanes of a session ended: closure outcome, else the current state (still open), with counts. */
export function laneOutcomesOfSession(db: Db, sessionId: string): OutcomeCount[] {
  return outcomeCounts(db, 'l.session_id = ?', sessionId);
}

/**
 * How the lanes of sessions other than `exceptSession` that closed at or after `since` (epoch
 * ms) ended: closure outcome, else the state, with counts (the dashboard's "today" counts the
 * earlier sessions' lanes from these).
 */
export function outcomesClosedSince(db: Db, since: number, exceptSession: string): OutcomeCount[] {
  return outcomeCounts(db, 'l.closed_at >= ? AND l.session_id <> ?', since, exceptSession);
}

/**
 * The lane a replay or an export means by a name (the open lane of that name, else its latest
 * row) or by an id.
 */
export function findRecordedLane(
  db: Db,
  by: { name: string } | { id: number },
): { id: number; sessionId: string } | undefined {
  const [where, value] = 'name' in by ? ['name = ?', by.name] : ['id = ?', by.id];
  return db
    .prepare(
      `SELECT id, session_id AS sessionId FROM lanes WHERE ${where} ORDER BY closed_at IS NOT NULL, id DESC LIMIT 1`,
    )
    .get(value) as { id: number; sessionId: string } | undefined;
}
