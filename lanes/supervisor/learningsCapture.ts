/**
 * Learnings out of a lane's work: the lines an agent marks as learnings, the operator's rejection
 * reasons (constraints), the failures of required gates (findings), the `.agents/learnings/`
 * files harvested at closure, and crediting what a lane was briefed with by how it ended.
 * (Learnings into a lane — its context packet — are launch.ts's brief.)
 */
import * as learningsDb from '../learnings/store.js';
import { harvestWorktree } from '../learnings/transfer.js';
import { summarize } from './review.js';
import type { GateVerdict } from './api.js';
import type { LaneRecord, SupervisorCore } from './context.js';

/** Stores a learning of this lane (or of none), merged into a near-duplicate when there is one. */
export function captureLearning(
  core: SupervisorCore,
  lane: LaneRecord | null,
  text: string,
  category: string,
  source: string,
): void {
  learningsDb.captureLearning(core.db, {
    text,
    category,
    source,
    laneId: lane?.row.id ?? null,
    sessionId: core.sessionId,
  });
}

/** A line of the agent's output that matches its profile's learning pattern becomes a learning. */
export function captureFromLine(core: SupervisorCore, lane: LaneRecord, line: string, learning: RegExp | null): void {
  const m = learning?.exec(line);
  if (!m) return;
  const text = (m[1] ?? line).trim();
  if (!text) return;
  captureLearning(core, lane, text, 'agent', 'agent-output');
  core.emit({ type: 'learning', text, lane: lane.row.name });
}

/** A rejection's reason is a constraint for later lanes; what this lane was briefed with did not help it. */
export function captureRejection(core: SupervisorCore, lane: LaneRecord, reason: string): void {
  captureLearning(core, lane, reason, 'constraint', 'rejection');
  learningsDb.creditLane(core.db, lane.row.id, learningsDb.REJECT_UTILITY);
}

/** Every required gate that did not pass leaves a finding with the gist of its output. */
export function captureGateFailures(core: SupervisorCore, lane: LaneRecord, verdicts: readonly GateVerdict[]): void {
  for (const v of verdicts) {
    if (v.status !== 'PASS' && v.required) {
      captureLearning(core, lane, `gate ${v.gate} ${v.status}: ${summarize(v.output)}`, 'finding', 'gate-failure');
    }
  }
}

/**
 * Closure: harvest the `.agents/learnings/*.md` files the agent left in its worktree (before
 * the worktree goes), and credit what the lane was briefed with when it was merged. A bad file
 * is reported by name and skipped; nothing here fails a closure.
 */
export function learningsAtClosure(core: SupervisorCore, lane: LaneRecord, merged: boolean): void {
  try {
    const res = harvestWorktree(core.db, lane.row.worktree, { laneId: lane.row.id, sessionId: core.sessionId });
    if (res.captured + res.merged > 0)
      core.logEvent(lane, 'learnings-harvest', `${res.captured} new, ${res.merged} merged from .agents/learnings`);
    for (const e of res.errors) {
      const message = `skipped malformed learning file ${e.file}: ${e.message}`;
      core.logEvent(lane, 'learnings-harvest-error', message, { file: e.file, error: e.message });
      core.emit({ type: 'error', lane: lane.row.name, message });
    }
    if (merged) learningsDb.creditLane(core.db, lane.row.id, learningsDb.MERGE_UTILITY);
  } catch (err) {
    core.emit({ type: 'error', lane: lane.row.name, message: `learnings at closure: ${(err as Error).message}` });
  }
}
