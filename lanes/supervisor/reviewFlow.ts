/**
 * The review flow: handoff (commit what is pending, record the head and the diff, run the gates)
 * → awaiting approval → approve (merge; an empty lane is refused: nothing to merge) or reject (rework: the
 * reason goes back to the agent; discard: the lane closes with its work archived), and re-running
 * the gates of a lane in review. Every step goes through the state machine (context.ts `move`).
 */
import { randomBytes } from 'node:crypto';
import { ActionError, type GateVerdict, type RejectMode, type ReviewInfo } from './api.js';
import { worktreeExists, worktreeGone } from '../gates/runGates.js';
import { buildAgentEnv } from '../process/agentEnv.js';
import * as lanesDb from '../store/lanes.js';
import * as reviewDb from '../store/review.js';
import * as eventsDb from '../store/events.js';
import { firstLine, requiredPassed } from './review.js';
import type { LaneRecord, SupervisorCore } from './context.js';
import { closeLane } from './closure.js';
import { spawn, typeLine } from './launch.js';
import { captureGateFailures, captureRejection } from './learningsCapture.js';
import { setupAddedPaths } from './laneSetup.js';
import { checkTrust, decide } from '../trust/trust.js';
import { isBuiltinGate } from '../config/repoConfig.js';
import { listComments, reworkFeedback } from './comments.js';

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
    mergeFailure: lastMergeFailure(core, lane),
    comments: await listComments(core, lane, head),
  };
}

/** The latest failed merge of the lane since its latest handoff (null when none). */
function lastMergeFailure(core: SupervisorCore, lane: LaneRecord): { at: number; reason: string } | null {
  const failed = eventsDb.listEvents(core.db, lane.row.id, { kind: 'merge-failed' }).at(-1);
  if (!failed) return null;
  const handoff = eventsDb.listEvents(core.db, lane.row.id, { kind: 'handoff' }).at(-1);
  return handoff && handoff.id > failed.id ? null : { at: failed.at, reason: failed.cause ?? '' };
}

/** The lane hands its work over for review (the caller serialises it with the lane's other actions). */
export async function handoff(core: SupervisorCore, lane: LaneRecord, cause: string): Promise<void> {
  core.move(lane, { type: 'handoff' }, cause);
  await gate(core, lane);
}

/**
 * Handoff work: commit what is pending, record head and diff, run gates, await approval. A step
 * that fails (the worktree deleted behind the console's back, a commit git refuses) fails the
 * lane with the reason: a lane never stays in gating. Gates cancelled by the operator (stop,
 * remove) leave the lane to the action that cancelled them.
 */
export async function gate(core: SupervisorCore, lane: LaneRecord): Promise<void> {
  const { row } = lane;
  let head: string;
  let empty: boolean;
  try {
    if (!(await worktreeExists(row.worktree))) throw new Error(worktreeGone(row.worktree));
    const exclude = setupAddedPaths(core, lane); // a copied .env is never committed (laneSetup.ts)
    await core.git.commitPendingChanges(row.worktree, {
      message: `${firstLine(row.task)}\n\nCommitted by ao-console at handoff of lane ${row.name}.`,
      author: core.config.commitAuthor,
      ...(exclude.length ? { exclude } : {}),
    });
    head = await core.git.headCommit(row.worktree);
    empty = await core.git.isEmptyAgainst(core.repoRoot, row.base, head);
    const stat = await core.git.diffStat(core.repoRoot, row.base, head);
    lane.row = lanesDb.updateLane(core.db, row.id, { headCommit: head, empty });
    core.logEvent(lane, 'handoff', empty ? 'no change against base' : `${stat.length} files changed`, {
      head,
      empty,
      diffStat: stat,
    });
  } catch (err) {
    return failHandoff(core, lane, (err as Error).message);
  }
  if (empty) {
    core.move(lane, { type: 'gates-done' }, 'empty: no change against base, gates skipped');
    return;
  }
  const runId = Date.now();
  lane.verdicts = [];
  const run = core.gateRun(lane);
  // Command gates run only when the operator allowed the repo's commands (lanes/trust/).
  const trust = decide(checkTrust(core.repoRoot, core.config, core.env));
  if (!trust.allowed && core.config.gates.some((g) => !isBuiltinGate(g)))
    core.emit({ type: 'error', lane: row.name, message: `command gates not run: ${trust.reason}` });
  let verdicts: GateVerdict[];
  try {
    verdicts = await core.world.runGates({
      trust,
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
      signal: run.signal,
      failFast: core.config.gateMode?.failFast,
      parallel: core.config.gateMode?.parallel,
      onVerdict: (v) => {
        reviewDb.insertVerdict(core.db, lane.row.id, runId, v);
        lane.verdicts = [...(lane.verdicts ?? []), v];
        core.emit({ type: 'gate-verdict', lane: row.name, verdict: v });
      },
    });
  } catch (err) {
    return failHandoff(core, lane, `the gates could not run: ${(err as Error).message}`);
  } finally {
    run.end();
  }
  const cancelledBy = run.cancelledBy();
  if (cancelledBy !== null) {
    core.logEvent(lane, 'gates-cancelled', cancelledBy);
    return;
  }
  // Gates on a worktree that went away while they ran say so (ERROR); the lane cannot be merged as it is.
  if (!(await worktreeExists(row.worktree))) return failHandoff(core, lane, worktreeGone(row.worktree));
  captureGateFailures(core, lane, verdicts);
  const failed = verdicts.filter((v) => v.required && v.status !== 'PASS').map((v) => v.gate);
  core.move(
    lane,
    { type: 'gates-done' },
    failed.length ? `gates failed: ${failed.join(', ')}` : 'all required gates passed',
  );
}

