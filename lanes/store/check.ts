/**
 * Checking the console's SQLite file before it is used: what the file looks like on disk (empty,
 * not SQLite, truncated, a write-ahead log of another database, permissions), and after it is
 * opened, `PRAGMA quick_check` (SQLite does not check pages at open: a file with garbage in its
 * middle pages opens and answers the queries that do not touch them). A problem is a
 * DatabaseError naming the file and what is wrong; lanes/store/open.ts throws it before anything
 * is written. See docs/data-model.md ("Checks at open").
 */
import { accessSync, closeSync, constants, lstatSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';

/** What is wrong with a database file; `repairable` ones are what `ao-console doctor --repair` rebuilds. */
export type DatabaseProblem =
  'damaged' | 'empty' | 'not-sqlite' | 'truncated' | 'foreign-wal' | 'read-only' | 'unreadable' | 'no-space';

const REPAIRABLE: readonly DatabaseProblem[] = ['damaged', 'empty', 'not-sqlite', 'truncated', 'foreign-wal'];

export const REPAIR_HINT =
  'run `ao-console doctor --repair` (it keeps a copy of the file and rebuilds it from what can be read)';

/** The database file cannot be used as it is. The message names the file, what is wrong and the way out. */
export class DatabaseError extends Error {
  constructor(
    readonly file: string,
    readonly problem: DatabaseProblem,
    /** what is wrong, without the file name (e.g. "is empty (0 bytes)") */
    readonly detail: string,
    /** quick_check's messages, when it ran */
    readonly findings: readonly string[] = [],
  ) {
    super(`database ${file} ${detail}${REPAIRABLE.includes(problem) ? `; ${REPAIR_HINT}` : ''}`);
    this.name = 'DatabaseError';
  }

  get repairable(): boolean {
    return REPAIRABLE.includes(this.problem);
  }
}

const MAGIC = 'SQLite format 3\0';
const WAL_MAGIC = [0x377f0682, 0x377f0683];

/** The fields of the 100-byte database header that the checks read. */
export interface FileHeader {
  pageSize: number;
  /** pages the header says the file has, when that field is valid */
  pages: number | null;
  applicationId: number;
}

function readBytes(file: string, length: number, position = 0): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, position);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function parseHeader(buf: Buffer): FileHeader | null {
  if (buf.length < 100 || buf.subarray(0, 16).toString('latin1') !== MAGIC) return null;
  const raw = buf.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  // The in-header size is valid when "version-valid-for" equals the change counter.
  const pages = buf.readUInt32BE(92) === buf.readUInt32BE(24) ? buf.readUInt32BE(28) : null;
  return { pageSize, pages: pages || null, applicationId: buf.readUInt32BE(68) };
}

function printable(buf: Buffer): string {
  return JSON.stringify(
    buf
      .subarray(0, 16)
      .toString('latin1')
      .replace(/[^\x20-\x7e]/g, '.'),
  );
}

