/**
 * Review comments in the store (migration 3 from a v2 database, round trip) and in git (which of
 * a commit's lines a later commit changed: what makes a sent comment addressed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, schemaVersion, type Db } from '../../lanes/store/open.js';
import { MIGRATIONS } from '../../lanes/store/migrations.js';
import { createSession } from '../../lanes/store/sessions.js';
import { insertLane } from '../../lanes/store/lanes.js';
import {
  deleteComment,
  getComment,
  insertComment,
  listComments,
  markSent,
  setCommentOutcome,
  setCommentText,
} from '../../lanes/store/comments.js';
import { fileLinesAt, hunksTouch, linesChanged, parseOldHunks } from '../../lanes/git/lineChanges.js';
import { commitFile, createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { buildMarks } from '../../src/replay/timeline.js';
import { appendEvent, listEvents } from '../../lanes/store/events.js';

describe('comments in the store', () => {
  let dir: string;
  let file: string;
  const open: Db[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ao-comments-'));
    file = path.join(dir, 'ao.db');
  });
  afterEach(() => {
    for (const db of open.splice(0)) if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates a v2 database to 3 keeping its lanes, then stores, edits, sends, judges and deletes comments', () => {
    const v2 = openDb(file, { migrations: MIGRATIONS.filter((m) => m.version <= 2) });
    open.push(v2);
    expect(schemaVersion(v2)).toBe(2);
    createSession(v2, { id: 's1', repo: '/r' });
    const lane = insertLane(v2, {
      name: 'l1',
      sessionId: 's1',
      profile: 'demo',
      task: 't',
      branch: 'ao/l1',
      base: 'main',
      worktree: '/w',
      cols: 80,
      rows: 24,
    });
    v2.close();

    const db = openDb(file);
    open.push(db);
    expect(schemaVersion(db)).toBeGreaterThanOrEqual(3);
    const a = insertComment(db, {
      laneId: lane.id,
      file: 'src/b.js',
      line: 3,
      endLine: 5,
      commit: 'c1',
      excerpt: 'x\ny\nz',
      text: 'rename this',
      at: 1000,
    });
    const b = insertComment(db, {
      laneId: lane.id,
      file: 'src/a.js',
      line: 1,
      endLine: 1,
      commit: 'c1',
      excerpt: 'a',
      text: 'why?',
      at: 1001,
    });
    expect(a).toMatchObject({
      laneId: lane.id,
      file: 'src/b.js',
      line: 3,
      endLine: 5,
      commit: 'c1',
      excerpt: 'x\ny\nz',
      text: 'rename this',
      createdAt: 1000,
      updatedAt: 1000,
      sentAt: null,
      sentRound: null,
      status: 'draft',
      checkedHead: null,
      deleted: false,
    });
    // file and line order
    expect(listComments(db, lane.id).map((c) => c.id)).toEqual([b.id, a.id]);
    expect(setCommentText(db, a.id, 'rename it to total', 2000)).toMatchObject({
      text: 'rename it to total',
      updatedAt: 2000,
      createdAt: 1000,
    });
    deleteComment(db, b.id, 2100);
    expect(listComments(db, lane.id).map((c) => c.id)).toEqual([a.id]);
    expect(listComments(db, lane.id, { includeDeleted: true })).toHaveLength(2);
    expect(getComment(db, b.id)?.deleted).toBe(true);
    markSent(db, [a.id], 1, 3000);
    expect(getComment(db, a.id)).toMatchObject({ status: 'sent', sentAt: 3000, sentRound: 1 });
    markSent(db, [a.id], 2, 4000); // only drafts are sent
    expect(getComment(db, a.id)).toMatchObject({ sentRound: 1, sentAt: 3000 });
    setCommentOutcome(db, a.id, 'addressed', 'c2');
    // replay marks when comments were made and sent
    appendEvent(db, { laneId: lane.id, kind: 'comment', tMs: 500, cause: 'src/b.js:3-5: rename this' });
    appendEvent(db, { laneId: lane.id, kind: 'comments-sent', tMs: 900, cause: '1 review comment sent (round 1)' });
    const marks = buildMarks(
      listEvents(db, lane.id),
      [],
      (e) => e.tMs ?? 0,
      () => 0,
    );
    expect(marks.filter((m) => m.kind === 'comment')).toEqual([
      { tMs: 500, kind: 'comment', label: 'comment src/b.js:3-5: rename this' },
      { tMs: 900, kind: 'comment', label: '1 review comment sent (round 1)' },
    ]);
    db.close();
    const again = openDb(file);
    open.push(again);
    expect(getComment(again, a.id)).toMatchObject({
      status: 'addressed',
      checkedHead: 'c2',
      text: 'rename it to total',
    });
    expect(() => again.prepare(`UPDATE comments SET status = 'bogus' WHERE id = ?`).run(a.id)).toThrow(/CHECK/);
  });
});

describe('which lines a later commit changed', () => {
  let repo: TempRepo;
  beforeEach(async () => {
    repo = await createTempRepo();
  });
  afterEach(() => repo.cleanup());

  it('parses zero-context hunks by their old side and tells which ranges they touch', () => {
    const hunks = parseOldHunks('@@ -2 +2 @@\n-b\n+B\n@@ -5,0 +6,2 @@\n+n\n+m\n@@ -8,2 +10,0 @@\n-h\n-i\n');
    expect(hunks).toEqual([
      { start: 2, count: 1 },
      { start: 5, count: 0 },
      { start: 8, count: 2 },
    ]);
    expect(hunksTouch(hunks, 1, 1)).toBe(false);
    expect(hunksTouch(hunks, 2, 2)).toBe(true);
    expect(hunksTouch(hunks, 3, 4)).toBe(false);
    expect(hunksTouch(hunks, 5, 5)).toBe(true); // lines inserted right after it
    expect(hunksTouch(hunks, 6, 7)).toBe(false);
    expect(hunksTouch(hunks, 9, 12)).toBe(true);
  });

  it('reads a file at a commit and says whether a later commit changed given lines', async () => {
    const c1 = await commitFile(repo.dir, 'src/x.js', 'one\ntwo\nthree\nfour\n', 'first');
    const c2 = await commitFile(repo.dir, 'src/x.js', 'one\nTWO\nthree\nfour\n', 'second');
    expect(await fileLinesAt(repo.dir, c1, 'src/x.js')).toEqual(['one', 'two', 'three', 'four']);
    expect(await fileLinesAt(repo.dir, c1, 'src/none.js')).toBeNull();
    expect(await linesChanged(repo.dir, c1, c2, 'src/x.js', 2, 2)).toBe(true);
    expect(await linesChanged(repo.dir, c1, c2, 'src/x.js', 1, 1)).toBe(false);
    expect(await linesChanged(repo.dir, c1, c2, 'src/x.js', 3, 4)).toBe(false);
    expect(await linesChanged(repo.dir, c1, c2, 'src/x.js', 1, 3)).toBe(true);
    // a name that looks like an option is a path after `--`
    expect(await linesChanged(repo.dir, c1, c2, '--output=/tmp/x', 1, 1)).toBe(false);
  });
});
