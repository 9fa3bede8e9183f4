/**
 * `doctor`'s merge check and `doctor --repair`'s merge step: merges a killed console left
 * unfinished (intents in the merge journal, lanes/git/mergeIntent.ts) and checkouts whose branch
 * the console moved while their index stayed on the old commit (`git status` then shows the merge
 * as staged reverts). The repair is the same as a console's next start does
 * (lanes/supervisor/mergeRecovery.ts); a checkout with no intent left is finished from the
 * branch's reflog (lanes/git/mergeRepair.ts).
 */
import { existsSync } from 'node:fs';
import { dbFile, type RepoPaths } from '../../lanes/config/paths.js';
import { listMergeIntents } from '../../lanes/git/mergeIntent.js';
import { checkoutsLeftBehind, finishCheckout, type CheckoutMove } from '../../lanes/git/mergeRepair.js';
import { recoverMerges } from '../../lanes/supervisor/mergeRecovery.js';

/** One line of doctor's report (the shape of doctor.ts `Check`; kept here so the two do not import each other). */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const FIX = 'run `ao-console doctor --repair` (a console start finishes or rolls back the journaled merges too)';

const behindDetail = (m: CheckoutMove) =>
  `HEAD of ${m.checkout} is the console's merge ${m.next.slice(0, 12)} but its index and files are still ${m.old.slice(0, 12)} (git status shows the merge as staged reverts)`;

/** The merge journal and every checkout a console merge moved: exit 1 while anything is left unfinished. */
export async function checkMerges(repo: RepoPaths): Promise<Check[]> {
  const checks: Check[] = [];
  try {
    const journal = await recoverMerges({ db: null, stateDir: repo.stateDir, apply: false });
    checks.push(
      journal.problems.length === 0
        ? { name: 'merges', ok: true, detail: 'no merge left unfinished' }
        : { name: 'merges', ok: false, detail: journal.problems.join('; '), fix: FIX },
    );
    // A checkout of a journaled merge is named by the journal's problem already.
    const journaled = new Set(listMergeIntents(repo.stateDir).map((s) => s.intent?.next));
    for (const m of await checkoutsLeftBehind(repo.root))
      if (!journaled.has(m.next))
        checks.push({ name: 'merged checkout', ok: false, detail: behindDetail(m), fix: FIX });
  } catch (err) {
    checks.push({
      name: 'merges',
      ok: false,
      detail: `cannot check: ${(err as Error).message}`,
      fix: 'run `git status` in the repo to see what git reports',
    });
  }
  return checks;
}

export interface MergeRepairStep {
  name: string;
  ok: boolean;
  changed: boolean;
  lines: string[];
}

/** Finishes (or rolls back) what checkMerges finds; says what it did, a line each. */
export async function repairMergesStep(repo: RepoPaths): Promise<MergeRepairStep> {
  const lines: string[] = [];
  let ok = true;
  let changed = false;
  let db = null;
  const file = dbFile(repo.stateDir);
  if (existsSync(file)) {
    try {
      const { openDb } = await import('../../lanes/store/open.js');
      db = openDb(file);
    } catch (err) {
      lines.push(`merges: the database cannot be opened (${(err as Error).message}); lanes are left to the next start`);
    }
  }
  try {
    const res = await recoverMerges({ db, stateDir: repo.stateDir, apply: true });
    changed ||= res.notes.length > 0;
    for (const n of res.notes) lines.push(`merges: ${n}`);
    for (const p of res.problems) lines.push(`merges: NOT repaired: ${p}`);
    if (res.problems.length) ok = false;
  } finally {
    db?.close();
  }
  for (const m of await checkoutsLeftBehind(repo.root)) {
    const fin = await finishCheckout(m);
    if (fin.did) {
      changed = true;
      lines.push(`merges: ${fin.did}`);
    }
    if (fin.state.kind !== 'done') {
      ok = false;
      lines.push(
        `merges: NOT repaired: ${behindDetail(m)}: ${'detail' in fin.state ? fin.state.detail : fin.state.kind}`,
      );
    }
  }
  if (lines.length === 0) lines.push('merges: nothing left unfinished, nothing to repair');
  return { name: 'merges', ok, changed, lines };
}
