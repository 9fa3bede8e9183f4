/**
 * Merge recovery: what the next start (lanes/supervisor/recovery.ts) and `doctor --repair`
 * (src/commands/doctorMerge.ts) do with a merge intent a killed console left in the journal
 * (lanes/git/mergeIntent.ts). The base ref is the commit point:
 * - it did not move → the merge is rolled back: nothing to undo in git, the lane is back in
 *   awaiting-approval with its verdicts, the intent is dropped;
 * - it moved → the merge happened: the checkout is finished (lanes/git/mergeRepair.ts), the lane
 *   is marked merged with its closure, its worktree removed (its work archived), the intent
 *   dropped. A checkout that cannot be finished safely keeps the intent, so doctor keeps naming it.
 * An intent whose process is alive (and not a console known to have crashed) is a merge in flight
 * and is left alone.
 */
import { pidAlive } from '../process/procStat.js';
import { canTransition, transition } from '../lane/stateMachine.js';
import { diffStat } from '../git/diff.js';
import { laneCommits } from '../git/log.js';
import { removeLaneWorktree } from '../git/worktree.js';
import { clearMergeIntent, listMergeIntents, removeIntentFile, type MergeIntent } from '../git/mergeIntent.js';
import { finishCheckout, inspectCheckout, mergeReached, mtimeOf, type CheckoutState } from '../git/mergeRepair.js';
import { getLane, markLaneClosed, setLaneState, type LaneRow } from '../store/lanes.js';
import { appendEvent } from '../store/events.js';
import { getClosure, upsertClosure } from '../store/review.js';
import type { Db } from '../store/open.js';
import { buildClosure } from './closure.js';

export interface MergeRecoveryResult {
  /** what was found and done, a sentence each */
  notes: string[];
  /** lanes found merged (their merge had reached the base) */
  merged: string[];
  /** lanes whose merge had not reached the base: back in awaiting-approval */
  rolledBack: string[];
  /** what is still inconsistent (a checkout that could not be finished, an unreadable intent) */
  problems: string[];
}

/** The lock a killed merge's `git read-tree` left: its process is gone and the lock dates from the merge. */
const lockOfKilledMerge = (intent: MergeIntent) => (lock: string) => {
  const t = mtimeOf(lock);
  return t !== null && t >= intent.at - 2000 && t <= intent.at + 120_000;
};

function describe(state: CheckoutState): string {
  switch (state.kind) {
    case 'done':
      return 'the checkout matches the merge';
    case 'elsewhere':
      return state.detail;
    case 'behind':
      return `the checkout is behind: its index is the old commit, ${state.stale.length + state.gone.length} file(s) still old`;
    case 'blocked':
      return state.detail;
  }
}

async function closeMerged(
  db: Db,
  stateDir: string,
  lane: LaneRow,
  intent: MergeIntent,
  notes: string[],
): Promise<void> {
  const cause = `merge finished after the console died: ${intent.baseRef.replace(/^refs\/heads\//, '')} is at ${intent.next.slice(0, 12)}`;
  // Through the steps it would have taken: approved (in the merge queue), landing, merged.
  let to = lane.state;
  for (const type of ['approve', 'land', 'merged'] as const)
    if (canTransition(to, { type })) to = transition(to, { type });
  if (to !== lane.state) {
    appendEvent(db, {
      laneId: lane.id,
      kind: 'merge',
      cause: `merged into ${lane.base} as ${intent.next}`,
      data: { commit: intent.next, previous: intent.old, recovered: true },
    });
    setLaneState(db, lane.id, to, { cause });
  }
  if (lane.closedAt !== null && getClosure(db, lane.id)?.outcome === 'merged') return;
  const head = lane.headCommit ?? intent.next;
  const closure = buildClosure({
    db,
    laneId: lane.id,
    outcome: 'merged',
    diffStat: await diffStat(intent.repoRoot, intent.old, head).catch(() => []),
    commits: await laneCommits(intent.repoRoot, intent.old, head).catch(() => []),
  });
  upsertClosure(db, lane.id, 'merged', closure);
  try {
    const res = await removeLaneWorktree({
      repoRoot: intent.repoRoot,
      stateDir,
      lane: lane.name,
      worktreePath: lane.worktree,
      branch: lane.branch,
      base: lane.base,
    });
    if (res.archivedRef)
      appendEvent(db, { laneId: lane.id, kind: 'archive', cause: `work kept at ${res.archivedRef}` });
  } catch (err) {
    notes.push(`lane ${lane.name}: worktree not removed (${(err as Error).message}); \`ao-console gc\` removes it`);
  }
  markLaneClosed(db, lane.id);
}

