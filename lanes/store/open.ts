/**
 * Opening the console's SQLite store: the checks at open (lanes/store/check.ts), file
 * permissions, connection pragmas, migrations. See docs/data-model.md for the schema, the checks
 * and the write path.
 */
import { randomInt } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations.js';
import { asDatabaseError, inspectDatabaseFile, quickCheck, verifyOpenDatabase } from './check.js';

export { DatabaseError, type DatabaseProblem } from './check.js';

export type Db = Database.Database;

/** The database was written by a newer ao-console; refusing beats corrupting it. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly file: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(`database ${file} has schema version ${found}, this ao-console knows up to ${known}; upgrade ao-console`);
    this.name = 'SchemaTooNewError';
  }
}

/** A read-only connection cannot migrate an older database. */
export class SchemaTooOldError extends Error {
  constructor(
    readonly file: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `database ${file} has schema version ${found}, older than ${known}; ` +
        'open it once with a writable ao-console to migrate it',
    );
    this.name = 'SchemaTooOldError';
  }
}

export interface OpenDbOptions {
  readonly?: boolean;
  /**
   * Leave SQLite's automatic WAL checkpoints on. Off by default: in the console the recorder
   * worker checkpoints (lanes/recording/recorderWorker.ts), because an automatic checkpoint stalls the
   * committing thread for about 20 ms. A short-lived process with no recorder (a CLI subcommand)
   * may turn it on; closing the last connection checkpoints anyway.
   */
  autoCheckpoint?: boolean;
  /** for tests: the migrations to run instead of the real ones */
  migrations?: readonly Migration[];
  /**
   * Run `PRAGMA quick_check` (it reads every page: about 0.25 s per 100 MB when cached) before
   * anything is written. On by default; off only for a connection to a file this process has
   * just checked (the recorder worker's, opened right after the engine's).
   */
  check?: boolean;
}

/** WAL file is truncated back to this size after a checkpoint resets it. */
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

/**
 * Opens (creating when needed) the store at `file`. First the checks (lanes/store/check.ts): the
 * file on disk (empty, not SQLite, truncated, a foreign -wal, permissions), then, before anything
 * is written, the -wal's identity and `PRAGMA quick_check`; any problem is a DatabaseError naming
 * the file. Then 0600 permissions on the file and its -wal/-shm, WAL journal, synchronous=NORMAL,
 * busy_timeout 5 s, foreign keys on, and the pending migrations. Throws SchemaTooNewError for a
 * database from a newer ao-console.
 */
export function openDb(file: string, opts: OpenDbOptions = {}): Db {
  const readonly = opts.readonly ?? false;
  const creating = !readonly && !existsSync(file);
  let db: Db;
  try {
    const header = inspectDatabaseFile(file, { writable: !readonly, creating });
    // The check runs on a read-only connection: closing a writable one checkpoints the -wal into
    // the file, which would write a foreign log (or a damaged one) into it.
    if (!creating && (opts.check ?? true)) {
      const probe = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
      try {
        verifyOpenDatabase(probe, file, header);
      } finally {
        probe.close();
      }
    }
    if (!readonly) createPrivate(file);
    db = new Database(file, { readonly, fileMustExist: readonly, timeout: 5000 });
  } catch (err) {
    throw asDatabaseError(file, err);
  }
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
      if (!opts.autoCheckpoint) db.pragma('wal_autocheckpoint = 0');
      // SQLite gives -wal/-shm the mode of the main file; this makes sure of it even for a
      // database an older build created 0644.
      for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
      migrate(db, file, opts.migrations ?? MIGRATIONS);
      stampIdentity(db);
    } else {
      checkReadableVersion(db, file, opts.migrations ?? MIGRATIONS);
    }
    return db;
  } catch (err) {
    db.close();
    throw asDatabaseError(file, err);
  }
}

/**
 * Gives the database a random application id (once): the check at open compares the id read
 * through the -wal with the one in the file's header, so a -wal copied from another database
 * is refused instead of being replayed into this one.
 */
function stampIdentity(db: Db): void {
  if (db.pragma('application_id', { simple: true }) !== 0) return;
  db.transaction(() => {
    if (db.pragma('application_id', { simple: true }) === 0) db.pragma(`application_id = ${randomInt(1, 2 ** 31)}`);
  }).immediate();
}

/** Creates `file` with mode 0600 if it does not exist, and forces 0600 if it does. */
function createPrivate(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function checkReadableVersion(db: Db, file: string, migrations: readonly Migration[]): void {
  const found = schemaVersion(db);
  const known = latestVersion(migrations);
  if (found > known) throw new SchemaTooNewError(file, found, known);
  if (found < known) throw new SchemaTooOldError(file, found, known);
}

/**
 * Runs every migration newer than the database's `user_version`, each in its own
 * BEGIN IMMEDIATE transaction that also bumps `user_version`. The version is re-read under
 * the write lock, so two processes opening the same new file never run a migration twice.
 */
export function migrate(db: Db, file: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const known = latestVersion(migrations);
  const found = schemaVersion(db);
  if (found > known) throw new SchemaTooNewError(file, found, known);
  const pending = [...migrations].filter((m) => m.version > found).sort((a, b) => a.version - b.version);
  for (const m of pending) {
    db.transaction(() => {
      const current = schemaVersion(db);
      if (current >= m.version) return; // another connection got here first
      if (current !== m.version - 1) {
        throw new Error(`database ${file}: cannot apply migration ${m.version} on schema version ${current}`);
      }
      db.exec(m.up);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}

/**
 * Runs `fn` in one BEGIN IMMEDIATE transaction (the write lock is taken at once, so two writers
 * never deadlock upgrading a read): for logic outside the store (e.g. learning dedup in
 * lanes/learnings/store.ts) that must read and write through store functions atomically.
 * Nested calls become savepoints.
 */
export function writeTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/** Runs `fn` in one deferred transaction: every read in it sees the same snapshot (WAL). */
export function readTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn)();
}

/** A passive WAL checkpoint: copies what it can into the main file without waiting for readers. */
export function checkpointWal(db: Db): void {
  db.pragma('wal_checkpoint(PASSIVE)');
}

/** Loads better-sqlite3 and returns the SQLite version it carries (`ao-console doctor`). */
export function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}

/** `PRAGMA quick_check`: the problems found, an empty array when the database is sound. */
export function integrityCheck(db: Db): string[] {
  return quickCheck(db);
}
