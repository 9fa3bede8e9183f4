/**
 * Rebuilding a damaged store (`ao-console doctor --repair`): a byte copy of the damaged file (and
 * its -wal) is kept next to it, timestamped and 0600; a fresh database is created by the
 * migrations and filled with what can be read, table by table; then it replaces the damaged
 * file. The damaged original is never written: it is read through a read-only connection on the
 * copy. Reading uses SQLite's `.recover` (the `sqlite3` command-line shell) when it is installed,
 * which also finds rows under damaged interior pages; without it, a row-by-row copy that steps
 * over what does not read. See docs/data-model.md ("Repair").
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { latestVersion, openDb, schemaVersion, type Db } from './open.js';
import { copyTable, type TableCopy } from './repairCopy.js';

export interface RepairReport {
  file: string;
  /** the kept copy of the damaged file (and `${backup}-wal` when it had a log) */
  backup: string;
  backupFiles: string[];
  method: 'sqlite3 .recover' | 'row copy';
  /** why .recover was not used, or failed */
  methodNote?: string;
  tables: TableCopy[];
  /** rows .recover found but could not place in a table (they stay in the kept copy) */
  lostAndFound: number;
  /** the schema version the damaged file said it had (null when unreadable) */
  sourceVersion: number | null;
}

export interface RepairOptions {
  /** the `sqlite3` shell to run `.recover` with; null: do not use it (default: `sqlite3` on PATH) */
  sqlite3?: string | null;
  /**
   * The -wal belongs to another database: keep it as `${backup}.foreign-wal` (a name SQLite never
   * reads) and rebuild from the main file alone.
   */
  foreignWal?: boolean;
  now?: Date;
}

function stamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Copies `from` to `to` (which must not exist), 0600, synced to disk. */
function keepCopy(from: string, to: string): void {
  copyFileSync(from, to, constants.COPYFILE_EXCL);
  chmodSync(to, 0o600);
  const fd = openSync(to, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeDbFiles(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) rmSync(f, { force: true });
}

/** Runs `sqlite3 SOURCE .recover | sqlite3 TARGET`; resolves to an error message, or null when it worked. */
function runRecover(sqlite3: string, source: string, target: string): Promise<string | null> {
  return new Promise((resolve) => {
    let failed: string | null = null;
    let pending = 2;
    const done = () => --pending === 0 && resolve(failed);
    const reader = spawn(sqlite3, ['-readonly', source, '.recover'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const writer = spawn(sqlite3, [target], { stdio: ['pipe', 'ignore', 'pipe'] });
    let readErr = '';
    let writeErr = '';
    reader.stderr.on('data', (d: Buffer) => (readErr += d.toString()));
    writer.stderr.on('data', (d: Buffer) => (writeErr += d.toString()));
    reader.stdout.pipe(writer.stdin);
    writer.stdin.on('error', () => {});
    reader.on('error', (err) => {
      failed ??= `${sqlite3}: ${err.message}`;
      writer.stdin.end();
      done();
    });
    writer.on('error', (err) => {
      failed ??= `${sqlite3}: ${err.message}`;
      done();
    });
    reader.on('exit', (code) => {
      if (code !== 0) failed ??= `.recover exited ${code}: ${readErr.trim().slice(0, 300)}`;
      done();
    });
    writer.on('exit', (code) => {
      if (code !== 0) failed ??= `loading the recovered SQL exited ${code}: ${writeErr.trim().slice(0, 300)}`;
      done();
    });
  });
}

function tableNames(db: Db): string[] {
  const virtual = (
    db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'").all() as {
      name: string;
    }[]
  ).map((r) => r.name);
  const all = (
    db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
      .all() as {
      name: string;
    }[]
  ).map((r) => r.name);
  // Full-text indexes and their shadow tables are rebuilt by their triggers as rows go in.
  return all.filter((n) => !virtual.some((v) => n === v || n.startsWith(`${v}_`)));
}

/** Tables in an order where every table comes after the tables its foreign keys point at. */
function parentsFirst(db: Db, tables: string[]): string[] {
  const out: string[] = [];
  const visit = (t: string, path: Set<string>) => {
    if (out.includes(t) || path.has(t)) return;
    path.add(t);
    const parents = (db.pragma(`foreign_key_list("${t}")`) as { table: string }[]).map((r) => r.table);
    for (const p of parents) if (tables.includes(p) && p !== t) visit(p, path);
    out.push(t);
  };
  for (const t of tables) visit(t, new Set());
  return out;
}

function tryOpenReadonly(file: string): Database.Database | null {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('schema_version'); // reads page 1: fails here on a file that is not a database
    return db;
  } catch {
    return null;
  }
}

/**
 * Repairs the store at `file`: keeps a copy, rebuilds, replaces. The caller holds the console
 * lock (no console may have the file open). Throws when the database was written by a newer
 * ao-console (its tables would be copied into a schema that does not know them).
 */
export async function repairDatabase(file: string, opts: RepairOptions = {}): Promise<RepairReport> {
  const when = stamp(opts.now ?? new Date());
  const backup = `${file}.damaged-${when}`;
  const backupFiles = [backup];
  keepCopy(file, backup);
  if (existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0) {
    const wal = opts.foreignWal ? `${backup}.foreign-wal` : `${backup}-wal`;
    keepCopy(`${file}-wal`, wal);
    backupFiles.push(wal);
  }
  const fresh = `${file}.repair-${when}`;
  const scratch = `${file}.recovered-${when}`;
  removeDbFiles(fresh);
  removeDbFiles(scratch);
  const report: RepairReport = {
    file,
    backup,
    backupFiles,
    method: 'row copy',
    tables: [],
    lostAndFound: 0,
    sourceVersion: null,
  };
  let source: Database.Database | null = null;
  let target: Db | null = null;
  try {
    const damaged = tryOpenReadonly(backup);
    if (damaged) {
      try {
        report.sourceVersion = damaged.pragma('user_version', { simple: true }) as number;
      } catch {
        report.sourceVersion = null;
      } finally {
        damaged.close();
      }
    }
    if (report.sourceVersion !== null && report.sourceVersion > latestVersion())
      throw new Error(
        `database ${file} has schema version ${report.sourceVersion}, this ao-console knows up to ${latestVersion()}: repair it with a newer ao-console (the kept copy is ${backup})`,
      );
    const sqlite3 = opts.sqlite3 === undefined ? 'sqlite3' : opts.sqlite3;
    if (sqlite3) {
      const failed = await runRecover(sqlite3, backup, scratch);
      if (!failed) {
        source = tryOpenReadonly(scratch);
        if (source) report.method = 'sqlite3 .recover';
        else report.methodNote = '.recover produced no readable database';
      } else report.methodNote = failed;
    } else report.methodNote = 'not asked to use the sqlite3 shell';
    if (!source) {
      removeDbFiles(scratch);
      source = tryOpenReadonly(backup);
    }
    target = openDb(fresh, { autoCheckpoint: true, check: false });
    target.pragma('foreign_keys = OFF');
    const sourceTables = source ? new Set(tableNames(source)) : new Set<string>();
    for (const table of parentsFirst(target, tableNames(target))) {
      if (!source || !sourceTables.has(table)) {
        report.tables.push({ table, saved: 0, refused: 0, unreadable: [], note: 'could not be read at all' });
        continue;
      }
      report.tables.push(copyTable(source, target, table));
    }
    if (report.method === 'sqlite3 .recover' && source && sourceTables.has('lost_and_found'))
      report.lostAndFound = (source.prepare('SELECT count(*) AS n FROM lost_and_found').get() as { n: number }).n;
    dropOrphans(target, report.tables);
    target.pragma('foreign_keys = ON');
    if (schemaVersion(target) !== latestVersion()) throw new Error('the rebuilt database lost its schema version');
    target.pragma('wal_checkpoint(TRUNCATE)');
    target.close();
    target = null;
    source?.close();
    source = null;
    // The damaged file's -wal must not be replayed into the rebuilt one: it goes first (it is kept).
    for (const f of [`${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    renameSync(fresh, file);
    chmodSync(file, 0o600);
    const dirFd = openSync(path.dirname(file), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return report;
  } finally {
    source?.close();
    target?.close();
    removeDbFiles(scratch);
    removeDbFiles(fresh);
    rmSync(`${backup}-shm`, { force: true });
  }
}

/** Rows whose parent row was lost go too (a lane's output without the lane); each is counted as refused. */
function dropOrphans(db: Db, tables: TableCopy[]): void {
  const violations = db.pragma('foreign_key_check') as { table: string; rowid: number | null; parent: string }[];
  const byTable = new Map<string, number>();
  for (const v of violations) {
    if (v.rowid === null) continue;
    db.prepare(`DELETE FROM "${v.table}" WHERE rowid = ?`).run(v.rowid);
    byTable.set(v.table, (byTable.get(v.table) ?? 0) + 1);
  }
  // WITHOUT ROWID tables report no rowid: delete their rows whose parents are missing by key.
  for (const t of new Set(violations.filter((v) => v.rowid === null).map((v) => v.table))) {
    const fks = db.pragma(`foreign_key_list("${t}")`) as { table: string; from: string; to: string | null }[];
    let n = 0;
    for (const fk of fks) {
      const to = fk.to ?? 'rowid';
      n += db
        .prepare(
          `DELETE FROM "${t}" WHERE "${fk.from}" IS NOT NULL AND "${fk.from}" NOT IN (SELECT "${to}" FROM "${fk.table}")`,
        )
        .run().changes;
    }
    byTable.set(t, (byTable.get(t) ?? 0) + n);
  }
  for (const [table, n] of byTable) {
    const entry = tables.find((t) => t.table === table);
    if (!entry || n === 0) continue;
    entry.saved -= n;
    entry.orphaned = n;
  }
}
