/**
 * The review flow: handoff (commit what is pending, record the head and the diff, run the gates)
 * → awaiting approval → approve (merge, or close an empty lane as merged) or reject (rework: the
 * reason goes back to the agent; discard: the lane closes with its work archived), and re-running
 * the gates of a lane in review. Every step goes through the state machine (context.ts `move`).
 */
import { randomBytes } from 'node:crypto';
import { ActionError, type RejectMode, type ReviewInfo } from './api.js';
import { buildAgentEnv } from '../process/agentEnv.js';
import * as lanesDb from '../store/lanes.js';
import * as reviewDb from '../store/review.js';
import { firstLine, requiredPassed } from './review.js';
import type { LaneRecord, SupervisorCore } from './context.js';
import { closeLane } from './closure.js';
import { spawn } from './launch.js';
import { captureGateFailures, captureRejection } from './learningsCapture.js';

/** What the operator reviews: the branch as it is now, its diff against the base and the verdicts. */
export async function reviewOf(core: SupervisorCore, lane: LaneRecord): Promise<ReviewInfo> {
  // The branch as it is now: a commit after the handoff makes the verdicts stale.
  const head = (await core.branchTip(lane)) ?? lane.row.headCommit;
  const verdicts = core.verdictsOf(lane, head);
  const stat = head ? await core.git.diffStat(core.repoRoot, lane.row.base, head) : [];
  const diff = head ? await core.git.fullDiff(core.repoRoot, lane.row.base, head) : '';
  return {
    lane: lane.row.name,
    head,
    base: lane.row.base,
    empty: lane.row.empty,
    verdicts,
    diffStat: stat,
    diff,
    requiredPassed: requiredPassed(verdicts),
  };
}

/** The lane hands its work over for review (the caller serialises it with the lane's other actions). */
export async function handoff(core: SupervisorCore, lane: LaneRecord, cause: string): Promise<void> {
  core.move(lane, { type: 'handoff' }, cause);
  await gate(core, lane);
}

/** Handoff work: commit what is pending, record head and diff, run gates, await approval. */
export async function gate(core: SupervisorCore, lane: LaneRecord): Promise<void> {
  const { row } = lane;
  await core.git.commitPendingChanges(row.worktree, {
    message: `${firstLine(row.task)}\n\nCommitted by ao-console at handoff of lane ${row.name}.`,
    author: core.config.commitAuthor,
  });
  const head = await core.git.headCommit(row.worktree);
  const empty = await core.git.isEmptyAgainst(core.repoRoot, row.base, head);
  const stat = await core.git.diffStat(core.repoRoot, row.base, head);
  lane.row = lanesDb.updateLane(core.db, row.id, { headCommit: head, empty });
  core.logEvent(lane, 'handoff', empty ? 'no change against base' : `${stat.length} files changed`, {
    head,
    empty,
    diffStat: stat,
  });
  if (empty) {
    core.move(lane, { type: 'gates-done' }, 'empty: no change against base, gates skipped');
    return;
  }
  const runId = Date.now();
  lane.verdicts = [];
  const verdicts = await core.world.runGates({
    gates: core.config.gates,
    worktree: row.worktree,
    repoRoot: core.repoRoot,
    base: row.base,
    head,
    env: buildAgentEnv({
      source: core.env,
      passthrough: lane.profile.envPassthrough,
      extra: {},
      lane: row.name,
      session: core.sessionId,
      stateDir: core.opts.stateDir,
      procToken: lane.row.procToken ?? randomBytes(12).toString('hex'),
    }),
    signal: core.aborter.signal,
    failFast: core.config.gateMode?.failFast,
    parallel: core.config.gateMode?.parallel,
    onVerdict: (v) => {
      reviewDb.insertVerdict(core.db, lane.row.id, runId, v);
      lane.verdicts = [...(lane.verdicts ?? []), v];
      core.emit({ type: 'gate-verdict', lane: row.name, verdict: v });
    },
  });
  captureGateFailures(core, lane, verdicts);
  const failed = verdicts.filter((v) => v.required && v.status !== 'PASS').map((v) => v.gate);
  core.move(
    lane,
    { type: 'gates-done' },
    failed.length ? `gates failed: ${failed.join(', ')}` : 'all required gates passed',
  );
}