function rollBack(db: Db, lane: LaneRow, intent: MergeIntent): boolean {
  if (!canTransition(lane.state, { type: 'merge-failed' })) return false;
  const reason = `the console died before the merge moved ${intent.baseRef.replace(/^refs\/heads\//, '')}; nothing was merged`;
  appendEvent(db, { laneId: lane.id, kind: 'merge-failed', cause: reason, data: { recovered: true } });
  setLaneState(db, lane.id, transition(lane.state, { type: 'merge-failed' }), { cause: reason });
  return true;
}

/**
 * Finishes or rolls back every merge intent whose process is gone. `apply` false only looks:
 * the result says what would be done (doctor without --repair). `db` null: the store is not
 * available; the git side is still finished and the lanes are left to the next start.
 */
export async function recoverMerges(opts: {
  db: Db | null;
  stateDir: string;
  apply: boolean;
  /** pids of consoles known dead (their sessions crashed): their intents count as left even if the pid was reused */
  deadPids?: ReadonlySet<number>;
}): Promise<MergeRecoveryResult> {
  const { db, apply } = opts;
  const result: MergeRecoveryResult = { notes: [], merged: [], rolledBack: [], problems: [] };
  for (const stored of listMergeIntents(opts.stateDir)) {
    const intent = stored.intent;
    if (!intent) {
      result.problems.push(
        `unreadable merge intent ${stored.file} (${stored.error})${apply ? '; it was removed' : ''}`,
      );
      if (apply) removeIntentFile(stored.file);
      continue;
    }
    if (!opts.deadPids?.has(intent.pid) && pidAlive(intent.pid)) continue; // a merge in flight
    const lane = db ? getLane(db, intent.laneId) : undefined;
    const base = intent.baseRef.replace(/^refs\/heads\//, '');
    const { reached } = await mergeReached(intent.repoRoot, intent);
    if (!reached) {
      result.rolledBack.push(intent.lane);
      result.notes.push(`lane ${intent.lane}: its merge had not moved ${base}; nothing was merged`);
      if (!apply) {
        result.problems.push(
          `lane ${intent.lane}: a merge into ${base} was cut short before the ref moved (nothing merged)`,
        );
        continue;
      }
      if (db && lane && rollBack(db, lane, intent)) result.notes.push(`lane ${intent.lane}: back in awaiting-approval`);
      if (db) clearMergeIntent(opts.stateDir, intent.laneId);
      continue;
    }
    result.merged.push(intent.lane);
    let state: CheckoutState = { kind: 'elsewhere', detail: 'no checkout had the base checked out' };
    if (intent.checkout) {
      const move = { checkout: intent.checkout, baseRef: intent.baseRef, old: intent.old, next: intent.next };
      if (apply) {
        const fin = await finishCheckout(move, { removeLock: lockOfKilledMerge(intent) });
        state = fin.state;
        if (fin.did) result.notes.push(`lane ${intent.lane}: ${fin.did}`);
      } else {
        state = await inspectCheckout(move);
      }
    }
    const settled = state.kind === 'done' || state.kind === 'elsewhere';
    result.notes.push(
      `lane ${intent.lane}: its merge reached ${base} (${intent.next.slice(0, 12)}); ${describe(state)}`,
    );
    if (!settled) result.problems.push(`lane ${intent.lane}: ${describe(state)}`);
    else if (!apply) result.problems.push(`lane ${intent.lane}: its merge into ${base} is not recorded as finished`);
    if (!apply || !db) continue;
    if (lane) await closeMerged(db, opts.stateDir, lane, intent, result.notes);
    if (settled) clearMergeIntent(opts.stateDir, intent.laneId);
  }
  return result;
}
