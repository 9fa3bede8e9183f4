/**
 * Real SQLite stores, damaged for real: a store with a session, lanes, a long recording, a
 * closure and learnings; and the damage done to it (garbage over middle pages, truncation, zero
 * length, a text file, a -wal copied from another database). See test/integration/dbDamage.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { openDb, type Db } from '../../lanes/store/open.js';
import { createSession, endSession } from '../../lanes/store/sessions.js';
import { insertLane, markLaneClosed } from '../../lanes/store/lanes.js';
import { insertChunks } from '../../lanes/store/output.js';
import { upsertClosure } from '../../lanes/store/review.js';
import { captureLearning } from '../../lanes/learnings/store.js';

export const CHUNKS = 1500;

/** Fills `file` with a store: lane `alpha` (1500 chunks of ~1 KB of random bytes, closed, with a closure), lane `beta`, learnings. */
export function buildStore(file: string, opts: { repo?: string; keepOpen?: boolean } = {}): Db {
  const db = openDb(file);
  const session = createSession(db, { repo: opts.repo ?? '/r' });
  const lane = (name: string) =>
    insertLane(db, {
      name,
      sessionId: session.id,
      profile: 'demo',
      task: `task of ${name}`,
      branch: `ao/${name}`,
      base: 'main',
      worktree: `/tmp/nowhere/${name}`,
      cols: 80,
      rows: 24,
    });
  const alpha = lane('alpha');
  const beta = lane('beta');
  const chunks = Array.from({ length: CHUNKS }, (_, seq) => ({
    laneId: alpha.id,
    seq,
    tMs: seq * 10,
    // random bytes do not compress: the chunks fill ~1500 KB of pages, as the damage expects
    data: Buffer.concat([Buffer.from(`line ${seq} `), randomBytes(990), Buffer.from('\r\n')]),
  }));
  insertChunks(db, chunks);
  markLaneClosed(db, alpha.id);
  upsertClosure(db, alpha.id, 'discarded', { note: 'test' });
  insertChunks(db, [{ laneId: beta.id, seq: 0, tMs: 0, data: Buffer.from('beta\r\n') }]);
  for (let i = 0; i < 5; i++)
    captureLearning(db, {
      text: `learning number ${i}: the ${['parser', 'linter', 'gate', 'merge', 'pty'][i]} needs care`,
      category: 'note',
      source: 'operator',
      laneId: alpha.id,
      sessionId: session.id,
    });
  endSession(db, session.id, 'test');
  if (!opts.keepOpen) {
    db.close();
  }
  return db;
}

export function pageSize(file: string): number {
  const raw = readFileSync(file).readUInt16BE(16);
  return raw === 1 ? 65536 : raw;
}

/** Writes random bytes over `count` whole pages around the middle of the file (never page 1). */
export function garbageMiddlePages(file: string, count = 3): number[] {
  const size = pageSize(file);
  const pages = Math.floor(statSync(file).size / size);
  const first = Math.floor(pages / 2);
  const fd = openSync(file, 'r+');
  const hit: number[] = [];
  try {
    for (let p = first; p < first + count; p++) {
      writeSync(fd, randomBytes(size), 0, size, p * size);
      hit.push(p + 1); // SQLite numbers pages from 1
    }
  } finally {
    closeSync(fd);
  }
  return hit;
}

export function truncateHalf(file: string): void {
  truncateSync(file, Math.floor(statSync(file).size / 2 / pageSize(file)) * pageSize(file));
}

/** A -wal with committed pages of another store, copied next to `file`. */
export function foreignWal(file: string, other: string): void {
  const db = buildStore(other, { keepOpen: true, repo: '/other' });
  // keepOpen: the other store's pages are still in its -wal (no checkpoint runs: wal_autocheckpoint 0)
  copyFileSync(`${other}-wal`, `${file}-wal`);
  db.close();
}

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