/** Runs the gates again on the branch as it is now (e.g. after a commit that made the verdicts stale). */
export async function rerunGates(core: SupervisorCore, lane: LaneRecord): Promise<void> {
  core.assertAllowed(lane, 'rerun-gates');
  core.move(lane, { type: 'rerun-gates' }, 're-run gates');
  await gate(core, lane);
}

/**
 * Merges the lane into its base. Required gates that failed (or are stale against the branch as it
 * is now) need `override`. An empty lane closes as merged without a merge; a failed merge returns
 * the lane to awaiting approval and throws why.
 */
export async function approve(
  core: SupervisorCore,
  lane: LaneRecord,
  opts: { override?: boolean; by?: string },
): Promise<void> {
  const name = lane.row.name;
  core.assertAllowed(lane, 'approve');
  // What would be merged is the branch as it is now, so verdicts are checked against it.
  const verdicts = core.verdictsOf(lane, await core.branchTip(lane));
  const passed = requiredPassed(verdicts);
  if (!passed && !opts.override) {
    throw new ActionError(
      `lane "${name}": required gates failed or are stale; approve with override to merge anyway`,
      'needs-override',
    );
  }
  core.decide(lane, { action: 'approve', override: !passed && !!opts.override, by: opts.by });
  if (lane.row.empty) {
    // Nothing to merge: the lane closes as merged without an empty commit.
    core.move(lane, { type: 'approve' }, 'approved (empty)');
    core.move(lane, { type: 'merged' }, 'nothing to merge');
    await closeLane(core, lane, 'merged');
    return;
  }
  core.move(lane, { type: 'approve' }, 'approved');
  try {
    const result = await core.git.mergeLane({
      repoRoot: core.repoRoot,
      base: lane.row.base,
      branch: lane.row.branch,
      strategy: core.config.mergeStrategy,
      message: `Merge lane ${name}: ${firstLine(lane.row.task)}`,
      author: core.config.commitAuthor,
    });
    core.logEvent(lane, 'merge', `merged into ${lane.row.base} as ${result.commit}`, {
      commit: result.commit,
      previous: result.previous,
    });
    lane.mergedFrom = result.previous;
    core.move(lane, { type: 'merged' }, `merged as ${result.commit.slice(0, 12)}`);
    await closeLane(core, lane, 'merged');
  } catch (err) {
    core.move(lane, { type: 'merge-failed' }, (err as Error).message);
    throw new ActionError(`merge of lane "${name}" failed: ${(err as Error).message}`, 'conflict');
  }
}

/**
 * Rejects the lane with a reason (a constraint for later lanes). `rework`: the reason goes back to
 * the agent — typed into a live one, or as the task of a resumed one. `discard`: the agent is
 * stopped and the lane closes, its work kept under an archive ref; a failed, stopped or
 * interrupted lane can be discarded (abandoned) too.
 */
export async function reject(
  core: SupervisorCore,
  lane: LaneRecord,
  opts: { reason: string; mode: RejectMode; by?: string },
): Promise<void> {
  const { reason, mode } = opts;
  core.assertAllowed(lane, mode);
  core.decide(lane, { action: 'reject', mode, reason, override: false, by: opts.by });
  captureRejection(core, lane, reason);
  if (mode === 'discard') {
    await core.stopRuntime(lane);
    core.move(lane, { type: 'discard' }, `rejected: ${reason}`);
    await closeLane(core, lane, 'discarded');
    return;
  }
  lane.row = lanesDb.updateLane(core.db, lane.row.id, { reworkCount: lane.row.reworkCount + 1 });
  const feedback = `The operator rejected your work: ${reason}. Please rework it.`;
  core.move(lane, { type: 'rework' }, `rework: ${reason}`);
  if (lane.runtime?.alive) {
    lane.runtime.write(feedback.replace(/[\r\n]+/g, ' ') + '\r');
  } else {
    spawn(core, lane, 'resume', feedback);
  }
}