/** A handoff step failed: the lane fails with the reason (closure written, resumable) and the caller hears why. */
async function failHandoff(core: SupervisorCore, lane: LaneRecord, reason: string): Promise<never> {
  core.move(lane, { type: 'fail', reason }, `handoff failed: ${reason}`);
  await closeLane(core, lane, 'failed', false);
  throw new ActionError(`handoff of lane "${lane.row.name}" failed: ${reason}`, 'handoff-failed');
}

/** Runs the gates again on the branch as it is now (e.g. after a commit that made the verdicts stale). */
export async function rerunGates(core: SupervisorCore, lane: LaneRecord): Promise<void> {
  core.assertAllowed(lane, 'rerun-gates');
  core.move(lane, { type: 'rerun-gates' }, 're-run gates');
  await gate(core, lane);
}

/** The refusal of an approve with nothing to merge: the lane has no change against its base. */
function nothingToMerge(lane: LaneRecord): ActionError {
  return new ActionError(
    `nothing to merge: lane ${lane.row.name} has no commits beyond ${lane.row.base}; discard it instead`,
    'nothing-to-merge',
  );
}

/**
 * Approves the lane: it goes into the merge queue (./mergeQueue.ts), which validates it on the
 * tree that would land and merges it in its turn (journaled, crash-safe: lanes/git/merge.ts).
 * Required gates that failed (or are stale against the branch as it is now) need `override`. A
 * lane with no change against its base is refused (nothing-to-merge: discard it instead).
 */
export async function approve(
  core: SupervisorCore,
  lane: LaneRecord,
  opts: { override?: boolean; by?: string },
): Promise<void> {
  const name = lane.row.name;
  core.assertAllowed(lane, 'approve');
  // What would be merged is the branch as it is now, so emptiness and verdicts are asked of it.
  const tip = await core.branchTip(lane);
  const empty = tip ? await core.git.isEmptyAgainst(core.repoRoot, lane.row.base, tip) : lane.row.empty;
  if (empty) throw nothingToMerge(lane);
  const verdicts = core.verdictsOf(lane, tip);
  const passed = requiredPassed(verdicts);
  if (!passed && !opts.override) {
    throw new ActionError(
      `lane "${name}": required gates failed or are stale; approve with override to merge anyway`,
      'needs-override',
    );
  }
  core.decide(lane, { action: 'approve', override: !passed && !!opts.override, by: opts.by });
  // Into the merge queue (./mergeQueue.ts): it lands once validated on base + lane, in its turn.
  core.queue.enqueue(lane, { head: tip ?? lane.row.headCommit ?? '', override: !passed && !!opts.override });
  core.move(lane, { type: 'approve' }, 'approved: queued to merge');
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
  // the reason, with the lane's draft review comments (sent in this round: ./comments.ts)
  const feedback = reworkFeedback(core, lane, reason, lane.row.reworkCount);
  core.move(lane, { type: 'rework' }, `rework: ${reason}`);
  if (lane.runtime?.alive) {
    typeLine(lane, feedback);
  } else {
    spawn(core, lane, 'resume', feedback);
  }
}
