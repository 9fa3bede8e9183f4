/** Gate verdicts, decisions, closures: what review and closure write, and what replay and the context packet read back. */
import type { Decision, GateVerdict } from '../supervisor/api.js';
import type { Db } from './open.js';

/** A gate verdict of any run, as replay shows it on the timeline. */
export interface VerdictRow {
  runId: string;
  gate: string;
  required: boolean;
  status: string;
  exitCode: number | null;
  durationMs: number;
  commit: string;
  at: number;
}

/** A closed lane with why it ended, for the context packet's HISTORY (lanes/learnings/packet.ts). */
export interface ClosureHistoryRow {
  id: number;
  name: string;
  task: string;
  outcome: string;
  at: number;
  /** the reason of its latest decision that gave one */
  reason: string | null;
  /** the cause of its latest state change */
  cause: string | null;
}

export function insertVerdict(db: Db, laneId: number, runId: number, v: GateVerdict): void {
  db.prepare(
    `INSERT INTO gate_verdicts (lane_id, run_id, gate, required, status, exit_code, duration_ms, output, commit_sha, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(laneId, runId, v.gate, v.required ? 1 : 0, v.status, v.exitCode, v.durationMs, v.output, v.commit, v.at);
}

interface VerdictRecord {
  gate: string;
  required: number;
  status: GateVerdict['status'];
  exit_code: number | null;
  duration_ms: number;
  output: string;
  commit_sha: string;
  at: number;
}

/** The verdicts of the lane's latest gate run (stale is left false: the caller knows the head). */
export function latestVerdicts(db: Db, laneId: number): GateVerdict[] {
  const rows = db
    .prepare(
      `SELECT gate, required, status, exit_code, duration_ms, output, commit_sha, at FROM gate_verdicts
       WHERE lane_id = ? AND run_id = (SELECT MAX(run_id) FROM gate_verdicts WHERE lane_id = ?) ORDER BY id`,
    )
    .all(laneId, laneId) as VerdictRecord[];
  return rows.map((r) => ({
    gate: r.gate,
    status: r.status,
    required: r.required === 1,
    durationMs: r.duration_ms,
    exitCode: r.exit_code,
    output: r.output,
    commit: r.commit_sha,
    stale: false,
    at: r.at,
  }));
}

export function insertDecision(db: Db, laneId: number, d: Decision): void {
  db.prepare(
    `INSERT INTO decisions (lane_id, action, mode, reason, override, by, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(laneId, d.action, d.mode ?? null, d.reason ?? null, d.override ? 1 : 0, d.by, d.at);
}

export function listDecisions(db: Db, laneId: number): Decision[] {
  const rows = db
    .prepare(
      `SELECT d.action, d.mode, d.reason, d.override, d.by, d.at, l.name FROM decisions d JOIN lanes l ON l.id = d.lane_id
       WHERE d.lane_id = ? ORDER BY d.id`,
    )
    .all(laneId) as {
    action: Decision['action'];
    mode: Decision['mode'] | null;
    reason: string | null;
    override: number;
    by: string;
    at: number;
    name: string;
  }[];
  return rows.map((r) => ({
    lane: r.name,
    action: r.action,
    mode: r.mode ?? undefined,
    reason: r.reason ?? undefined,
    override: r.override === 1,
    by: r.by,
    at: r.at,
  }));
}

export function upsertClosure(db: Db, laneId: number, outcome: string, data: unknown): void {
  db.prepare(
    `INSERT INTO closures (lane_id, outcome, at, data) VALUES (?, ?, ?, ?)
     ON CONFLICT (lane_id) DO UPDATE SET outcome = excluded.outcome, at = excluded.at, data = excluded.data`,
  ).run(laneId, outcome, Date.now(), JSON.stringify(data));
}

export function getClosure(db: Db, laneId: number): { outcome: string; at: number; data: unknown } | undefined {
  const row = db.prepare(`SELECT outcome, at, data FROM closures WHERE lane_id = ?`).get(laneId) as
    { outcome: string; at: number; data: string } | undefined;
  return row ? { outcome: row.outcome, at: row.at, data: JSON.parse(row.data) } : undefined;
}

// Learnings that came from a lane belong to the closure record and `show`: see ./learnings.ts.
export { learningsOfLane } from './learnings.js';

/** Every gate verdict of a lane, of every run, in the order they were given. */
export function listVerdicts(db: Db, laneId: number): VerdictRow[] {
  return (
    db
      .prepare(
        `SELECT run_id AS runId, gate, required, status, exit_code AS exitCode, duration_ms AS durationMs,
                commit_sha AS "commit", at FROM gate_verdicts WHERE lane_id = ? ORDER BY id`,
      )
      .all(laneId) as (Omit<VerdictRow, 'required'> & { required: number })[]
  ).map((v) => ({ ...v, runId: String(v.runId), required: v.required === 1 }));
}

/** The latest closures (newest first, at most `limit`), each with its lane's task and why it ended. */
export function recentClosures(db: Db, opts: { excludeLaneId?: number; limit?: number } = {}): ClosureHistoryRow[] {
  return db
    .prepare(
      `SELECT l.id, l.name, l.task, c.outcome, c.at,
         (SELECT d.reason FROM decisions d WHERE d.lane_id = l.id AND d.reason IS NOT NULL ORDER BY d.id DESC LIMIT 1) AS reason,
         (SELECT e.cause FROM lane_events e WHERE e.lane_id = l.id AND e.kind = 'state' ORDER BY e.id DESC LIMIT 1) AS cause
       FROM closures c JOIN lanes l ON l.id = c.lane_id
       WHERE l.id != ? ORDER BY c.at DESC LIMIT ?`,
    )
    .all(opts.excludeLaneId ?? -1, opts.limit ?? 100) as ClosureHistoryRow[];
}
