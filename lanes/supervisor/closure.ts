/**
 * Closure: the record that ends a lane (buildClosure) and closing a lane (closeLane): its
 * recording flushed, learnings harvested, the record stored and, when it is over for good, its
 * agent stopped and its worktree removed with its work kept under an archive ref.
 */
import type { DiffStatEntry } from './api.js';
import { latestVerdicts, listDecisions, learningsOfLane, upsertClosure } from '../store/review.js';
import { getLane, markLaneClosed } from '../store/lanes.js';
import { listEvents } from '../store/events.js';
import { getLaneUsage } from '../store/usage.js';
import type { Db } from '../store/open.js';
import type { LaneRecord, SupervisorCore } from './context.js';
import { learningsAtClosure } from './learningsCapture.js';

/** How a lane ended (the closures table's outcome). */
export type ClosureOutcome = 'merged' | 'discarded' | 'failed' | 'interrupted';

export interface ClosureInput {
  db: Db;
  laneId: number;
  outcome: string;
  diffStat: DiffStatEntry[];
  /** the lane's commits on top of its base, oldest first */
  commits?: { sha: string; subject: string }[];
}

/**
 * The record that ends a lane: outcome, verdicts, diff stat, time spent in each state (from the
 * lane's state-change events), rework count, output bytes, the decision trail and learnings.
 */
export function buildClosure(input: ClosureInput) {
  const { db, laneId } = input;
  const lane = getLane(db, laneId);
  if (!lane) throw new Error(`no lane with id ${laneId}`);
  const events = listEvents(db, laneId);
  const now = Date.now();
  const timeInState: Record<string, number> = {};
  const changes = events.filter((e) => e.toState);
  changes.forEach((e, i) => {
    const until = changes[i + 1]?.at ?? now;
    timeInState[e.toState!] = (timeInState[e.toState!] ?? 0) + (until - e.at);
  });
  const commits = events.filter((e) => e.kind === 'handoff').length;
  return {
    lane: lane.name,
    outcome: input.outcome,
    head: lane.headCommit,
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
    totalMs: now - lane.createdAt,
    reworkCount: lane.reworkCount,
    outputBytes: lane.outputBytes,
    // tokens and cost from the agent's own records (null: none read; lanes/usage/)
    usage: closureUsage(db, laneId),
    decisions: listDecisions(db, laneId),
    learnings: learningsOfLane(db, laneId),
  };
}

/** The lane's usage for its closure record: the totals, as `show --json` prints them. */
function closureUsage(db: Db, laneId: number) {
  const u = getLaneUsage(db, laneId);
  if (!u) return null;
  const { inputTokens, cachedInputTokens, outputTokens, costUsd, priced } = u;
  return { inputTokens, cachedInputTokens, outputTokens, costUsd, priced };
}

/**
 * Closes a lane with `outcome`. `final` false: the record is written but the lane stays open (a
 * failed, stopped or interrupted lane may be resumed; a later closure then replaces this one).
 */
export async function closeLane(
  core: SupervisorCore,
  lane: LaneRecord,
  outcome: ClosureOutcome,
  final = true,
): Promise<void> {
  // The recording first, so the closure's figures count all of it. A recorder that failed or
  // stalled has said so (its onError, a stall event): the lane's outcome is written regardless.
  await core.world.recorder.flush().catch(() => {});
  // the agent's latest records, so the closure's usage is its last word
  try {
    core.usage?.update(lane.row.id);
  } catch (err) {
    core.reportError(`usage of lane ${lane.row.name}: ${(err as Error).message}`, lane.row.name);
  }
  learningsAtClosure(core, lane, outcome === 'merged');
  const head = lane.row.headCommit;
  // After a merge the base contains the lane: its work is measured from where the base was.
  const from = lane.mergedFrom ?? lane.row.base;
  const closure = buildClosure({
    db: core.db,
    laneId: lane.row.id,
    outcome,
    diffStat: head ? await core.git.diffStat(core.repoRoot, from, head).catch(() => []) : [],
    commits: head ? await core.git.laneCommits(core.repoRoot, from, head) : [],
  });
  upsertClosure(core.db, lane.row.id, outcome, closure);
  if (!final) return;
  if (outcome === 'merged' || outcome === 'discarded') {
    await core.stopRuntime(lane);
    // An agent may write its last figures as it exits (Claude Code's cost): the record gets them.
    try {
      core.usage?.update(lane.row.id);
      const usage = closureUsage(core.db, lane.row.id);
      if (JSON.stringify(usage) !== JSON.stringify(closure.usage))
        upsertClosure(core.db, lane.row.id, outcome, { ...closure, usage });
    } catch (err) {
      core.reportError(`usage of lane ${lane.row.name}: ${(err as Error).message}`, lane.row.name);
    }
    try {
      const res = await core.git.removeLaneWorktree({
        repoRoot: core.repoRoot,
        stateDir: core.opts.stateDir,
        lane: lane.row.name,
        worktreePath: lane.row.worktree,
        branch: lane.row.branch,
        base: lane.row.base,
      });
      if (res.archivedRef) core.logEvent(lane, 'archive', `work kept at ${res.archivedRef}`, { ref: res.archivedRef });
    } catch (err) {
      core.emit({ type: 'error', lane: lane.row.name, message: `worktree removal: ${(err as Error).message}` });
    }
  }
  markLaneClosed(core.db, lane.row.id);
  lane.row = getLane(core.db, lane.row.id) ?? lane.row;
}
