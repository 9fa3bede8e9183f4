import type Database from 'better-sqlite3';
import type { Decision, GateVerdict } from '../supervisor/api.js';
import { captureLearning, type LearningCandidate } from '../learnings/store.js';

/** Gate verdicts, decisions, closures (and, re-exported, learning capture): what review and closure write. */

export function insertVerdict(db: Database.Database, laneId: number, runId: number, v: GateVerdict): void {
  db.prepare(
    `INSERT INTO gate_verdicts (lane_id, run_id, gate, required, status, exit_code, duration_ms, output, commit_sha, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(laneId, runId, v.gate, v.required ? 1 : 0, v.status, v.exitCode, v.durationMs, v.output, v.commit, v.at);
}

interface VerdictRow {
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
export function latestVerdicts(db: Database.Database, laneId: number): GateVerdict[] {
  const rows = db
    .prepare(
      `SELECT gate, required, status, exit_code, duration_ms, output, commit_sha, at FROM gate_verdicts
       WHERE lane_id = ? AND run_id = (SELECT MAX(run_id) FROM gate_verdicts WHERE lane_id = ?) ORDER BY id`,
    )
    .all(laneId, laneId) as VerdictRow[];
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

export function insertDecision(db: Database.Database, laneId: number, d: Decision): void {
  db.prepare(
    `INSERT INTO decisions (lane_id, action, mode, reason, override, by, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(laneId, d.action, d.mode ?? null, d.reason ?? null, d.override ? 1 : 0, d.by, d.at);
}

export function listDecisions(db: Database.Database, laneId: number): Decision[] {
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

export function upsertClosure(db: Database.Database, laneId: number, outcome: string, data: unknown): void {
  db.prepare(
    `INSERT INTO closures (lane_id, outcome, at, data) VALUES (?, ?, ?, ?)
     ON CONFLICT (lane_id) DO UPDATE SET outcome = excluded.outcome, at = excluded.at, data = excluded.data`,
  ).run(laneId, outcome, Date.now(), JSON.stringify(data));
}

export function getClosure(
  db: Database.Database,
  laneId: number,
): { outcome: string; at: number; data: unknown } | undefined {
  const row = db.prepare(`SELECT outcome, at, data FROM closures WHERE lane_id = ?`).get(laneId) as
    { outcome: string; at: number; data: string } | undefined;
  return row ? { outcome: row.outcome, at: row.at, data: JSON.parse(row.data) } : undefined;
}

// Learnings moved to src/learnings/ (capture, dedup, ranking, context packets); these names
// stay importable from here for the closure record, `show` and older callers.
export { normalizeLearning } from '../learnings/text.js';
export { learningsOfLane, type LearningCandidate } from '../learnings/store.js';

/** Stores a learning unless a near-duplicate exists (then it only refreshes that one). */
export function addLearningCandidate(db: Database.Database, c: LearningCandidate): void {
  captureLearning(db, c);
}
