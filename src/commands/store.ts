/**
 * Opening the console's SQLite store for the subcommands that read it without a console
 * running (lanes, sessions, show, gc, doctor).
 */
import { existsSync } from 'node:fs';
import { openDb, type Db } from '../../lanes/store/open.js';
import { dbFile } from '../../lanes/config/paths.js';

/** The store of `stateDir`, read-only; null when no console ever ran in this repo. */
export function openStoreReadonly(stateDir: string): Db | null {
  const file = dbFile(stateDir);
  if (!existsSync(file)) return null;
  return openDb(file, { readonly: true });
}

/** Runs `fn` on the read-only store, closing it after; `empty` when there is no store yet. */
export function withStore<T>(stateDir: string, empty: T, fn: (db: Db) => T): T {
  const db = openStoreReadonly(stateDir);
  if (!db) return empty;
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
