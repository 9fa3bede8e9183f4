/** Lanes: one row per agent run. State changes go through setLaneState so each leaves an event. */
import type { LaneState } from '../lane/types.js';
import { appendEvent, type LaneEventRow } from './events.js';
import { LANE_COLUMNS, laneSelectList, type LaneRow } from './laneRow.js';
import { writeTransaction, type Db } from './open.js';

/** A lane as stored (lanes/store/laneRow.ts). */
export type { LaneRow };

/** What a new lane is inserted with; `state` defaults to 'created', `createdAt` to now. */
export type NewLane = Pick<
  LaneRow,
  'name' | 'sessionId' | 'profile' | 'task' | 'branch' | 'base' | 'worktree' | 'cols' | 'rows'
> &
  Partial<Pick<LaneRow, 'state' | 'createdAt'>>;

/** The fields updateLane may change. State goes through setLaneState; outputBytes is the recorder's. */
const UPDATABLE = [
  'profile',
  'task',
  'branch',
  'base',
  'worktree',
  'startedAt',
  'cols',
  'rows',
  'pid',
  'procToken',
  'exitCode',
  'exitSignal',
  'reworkCount',
  'headCommit',
  'empty',
] as const satisfies readonly (keyof LaneRow)[];

export type LaneUpdate = Partial<Pick<LaneRow, (typeof UPDATABLE)[number]>>;

/** Another lane that is not closed already has this name. */
export class LaneNameTakenError extends Error {
  constructor(readonly laneName: string) {
    super(`a lane named "${laneName}" already exists and is not closed`);
    this.name = 'LaneNameTakenError';
  }
}

const FIELDS = Object.keys(LANE_COLUMNS) as (keyof LaneRow)[];
const SELECT_LANE = `SELECT ${laneSelectList(FIELDS, 'lanes')} FROM lanes`;

/** A row as SQLite returns it: every field, `empty` as 0/1. */
type LaneRecord = Omit<LaneRow, 'empty'> & { empty: number };

const toRow = (r: LaneRecord): LaneRow => ({ ...r, empty: r.empty === 1 });

