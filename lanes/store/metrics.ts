/**
 * The counts behind the metrics panel (lanes/learnings/metrics.ts turns them into rates and a
 * median): gate runs per profile, decisions, waits from handoff to decision, rework.
 */
import type { Db } from './open.js';

/** Gate runs per profile (a run is one lane's verdicts of one run_id) and how many passed every required gate. */
export function gateRunsByProfile(db: Db): { profile: string; runs: number; passed: number }[] {
  return db
    .prepare(
      `SELECT l.profile AS profile, COUNT(*) AS runs, SUM(r.ok) AS passed FROM (
         SELECT lane_id, run_id, MIN(CASE WHEN required = 0 OR status = 'PASS' THEN 1 ELSE 0 END) AS ok
         FROM gate_verdicts GROUP BY lane_id, run_id
       ) r JOIN lanes l ON l.id = r.lane_id GROUP BY l.profile ORDER BY l.profile`,
    )
    .all() as { profile: string; runs: number; passed: number }[];
}

/** How many decisions of each action ('approve', 'reject') were taken. */
export function decisionCounts(db: Db): { action: string; n: number }[] {
  return db.prepare(`SELECT action, COUNT(*) AS n FROM decisions GROUP BY action`).all() as {
    action: string;
    n: number;
  }[];
}

/** For every decision, ms since its lane's latest handoff before it (null when there was none). */
export function decisionWaits(db: Db): (number | null)[] {
  return db
    .prepare(
      `SELECT d.at - (SELECT MAX(e.at) FROM lane_events e WHERE e.lane_id = d.lane_id AND e.kind = 'handoff' AND e.at <= d.at) AS wait
       FROM decisions d`,
    )
    .pluck()
    .all() as (number | null)[];
}

/** Reworks in total, and how many lanes were reworked at least once. */
export function reworkTotals(db: Db): { total: number; lanes: number } {
  return db
    .prepare(
      `SELECT COALESCE(SUM(rework_count), 0) AS total, COUNT(*) FILTER (WHERE rework_count > 0) AS lanes FROM lanes`,
    )
    .get() as { total: number; lanes: number };
}
