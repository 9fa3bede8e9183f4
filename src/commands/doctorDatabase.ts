/**
 * `ao-console doctor`'s database check and `doctor --repair`'s database repair (the rebuild
 * itself is lanes/store/repair.ts). The check is the one every command makes at open
 * (lanes/store/check.ts); the repair runs only on a file that fails it, and only while no
 * console holds the repo's lock.
 */
import { existsSync } from 'node:fs';
import { dbFile, type RepoPaths } from '../../lanes/config/paths.js';

/** One check's result (the shape of doctor.ts's Check). */
export interface DatabaseCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** What one `--repair` step did, for the text and the JSON output. */
export interface RepairStep {
  name: string;
  /** false: something needs repair and could not be repaired */
  ok: boolean;
  /** true when something was changed */
  changed: boolean;
  lines: string[];
  report?: unknown;
}

/** Opens the store read-only with the checks at open (which include quick_check). */
export async function checkDatabase(stateDir: string): Promise<DatabaseCheck> {
  const file = dbFile(stateDir);
  if (!existsSync(file))
    return { name: 'database', ok: true, detail: 'no database yet (the first console creates it)' };
  const { openDb, DatabaseError } = await import('../../lanes/store/open.js');
  try {
    openDb(file, { readonly: true }).close();
    return { name: 'database', ok: true, detail: 'quick_check ok' };
  } catch (err) {
    const message = (err as Error).message;
    if (err instanceof DatabaseError) {
      return {
        name: 'database',
        ok: false,
        detail: message.replace(/; run `ao-console doctor --repair`.*$/, ''),
        fix: err.repairable
          ? 'stop the console, then run `ao-console doctor --repair`: it keeps a copy of the file next to it and rebuilds the database from what can be read'
          : 'see the message (permissions or disk space); no rebuild is needed',
      };
    }
    return {
      name: 'database',
      ok: false,
      detail: `cannot open ${file}: ${message}`,
      fix: 'see the message; an older database is migrated by starting the console once',
    };
  }
}

function describeRange(r: { from: number | null; to: number | null }): string {
  if (r.from === null && r.to === null) return 'everything from a damaged page on';
  if (r.to === null) return `rowids ${r.from} and up`;
  if (r.from === null) return `rowids up to ${r.to}`;
  return r.from === r.to ? `rowid ${r.from}` : `rowids ${r.from}–${r.to} (up to ${r.to - r.from + 1} rows)`;
}

/**
 * Repairs the store when the check at open refuses it for damage: keeps a copy, rebuilds it from
 * what can be read and reports per table what was saved and what was lost.
 */
export async function repairDatabaseStep(repo: RepoPaths): Promise<RepairStep> {
  const name = 'database';
  const file = dbFile(repo.stateDir);
  if (!existsSync(file)) return { name, ok: true, changed: false, lines: ['database: none yet, nothing to repair'] };
  const { openDb, DatabaseError } = await import('../../lanes/store/open.js');
  let problem: InstanceType<typeof DatabaseError>;
  try {
    openDb(file, { readonly: true }).close();
    return { name, ok: true, changed: false, lines: ['database: quick_check ok, nothing to repair'] };
  } catch (err) {
    if (!(err instanceof DatabaseError) || !err.repairable)
      return { name, ok: false, changed: false, lines: [`database: cannot repair: ${(err as Error).message}`] };
    problem = err;
  }
  const { acquireLock, LockHeldError } = await import('../../lanes/control/lock.js');
  let lock;
  try {
    lock = acquireLock(repo.stateDir);
  } catch (err) {
    if (err instanceof LockHeldError)
      return { name, ok: false, changed: false, lines: [`database: not repaired: ${err.message}`] };
    throw err;
  }
  try {
    const { repairDatabase } = await import('../../lanes/store/repair.js');
    const report = await repairDatabase(file, { foreignWal: problem.problem === 'foreign-wal' });
    const lines = [
      `database: ${file} ${problem.detail}`,
      `  kept the damaged file as ${report.backupFiles.join(' and ')} (0600)`,
      `  rebuilt by ${report.method}${report.methodNote ? ` (${report.methodNote})` : ''}:`,
    ];
    for (const t of report.tables) {
      const lost: string[] = [];
      if (t.unreadable.length) lost.push(`unreadable: ${t.unreadable.map(describeRange).join(', ')}`);
      if (t.refused) lost.push(`${t.refused} refused by the schema`);
      if (t.orphaned) lost.push(`${t.orphaned} dropped (the row they belong to was lost)`);
      if (t.note && t.saved === 0 && !t.unreadable.length) lost.push(t.note);
      lines.push(
        `    ${t.table}: saved ${t.saved}${lost.length ? `; lost: ${lost.join('; ')}` : '; nothing lost that could be seen'}`,
      );
    }
    if (report.lostAndFound)
      lines.push(
        `    ${report.lostAndFound} row fragment(s) .recover could not place in a table stay only in the kept copy`,
      );
    lines.push('  the console starts on the rebuilt database');
    return { name, ok: true, changed: true, lines, report };
  } catch (err) {
    return {
      name,
      ok: false,
      changed: false,
      lines: [`database: repair failed, nothing replaced: ${(err as Error).message}`],
    };
  } finally {
    lock.release();
  }
}
