import type Database from 'better-sqlite3';
import { reapByToken } from '../process/reaper.js';
import { pruneWorktrees } from '../git/worktree.js';
import { integrityCheck } from '../store/open.js';
import * as sessionsDb from '../store/sessions.js';
import * as lanesDb from '../store/lanes.js';
import { isBusy } from '../lane/rules.js';
import { transition } from '../lane/stateMachine.js';
import { buildClosure } from './closure.js';
import { upsertClosure } from '../store/review.js';

export interface RecoveryResult {
  notes: string[];
  interruptedLanes: string[];
  integrity: string[];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * After a console died (kill -9, power loss): marks its in-flight lanes interrupted, reaps
 * their leftover processes, prunes worktrees and checks the database's integrity.
 */
export async function recoverCrashedSessions(opts: {
  db: Database.Database;
  repoRoot: string;
  stateDir: string;
}): Promise<RecoveryResult> {
  const { db } = opts;
  const result: RecoveryResult = { notes: [], interruptedLanes: [], integrity: [] };
  let crashed = 0;
  for (const session of sessionsDb.listSessions(db).filter((s) => s.endedAt === null)) {
    if (session.pid !== process.pid && alive(session.pid)) continue; // another console still runs it
    const lanes = lanesDb.listLanesBySession(db, session.id);
    for (const lane of lanes) {
      if (lane.procToken) {
        const reaped = await reapByToken(lane.procToken);
        if (reaped.length) result.notes.push(`lane ${lane.name}: reaped ${reaped.length} leftover process(es)`);
      }
      // A busy lane (its agent, gates or merge at work, or queued) cannot be left so with its console gone.
      if (isBusy(lane.state) && lane.closedAt === null) {
        const now = Date.now();
        const to = transition(lane.state, { type: 'interrupt' });
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
    }
    sessionsDb.endSession(db, session.id, 'crashed');
    crashed++;
    result.notes.push(`session ${session.id} (pid ${session.pid}) had crashed: ${lanes.length} lane(s) recovered`);
  }
  // Only after a crash: a clean start does not pay for a full read of a large database.
  if (crashed === 0) return result;
  const pruned = await pruneWorktrees(opts.repoRoot).catch(() => [] as string[]);
  if (pruned.length) result.notes.push(`pruned ${pruned.length} stale worktree(s)`);
  result.integrity = integrityCheck(db);
  result.notes.push(
    result.integrity.length ? `database integrity problems: ${result.integrity.join('; ')}` : 'database integrity ok',
  );
  return result;
}