/** Size of the -wal file, 0 when there is none. */
function walSize(file: string): number {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

function mode(file: string): string {
  return `0${(statSync(file).mode & 0o777).toString(8)}`;
}

/**
 * Checks `file` on disk before SQLite opens it. `writable`: the caller will write (the engine,
 * `learnings add`, `gc`); then the file and its directory must be writable. Returns the header
 * (null for a file about to be created). Throws DatabaseError.
 */
export function inspectDatabaseFile(file: string, opts: { writable: boolean; creating: boolean }): FileHeader | null {
  const dir = path.dirname(file);
  if (opts.writable) {
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch {
      throw new DatabaseError(
        file,
        'read-only',
        `cannot be written: its directory ${dir} is not writable (SQLite keeps ${path.basename(file)}-wal and -shm next to it); make it writable (chmod 700 '${dir}')`,
      );
    }
  }
  if (opts.creating) return null;
  const st = lstatSync(file);
  if (!st.isFile()) throw new DatabaseError(file, 'unreadable', 'is not a regular file');
  try {
    accessSync(file, constants.R_OK | (opts.writable ? constants.W_OK : 0));
  } catch {
    const what = opts.writable ? 'read-only for this user' : 'not readable by this user';
    throw new DatabaseError(
      file,
      opts.writable ? 'read-only' : 'unreadable',
      `is ${what} (mode ${mode(file)}, owner uid ${st.uid}); the console must ${opts.writable ? 'write' : 'read'} it: chmod 600 '${file}' as its owner`,
    );
  }
  if (st.size === 0) {
    throw new DatabaseError(file, 'empty', 'is empty (0 bytes): whatever it held is gone');
  }
  const head = readBytes(file, 100);
  const header = parseHeader(head);
  if (!header) {
    if (head.length < 100 && head.toString('latin1').startsWith(MAGIC.slice(0, head.length)))
      throw new DatabaseError(file, 'truncated', `is truncated: ${st.size} bytes, shorter than an SQLite header`);
    throw new DatabaseError(file, 'not-sqlite', `is not an SQLite database (it starts with ${printable(head)})`);
  }
  const wal = walSize(file);
  if (wal >= 32) {
    const wh = readBytes(`${file}-wal`, 32);
    const walPageSize = wh.readUInt32BE(8);
    if (!WAL_MAGIC.includes(wh.readUInt32BE(0)) || (walPageSize !== header.pageSize && header.pageSize > 0)) {
      throw new DatabaseError(
        file,
        'foreign-wal',
        `has a write-ahead log ${file}-wal that does not belong to it (${WAL_MAGIC.includes(wh.readUInt32BE(0)) ? `page size ${walPageSize}, the database's is ${header.pageSize}` : 'not an SQLite log'})`,
      );
    }
  }
  // Without a log, the file must hold every page its header counts (with one, a checkpoint cut
  // short may legitimately have written the header before the pages; the log still has them).
  if (wal === 0 && header.pages !== null && st.size < header.pages * header.pageSize) {
    throw new DatabaseError(
      file,
      'truncated',
      `is truncated: ${st.size} bytes, its header says ${header.pages} pages of ${header.pageSize} bytes (${header.pages * header.pageSize})`,
    );
  }
  return header;
}

/**
 * After open, before anything is written: the write-ahead log must belong to this file (the
 * application id read through the log equals the one in the file's own header, once that one is
 * set), and `PRAGMA quick_check` must find nothing. Throws DatabaseError.
 */
export function verifyOpenDatabase(db: Database.Database, file: string, header: FileHeader | null): void {
  const seen = db.pragma('application_id', { simple: true }) as number;
  if (header && header.applicationId !== 0 && seen !== header.applicationId) {
    throw new DatabaseError(
      file,
      'foreign-wal',
      `has a write-ahead log ${file}-wal from another database (its id is ${seen >>> 0}, the file's ${header.applicationId})`,
    );
  }
  const findings = quickCheck(db);
  if (findings.length > 0) {
    const wal =
      walSize(file) > 0
        ? ` (a write-ahead log ${file}-wal is present: if it was copied from another database, that is the cause)`
        : '';
    throw new DatabaseError(
      file,
      'damaged',
      `is damaged: quick_check found ${findings.length === 100 ? '100 or more' : findings.length} problem(s): ${findings.slice(0, 3).join('; ')}${wal}`,
      findings,
    );
  }
}

/** `PRAGMA quick_check` (reads every page; at most 100 messages): the problems, empty when sound. */
export function quickCheck(db: Database.Database): string[] {
  const rows = db.pragma('quick_check(100)') as { quick_check: string }[];
  return rows.map((r) => r.quick_check).filter((msg) => msg !== 'ok');
}

const CORRUPT = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE']);

/**
 * An error SQLite or the file system raised while opening or checking `file`, as a DatabaseError
 * that names the file; other errors come back as they are.
 */
export function asDatabaseError(file: string, err: unknown): unknown {
  if (err instanceof DatabaseError || !(err instanceof Error)) return err;
  const code = (err as { code?: string }).code ?? '';
  if (CORRUPT.has(code) || code.startsWith('SQLITE_CORRUPT'))
    return new DatabaseError(file, code === 'SQLITE_NOTADB' ? 'not-sqlite' : 'damaged', `is damaged: ${err.message}`);
  if (code === 'SQLITE_READONLY_DIRECTORY')
    return new DatabaseError(
      file,
      'read-only',
      `cannot be opened: its directory ${path.dirname(file)} is not writable (SQLite must create ${path.basename(file)}-shm next to it, even to read)`,
    );
  if (code.startsWith('SQLITE_READONLY') || code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new DatabaseError(file, 'read-only', `cannot be written: ${err.message}`);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC')
    return new DatabaseError(file, 'no-space', `cannot be written: the disk is full (${err.message})`);
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR'))
    return new DatabaseError(file, 'unreadable', `cannot be opened: ${err.message} (${code})`);
  return err;
}
