/**
 * The metrics panel's numbers, from the store: gate pass rate per profile, approvals against
 * rejections, median time from handoff to decision, rework.
 */
import type Database from 'better-sqlite3';
import type { ConsoleMetrics } from '../supervisor/api.js';

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function computeMetrics(db: Database.Database): ConsoleMetrics {
  const runs = db
    .prepare(
      `SELECT l.profile AS profile, COUNT(*) AS runs, SUM(r.ok) AS passed FROM (
         SELECT lane_id, run_id, MIN(CASE WHEN required = 0 OR status = 'PASS' THEN 1 ELSE 0 END) AS ok
         FROM gate_verdicts GROUP BY lane_id, run_id
       ) r JOIN lanes l ON l.id = r.lane_id GROUP BY l.profile ORDER BY l.profile`,
    )
    .all() as { profile: string; runs: number; passed: number }[];
  const decisions = db.prepare(`SELECT action, COUNT(*) AS n FROM decisions GROUP BY action`).all() as {
    action: string;
    n: number;
  }[];
  const waits = db
    .prepare(
      `SELECT d.at - (SELECT MAX(e.at) FROM lane_events e WHERE e.lane_id = d.lane_id AND e.kind = 'handoff' AND e.at <= d.at) AS wait
       FROM decisions d`,
    )
    .pluck()
    .all() as (number | null)[];
  const rework = db
    .prepare(
      `SELECT COALESCE(SUM(rework_count), 0) AS total, COUNT(*) FILTER (WHERE rework_count > 0) AS lanes FROM lanes`,
    )
    .get() as {
    total: number;
    lanes: number;
  };
  return {
    gates: runs.map((r) => ({
      profile: r.profile,
      runs: r.runs,
      passed: r.passed,
      passRate: r.runs ? r.passed / r.runs : null,
    })),
    approvals: decisions.find((d) => d.action === 'approve')?.n ?? 0,
    rejections: decisions.find((d) => d.action === 'reject')?.n ?? 0,
    medianDecisionMs: median(waits.filter((w): w is number => w !== null && w >= 0)),
    reworkCount: rework.total,
    lanesReworked: rework.lanes,
  };
}
