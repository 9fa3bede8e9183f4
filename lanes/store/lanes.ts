/** Lanes: one row per agent run. State changes go through setLaneState so each leaves an event. */
import type { LaneState } from '../lane/types.js';
import { appendEvent, type LaneEventRow } from './events.js';
import type { Db } from './open.js';

export interface LaneRow {
  id: number;
  name: string;
  sessionId: string;
  profile: string;
  task: string;
  branch: string;
  base: string;
  worktree: string;
  state: LaneState;
  /** epoch ms of the last state change */
  stateSince: number;
  createdAt: number;
  /** epoch ms that output `tMs` counts from; set once, at the first start */
  startedAt: number | null;
  cols: number;
  rows: number;
  pid: number | null;
  /** identifies the agent process beyond its pid (pid reuse), e.g. its start time */
  procToken: string | null;
  exitCode: number | null;
  exitSignal: number | null;
  reworkCount: number;
  headCommit: string | null;
  /** handed off with no change against its base */
  empty: boolean;
  /** bytes of output recorded; maintained by the recorder */
  outputBytes: number;
  closedAt: number | null;
}

export interface NewLane {
  name: string;
  sessionId: string;
  profile: string;
  task: string;
  branch: string;
  base: string;
  worktree: string;
  cols: number;
  rows: number;
  /** default 'created' */
  state?: LaneState;
  /** default: now */
  createdAt?: number;
}

/** The fields updateLane may change. State goes through setLaneState; outputBytes is the recorder's. */
export type LaneUpdate = Partial<
  Pick<
    LaneRow,
    | 'profile'
    | 'task'
    | 'branch'
    | 'base'
    | 'worktree'
    | 'startedAt'
    | 'cols'
    | 'rows'
    | 'pid'
    | 'procToken'
    | 'exitCode'
    | 'exitSignal'
    | 'reworkCount'
    | 'headCommit'
    | 'empty'
  >
>;

const UPDATE_COLUMNS: Record<keyof LaneUpdate, string> = {
  profile: 'profile',
  task: 'task',
  branch: 'branch',
  base: 'base',
  worktree: 'worktree',
  startedAt: 'started_at',
  cols: 'cols',
  rows: 'rows',
  pid: 'pid',
  procToken: 'proc_token',
  exitCode: 'exit_code',
  exitSignal: 'exit_signal',
  reworkCount: 'rework_count',
  headCommit: 'head_commit',
  empty: 'empty',
};

/** Another lane that is not closed already has this name. */
export class LaneNameTakenError extends Error {
  constructor(readonly laneName: string) {
    super(`a lane named "${laneName}" already exists and is not closed`);
    this.name = 'LaneNameTakenError';
  }
}

interface LaneRecord {
  id: number;
  name: string;
  session_id: string;
  profile: string;
  task: string;
  branch: string;
  base: string;
  worktree: string;
  state: string;
  state_since: number;
  created_at: number;
  started_at: number | null;
  cols: number;
  rows: number;
  pid: number | null;
  proc_token: string | null;
  exit_code: number | null;
  exit_signal: number | null;
  rework_count: number;
  head_commit: string | null;
  empty: number;
  output_bytes: number;
  closed_at: number | null;
}

const toRow = (r: LaneRecord): LaneRow => ({
  id: r.id,
  name: r.name,
  sessionId: r.session_id,
  profile: r.profile,
  task: r.task,
  branch: r.branch,
  base: r.base,
  worktree: r.worktree,
  state: r.state as LaneState,
  stateSince: r.state_since,
  createdAt: r.created_at,
  startedAt: r.started_at,
  cols: r.cols,
  rows: r.rows,
  pid: r.pid,
  procToken: r.proc_token,
  exitCode: r.exit_code,
  exitSignal: r.exit_signal,
  reworkCount: r.rework_count,
  headCommit: r.head_commit,
  empty: r.empty === 1,
  outputBytes: r.output_bytes,
  closedAt: r.closed_at,
});

const isUniqueViolation = (err: unknown): boolean => (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';

/** Inserts a lane and records its creation as a 'state' event (null -> state). */
export function insertLane(db: Db, lane: NewLane): LaneRow {
  const createdAt = lane.createdAt ?? Date.now();
  const state = lane.state ?? 'created';
  return db
    .transaction(() => {
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
    })
    .immediate();
}

export function getLane(db: Db, id: number): LaneRow | undefined {
  const r = db.prepare('SELECT * FROM lanes WHERE id = ?').get(id) as LaneRecord | undefined;
  return r && toRow(r);
}

/** The lane of that name that is not closed; else the most recent closed one. */
export function getLaneByName(db: Db, name: string): LaneRow | undefined {
  const open = db.prepare('SELECT * FROM lanes WHERE name = ? AND closed_at IS NULL').get(name) as
    LaneRecord | undefined;
  if (open) return toRow(open);
  const last = db.prepare('SELECT * FROM lanes WHERE name = ? ORDER BY id DESC LIMIT 1').get(name) as
    LaneRecord | undefined;
  return last && toRow(last);
}

export function listLanesBySession(db: Db, sessionId: string): LaneRow[] {
  return (db.prepare('SELECT * FROM lanes WHERE session_id = ? ORDER BY id').all(sessionId) as LaneRecord[]).map(toRow);
}

/** Every lane not closed yet, of any session (resumable lanes of earlier sessions included). */
export function listOpenLanes(db: Db): LaneRow[] {
  return (db.prepare('SELECT * FROM lanes WHERE closed_at IS NULL ORDER BY id').all() as LaneRecord[]).map(toRow);
}

/** Changes the given fields; returns the updated lane. */
export function updateLane(db: Db, id: number, fields: LaneUpdate): LaneRow {
  const keys = (Object.keys(fields) as (keyof LaneUpdate)[]).filter(
    (k) => fields[k] !== undefined && k in UPDATE_COLUMNS,
  );
  if (keys.length > 0) {
    const set = keys.map((k) => `${UPDATE_COLUMNS[k]} = ?`).join(', ');
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
  return db
    .transaction(() => {
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
    })
    .immediate();
}

/** Marks a lane closed (its closure is recorded); frees its name for a new lane. */
export function markLaneClosed(db: Db, id: number, at: number = Date.now()): void {
  const info = db.prepare('UPDATE lanes SET closed_at = ? WHERE id = ? AND closed_at IS NULL').run(at, id);
  if (info.changes === 0 && !getLane(db, id)) throw new Error(`no lane with id ${id}`);
}
