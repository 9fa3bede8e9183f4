import type Database from 'better-sqlite3';
import type { DiffStatEntry } from './api.js';
import { latestVerdicts, listDecisions, learningsOfLane } from '../store/review.js';

export interface ClosureInput {
  db: Database.Database;
  laneId: number;
  outcome: string;
  diffStat: DiffStatEntry[];
  /** the lane's commits on top of its base, oldest first */
  commits?: { sha: string; subject: string }[];
}

interface EventRow {
  at: number;
  kind: string;
  from_state: string | null;
  to_state: string | null;
  cause: string | null;
}

/**
 * The record that ends a lane: outcome, verdicts, diff stat, time spent in each state (from the
 * lane's state-change events), rework count, output bytes, the decision trail and learnings.
 */
export function buildClosure(input: ClosureInput) {
  const { db, laneId } = input;
  const lane = db
    .prepare(`SELECT name, head_commit, base, rework_count, output_bytes, created_at FROM lanes WHERE id = ?`)
    .get(laneId) as {
    name: string;
    head_commit: string | null;
    base: string;
    rework_count: number;
    output_bytes: number;
    created_at: number;
  };
  const events = db
    .prepare(`SELECT at, kind, from_state, to_state, cause FROM lane_events WHERE lane_id = ? ORDER BY id`)
    .all(laneId) as EventRow[];
  const now = Date.now();
  const timeInState: Record<string, number> = {};
  const changes = events.filter((e) => e.to_state);
  changes.forEach((e, i) => {
    const until = changes[i + 1]?.at ?? now;
    timeInState[e.to_state!] = (timeInState[e.to_state!] ?? 0) + (until - e.at);
  });
  const commits = events.filter((e) => e.kind === 'handoff').length;
  return {
    lane: lane.name,
    outcome: input.outcome,
    head: lane.head_commit,
    base: lane.base,
    verdicts: latestVerdicts(db, laneId).map((v) => ({
      gate: v.gate,
      status: v.status,
      required: v.required,
      commit: v.commit,
    })),
    diffStat: input.diffStat,
    commits: input.commits ?? [],
    handoffs: commits,
    timeInStateMs: timeInState,
    totalMs: now - lane.created_at,
    reworkCount: lane.rework_count,
    outputBytes: lane.output_bytes,
    decisions: listDecisions(db, laneId),
    learnings: learningsOfLane(db, laneId),
  };
}
