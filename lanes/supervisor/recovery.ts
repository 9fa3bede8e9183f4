import { pidAlive } from '../process/procStat.js';
import type Database from 'better-sqlite3';
import { reapByToken } from '../process/reaper.js';
import { pruneWorktrees } from '../git/worktree.js';
import { integrityCheck } from '../store/open.js';
import * as sessionsDb from '../store/sessions.js';
import * as lanesDb from '../store/lanes.js';
import { isBusy } from '../lane/rules.js';
import { canTransition, transition } from '../lane/stateMachine.js';
import { buildClosure } from './closure.js';
import { upsertClosure } from '../store/review.js';
import { appendEvent } from '../store/events.js';
import { recoverMerges } from './mergeRecovery.js';

export interface RecoveryResult {
  notes: string[];
  interruptedLanes: string[];
  /** lanes whose merge a dead console left: finished (merged) or rolled back (awaiting approval) */
  mergedLanes: string[];
  rolledBackLanes: string[];
  integrity: string[];
}

/**
 * After a console died (kill -9, power loss): finishes or rolls back the merges it left
 * (lanes/supervisor/mergeRecovery.ts), marks its other in-flight lanes interrupted, reaps their
 * leftover processes, prunes worktrees and checks the database's integrity.
 */
export async function recoverCrashedSessions(opts: {
  db: Database.Database;
  repoRoot: string;
  stateDir: string;
}): Promise<RecoveryResult> {
  const { db } = opts;
  const result: RecoveryResult = {
    notes: [],
    interruptedLanes: [],
    mergedLanes: [],
    rolledBackLanes: [],
    integrity: [],
  };
  const crashed = sessionsDb
    .listSessions(db)
    .filter((s) => s.endedAt === null && (s.pid === process.pid || !pidAlive(s.pid))); // else another console runs it
  for (const session of crashed) {
    for (const lane of lanesDb.listLanesBySession(db, session.id)) {
      if (!lane.procToken) continue;
      const reaped = await reapByToken(lane.procToken);
      if (reaped.length) result.notes.push(`lane ${lane.name}: reaped ${reaped.length} leftover process(es)`);
    }
  }
  // Merges first: a lane whose merge reached its base is merged, not interrupted.
  const deadPids = new Set(crashed.map((s) => s.pid));
  const merges = await recoverMerges({ db, stateDir: opts.stateDir, apply: true, deadPids });
  result.notes.push(...merges.notes, ...merges.problems);
  result.mergedLanes = merges.merged;
  result.rolledBackLanes = merges.rolledBack;
  for (const session of crashed) {
    const lanes = lanesDb.listLanesBySession(db, session.id);
    for (const lane of lanes) {
      if (!isBusy(lane.state) || lane.closedAt !== null) continue;
      const now = Date.now();
      if (canTransition(lane.state, { type: 'merge-failed' })) {
        // Its merge had not begun to move anything (no intent was written): back to review.
        const cause = `console (pid ${session.pid}) died before the merge moved ${lane.base}; nothing was merged`;
        appendEvent(db, { laneId: lane.id, kind: 'merge-failed', at: now, cause });
        lanesDb.setLaneState(db, lane.id, transition(lane.state, { type: 'merge-failed' }), { cause, at: now });
        result.rolledBackLanes.push(lane.name);
        continue;
      }
      // A busy lane (its agent or gates at work, or queued) cannot be left so with its console gone.
      const to = transition(lane.state, { type: 'interrupt' });
      // An approved lane waits in the stored merge queue, which the next start takes up again.
      if (to === lane.state) continue;
      lanesDb.setLaneState(db, lane.id, to, { cause: `console (pid ${session.pid}) died`, at: now });
      // Closed as interrupted until someone resumes it (then a later closure replaces this one).
      upsertClosure(
        db,
        lane.id,
        'interrupted',
        buildClosure({ db, laneId: lane.id, outcome: 'interrupted', diffStat: [] }),
      );
      result.interruptedLanes.push(lane.name);
    }
    sessionsDb.endSession(db, session.id, 'crashed');
    result.notes.push(`session ${session.id} (pid ${session.pid}) had crashed: ${lanes.length} lane(s) recovered`);
  }
  // Only after a crash: a clean start does not pay for a full read of a large database.
  if (crashed.length === 0) return result;
  const pruned = await pruneWorktrees(opts.repoRoot).catch(() => [] as string[]);
  if (pruned.length) result.notes.push(`pruned ${pruned.length} stale worktree(s)`);
  result.integrity = integrityCheck(db);
  result.notes.push(
    result.integrity.length ? `database integrity problems: ${result.integrity.join('; ')}` : 'database integrity ok',
  );
  return result;
}