const isUniqueViolation = (err: unknown): boolean => (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';

/** Inserts a lane and records its creation as a 'state' event (null -> state). */
export function insertLane(db: Db, lane: NewLane): LaneRow {
  const createdAt = lane.createdAt ?? Date.now();
  const state = lane.state ?? 'created';
  return writeTransaction(db, () => {
    let id: number;
    try {
      const info = db
        .prepare(
          `INSERT INTO lanes (name, session_id, profile, task, branch, base, worktree, state, state_since,
                              created_at, cols, rows)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          lane.name,
          lane.sessionId,
          lane.profile,
          lane.task,
          lane.branch,
          lane.base,
          lane.worktree,
          state,
          createdAt,
          createdAt,
          lane.cols,
          lane.rows,
        );
      id = Number(info.lastInsertRowid);
    } catch (err) {
      if (isUniqueViolation(err)) throw new LaneNameTakenError(lane.name);
      throw err;
    }
    appendEvent(db, { laneId: id, kind: 'state', at: createdAt, fromState: null, toState: state, cause: 'created' });
    return getLane(db, id)!;
  });
}

export function getLane(db: Db, id: number): LaneRow | undefined {
  const r = db.prepare(`${SELECT_LANE} WHERE id = ?`).get(id) as LaneRecord | undefined;
  return r && toRow(r);
}

/** The lane of that name that is not closed; else the most recent closed one. */
export function getLaneByName(db: Db, name: string): LaneRow | undefined {
  const open = db.prepare(`${SELECT_LANE} WHERE name = ? AND closed_at IS NULL`).get(name) as LaneRecord | undefined;
  if (open) return toRow(open);
  const last = db.prepare(`${SELECT_LANE} WHERE name = ? ORDER BY id DESC LIMIT 1`).get(name) as LaneRecord | undefined;
  return last && toRow(last);
}

export function listLanesBySession(db: Db, sessionId: string): LaneRow[] {
  return (db.prepare(`${SELECT_LANE} WHERE session_id = ? ORDER BY id`).all(sessionId) as LaneRecord[]).map(toRow);
}

/** Every lane not closed yet, of any session (resumable lanes of earlier sessions included). */
export function listOpenLanes(db: Db): LaneRow[] {
  return (db.prepare(`${SELECT_LANE} WHERE closed_at IS NULL ORDER BY id`).all() as LaneRecord[]).map(toRow);
}

/** Changes the given fields; returns the updated lane. */
export function updateLane(db: Db, id: number, fields: LaneUpdate): LaneRow {
  const keys = (Object.keys(fields) as (keyof LaneUpdate)[]).filter(
    (k) => fields[k] !== undefined && (UPDATABLE as readonly string[]).includes(k),
  );
  if (keys.length > 0) {
    const set = keys.map((k) => `${LANE_COLUMNS[k]} = ?`).join(', ');
    const values = keys.map((k) => {
      const v = fields[k];
      return typeof v === 'boolean' ? (v ? 1 : 0) : v;
    });
    const info = db.prepare(`UPDATE lanes SET ${set} WHERE id = ?`).run(...values, id);
    if (info.changes === 0) throw new Error(`no lane with id ${id}`);
  }
  const lane = getLane(db, id);
  if (!lane) throw new Error(`no lane with id ${id}`);
  return lane;
}

export interface StateChange {
  lane: LaneRow;
  event: LaneEventRow;
}

/**
 * Moves a lane to `to`: updates state and state_since and appends a 'state' lane event with
 * the previous state and the cause, in one transaction. The caller decides whether the change
 * is allowed (lanes/lane/stateMachine.ts); the store records it.
 */
export function setLaneState(
  db: Db,
  id: number,
  to: LaneState,
  opts: { cause: string; at?: number; data?: unknown },
): StateChange {
  const at = opts.at ?? Date.now();
  return writeTransaction(db, () => {
    const before = db.prepare('SELECT state, started_at FROM lanes WHERE id = ?').get(id) as
      { state: LaneState; started_at: number | null } | undefined;
    if (!before) throw new Error(`no lane with id ${id}`);
    db.prepare('UPDATE lanes SET state = ?, state_since = ? WHERE id = ?').run(to, at, id);
    const event = appendEvent(db, {
      laneId: id,
      kind: 'state',
      at,
      tMs: before.started_at === null ? null : at - before.started_at,
      fromState: before.state,
      toState: to,
      cause: opts.cause,
      data: opts.data,
    });
    return { lane: getLane(db, id)!, event };
  });
}

/** Marks a lane closed (its closure is recorded); frees its name for a new lane. */
export function markLaneClosed(db: Db, id: number, at: number = Date.now()): void {
  const info = db.prepare('UPDATE lanes SET closed_at = ? WHERE id = ? AND closed_at IS NULL').run(at, id);
  if (info.changes === 0 && !getLane(db, id)) throw new Error(`no lane with id ${id}`);
}

/** Names of the lanes not closed yet. */
export function openLaneNames(db: Db): string[] {
  return db.prepare('SELECT name FROM lanes WHERE closed_at IS NULL').pluck().all() as string[];
}

/** A closed lane as gc sees it. */
export type ClosedLane = Pick<LaneRow, 'id' | 'name' | 'branch' | 'base' | 'worktree'> & { closedAt: number };

/** The latest row of each lane name, where that row is closed. */
export function latestClosedLanes(db: Db): ClosedLane[] {
  return db
    .prepare(
      `SELECT ${laneSelectList(['id', 'name', 'branch', 'base', 'worktree', 'closedAt'])} FROM lanes l
       WHERE closed_at IS NOT NULL AND id = (SELECT MAX(id) FROM lanes WHERE name = l.name)`,
    )
    .all() as ClosedLane[];
}
