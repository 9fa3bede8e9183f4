import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  integrityCheck,
  latestVersion,
  migrate,
  openDb,
  schemaVersion,
  SchemaTooNewError,
  SchemaTooOldError,
  type Db,
} from '../../lanes/store/open.js';
import { MIGRATIONS } from '../../lanes/store/migrations.js';
import { createSession, endSession, latestSession, listSessions } from '../../lanes/store/sessions.js';
import {
  getLane,
  getLaneByName,
  insertLane,
  LaneNameTakenError,
  listLanesBySession,
  listOpenLanes,
  markLaneClosed,
  setLaneState,
  updateLane,
  type NewLane,
} from '../../lanes/store/lanes.js';
import { appendEvent, listEvents } from '../../lanes/store/events.js';
import {
  createOutputWriter,
  insertChunks,
  insertKeyframe,
  KEYFRAME_AT_SQL,
  keyframeAtOrBefore,
  LAST_SEQ_SQL,
  lastSeq,
  outputTotals,
  readAll,
  READ_FROM_SEQ_SQL,
  type OutputBatch,
} from '../../lanes/store/output.js';

let dir: string;
let file: string;
const open: Db[] = [];
const track = (db: Db) => (open.push(db), db);

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ao-db-'));
  file = path.join(dir, 'ao.db');
});
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const mode = (f: string) => statSync(f).mode & 0o777;

function newLane(db: Db, sessionId: string, name: string, extra: Partial<NewLane> = {}) {
  return insertLane(db, {
    name,
    sessionId,
    profile: 'demo',
    task: `task of ${name}`,
    branch: `ao/${name}`,
    base: 'main',
    worktree: `/tmp/wt/${name}`,
    cols: 120,
    rows: 40,
    ...extra,
  });
}

describe('openDb', () => {
  it('creates the database, its -wal and -shm 0600 under a 022 umask', () => {
    const old = process.umask(0o022);
    try {
      const db = track(openDb(file));
      createSession(db, { repo: '/r' }); // a write, so the WAL holds frames
      expect(mode(file)).toBe(0o600);
      expect(mode(`${file}-wal`)).toBe(0o600);
      expect(mode(`${file}-shm`)).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });

  it('tightens a database file that already exists 0644', () => {
    // (an empty file is refused since issue 12: test/integration/dbDamage.test.ts)
    openDb(file).close();
    chmodSync(file, 0o644);
    track(openDb(file));
    expect(mode(file)).toBe(0o600);
  });

  it('sets the connection pragmas', () => {
    const db = track(openDb(file));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const auto = track(openDb(file, { autoCheckpoint: true }));
    expect(auto.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });

  it('runs the migrations once; re-opening keeps schema and data', () => {
    const db = track(openDb(file));
    expect(schemaVersion(db)).toBe(latestVersion());
    const tables = (
      db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    for (const t of [
      'sessions',
      'lanes',
      'lane_events',
      'output_chunks',
      'keyframes',
      'gate_verdicts',
      'decisions',
      'closures',
      'learnings',
    ]) {
      expect(tables).toContain(t);
    }
    createSession(db, { id: 's1', repo: '/r' });
    db.close();
    const again = track(openDb(file));
    expect(schemaVersion(again)).toBe(latestVersion());
    expect(listSessions(again).map((s) => s.id)).toEqual(['s1']);
    expect(integrityCheck(again)).toEqual([]);
  });

  it('applies later migrations step by step and rolls a failing one back whole', () => {
    track(openDb(file, { migrations: MIGRATIONS })).close();
    const next = latestVersion() + 1;
    const v2 = { version: next, up: 'CREATE TABLE extra (x INTEGER); INSERT INTO extra VALUES (1);' };
    const bad = { version: next + 1, up: 'CREATE TABLE extra3 (x INTEGER); INSERT INTO nowhere VALUES (1);' };
    expect(() => openDb(file, { migrations: [...MIGRATIONS, v2, bad] })).toThrow(/nowhere/);
    const db = track(openDb(file, { migrations: [...MIGRATIONS, v2] }));
    expect(schemaVersion(db)).toBe(next);
    expect(db.prepare('SELECT x FROM extra').pluck().all()).toEqual([1]);
    expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'extra3'").pluck().get()).toBe(0);
    migrate(db, file, [...MIGRATIONS, v2]); // nothing left to do
    expect(db.prepare('SELECT count(*) FROM extra').pluck().get()).toBe(1);
  });

  it('refuses a database from a newer ao-console with a clear error', () => {
    track(openDb(file)).close();
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.close();
    const known = latestVersion();
    expect(() => openDb(file)).toThrow(SchemaTooNewError);
    expect(() => openDb(file)).toThrow(
      `database ${file} has schema version 99, this ao-console knows up to ${known}; upgrade ao-console`,
    );
    expect(() => openDb(file, { readonly: true })).toThrow(SchemaTooNewError);
    const still = new Database(file);
    expect(still.pragma('user_version', { simple: true })).toBe(99); // untouched
    still.close();
  });

  it('read-only connections read a migrated database and refuse an old one', () => {
    const db = track(openDb(file));
    createSession(db, { id: 's1', repo: '/r' });
    const ro = track(openDb(file, { readonly: true }));
    expect(latestSession(ro)?.id).toBe('s1');
    expect(() => ro.prepare("INSERT INTO sessions (id, repo, pid, started_at) VALUES ('x', '/r', 1, 1)").run()).toThrow(
      /readonly/,
    );
    const oldFile = path.join(dir, 'old.db');
    track(openDb(oldFile, { migrations: [] })).close();
    expect(() => openDb(oldFile, { readonly: true })).toThrow(SchemaTooOldError);
  });
});

describe('sessions', () => {
  it('creates, ends once, lists newest first', () => {
    const db = track(openDb(file));
    createSession(db, { id: 'a', repo: '/r', startedAt: 1000 });
    createSession(db, { id: 'b', repo: '/r', startedAt: 2000, pid: 42 });
    endSession(db, 'a', 'quit', 1500);
    endSession(db, 'a', 'again', 1600);
    expect(listSessions(db)).toEqual([
      { id: 'b', repo: '/r', pid: 42, startedAt: 2000, endedAt: null, endReason: null },
      { id: 'a', repo: '/r', pid: process.pid, startedAt: 1000, endedAt: 1500, endReason: 'quit' },
    ]);
    expect(latestSession(db)?.id).toBe('b');
  });
});

describe('lanes', () => {
  it('inserts with defaults and reads back camelCase', () => {
    const db = track(openDb(file));
    createSession(db, { id: 's', repo: '/r' });
    const lane = newLane(db, 's', 'alpha', { createdAt: 5000 });
    expect(lane).toMatchObject({
      name: 'alpha',
      sessionId: 's',
      state: 'created',
      stateSince: 5000,
      createdAt: 5000,
      startedAt: null,
      reworkCount: 0,
      empty: false,
      outputBytes: 0,
      closedAt: null,
    });
    expect(getLaneByName(db, 'alpha')?.id).toBe(lane.id);
    expect(listEvents(db, lane.id)).toMatchObject([
      { kind: 'state', fromState: null, toState: 'created', cause: 'created' },
    ]);
  });

  it('keeps names unique among lanes not closed', () => {
    const db = track(openDb(file));
    createSession(db, { id: 's', repo: '/r' });
    const first = newLane(db, 's', 'alpha');
    expect(() => newLane(db, 's', 'alpha')).toThrow(LaneNameTakenError);
    markLaneClosed(db, first.id, 9);
    const second = newLane(db, 's', 'alpha');
    expect(second.id).not.toBe(first.id);
    expect(getLaneByName(db, 'alpha')?.id).toBe(second.id);
    expect(listOpenLanes(db).map((l) => l.id)).toEqual([second.id]);
    expect(listLanesBySession(db, 's').map((l) => l.id)).toEqual([first.id, second.id]);
    markLaneClosed(db, second.id);
    expect(getLaneByName(db, 'alpha')?.id).toBe(second.id); // the latest closed one
  });

  it('refuses a lane of an unknown session (foreign keys are on)', () => {
    const db = track(openDb(file));
    expect(() => newLane(db, 'nope', 'alpha')).toThrow(/FOREIGN KEY/);
  });

  it('updates only the given fields', () => {
    const db = track(openDb(file));
    createSession(db, { id: 's', repo: '/r' });
    const lane = newLane(db, 's', 'alpha');
    const up = updateLane(db, lane.id, { pid: 123, procToken: 't', empty: true, exitCode: null, headCommit: 'abc' });
    expect(up).toMatchObject({
      pid: 123,
      procToken: 't',
      empty: true,
      exitCode: null,
      headCommit: 'abc',
      task: lane.task,
    });
    expect(() => updateLane(db, 999, { pid: 1 })).toThrow(/no lane/);
  });

  it('setLaneState changes state and state_since and writes the event in one go', () => {
    const db = track(openDb(file));
    createSession(db, { id: 's', repo: '/r' });
    const lane = newLane(db, 's', 'alpha', { createdAt: 1000 });
    updateLane(db, lane.id, { startedAt: 2000 });
    const { lane: after, event } = setLaneState(db, lane.id, 'starting', {
      cause: 'operator',
      at: 2500,
      data: { why: 1 },
    });
    expect(after.state).toBe('starting');
    expect(after.stateSince).toBe(2500);
    expect(event).toMatchObject({
      laneId: lane.id,
      at: 2500,
      tMs: 500,
      kind: 'state',
      fromState: 'created',
      toState: 'starting',
      cause: 'operator',
      data: { why: 1 },
    });
    setLaneState(db, lane.id, 'running', { cause: 'spawned', at: 2600 });
    appendEvent(db, { laneId: lane.id, kind: 'context-packet', at: 2700, data: { learnings: [1, 2] } });
    const events = listEvents(db, lane.id);
    expect(events.map((e) => [e.kind, e.fromState, e.toState])).toEqual([
      ['state', null, 'created'],
      ['state', 'created', 'starting'],
      ['state', 'starting', 'running'],
      ['context-packet', null, null],
    ]);
    expect(listEvents(db, lane.id, { kind: 'state', afterId: events[1].id }).map((e) => e.toState)).toEqual([
      'running',
    ]);
    expect(() => setLaneState(db, 999, 'running', { cause: 'x' })).toThrow(/no lane/);
    expect(db.prepare('SELECT count(*) FROM lane_events WHERE lane_id = 999').pluck().get()).toBe(0);
  });
});

describe('output', () => {
  function seed(db: Db) {
    createSession(db, { id: 's', repo: '/r' });
    const a = newLane(db, 's', 'a');
    const b = newLane(db, 's', 'b');
    const chunks = [];
    for (let seq = 0; seq < 1000; seq++) {
      chunks.push({ laneId: a.id, seq, tMs: seq * 10, data: Buffer.from(`a${seq};`) });
      chunks.push({ laneId: b.id, seq, tMs: seq * 5, data: Buffer.from(`b${seq};`) });
    }
    insertChunks(db, chunks);
    return { a, b };
  }

  it('reads everything from a seq in order, the last seq, and totals', () => {
    const db = track(openDb(file));
    const { a, b } = seed(db);
    const from = [...readAll(db, a.id, 10)];
    expect(from.slice(0, 3).map((c) => c.seq)).toEqual([10, 11, 12]);
    expect(from[0].data.toString()).toBe('a10;');
    expect(lastSeq(db, a.id)).toBe(999);
    expect(lastSeq(db, 999)).toBe(-1);
    const all = [...readAll(db, b.id, 998)];
    expect(all.map((c) => c.data.toString())).toEqual(['b998;', 'b999;']);
    const bytes = [...readAll(db, a.id)].reduce((n, c) => n + c.data.length, 0);
    expect(outputTotals(db, a.id)).toEqual({ chunks: 1000, bytes, firstMs: 0, lastMs: 9990, lastSeq: 999 });
    expect(getLane(db, a.id)?.outputBytes).toBe(bytes);
    expect(outputTotals(db, 999)).toEqual({ chunks: 0, bytes: 0, firstMs: null, lastMs: null, lastSeq: -1 });
    expect(() => insertChunks(db, [{ laneId: a.id, seq: 5, tMs: 0, data: Buffer.from('dup') }])).toThrow(/UNIQUE/);
  });

  it('finds the keyframe to seek from', () => {
    const db = track(openDb(file));
    const { a } = seed(db);
    insertKeyframe(db, { laneId: a.id, seq: 99, tMs: 990, cols: 80, rows: 24, data: 'k1' });
    insertKeyframe(db, { laneId: a.id, seq: 199, tMs: 1990, cols: 80, rows: 24, data: 'k2' });
    expect(keyframeAtOrBefore(db, a.id, 500)).toBeUndefined();
    expect(keyframeAtOrBefore(db, a.id, 1500)?.data).toBe('k1');
    expect(keyframeAtOrBefore(db, a.id, 1990)).toEqual({
      laneId: a.id,
      seq: 199,
      tMs: 1990,
      cols: 80,
      rows: 24,
      data: 'k2',
    });
  });

  it('answers replay reads with index range searches, never a table scan or a sort', () => {
    const db = track(openDb(file));
    seed(db);
    db.exec('ANALYZE'); // the plan must hold with statistics too
    const plan = (sql: string, ...params: number[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
    const last = plan(LAST_SEQ_SQL, 1);
    expect(last).toEqual([expect.stringMatching(/^SEARCH output_chunks USING COVERING INDEX output_chunks_seq/)]);
    const all = plan(READ_FROM_SEQ_SQL, 1, 0);
    expect(all).toEqual([
      expect.stringMatching(/^SEARCH output_chunks USING INDEX output_chunks_seq \(lane_id=\? AND seq>\?\)/),
    ]);
    const kf = plan(KEYFRAME_AT_SQL, 1, 100);
    expect(kf).toEqual([
      expect.stringMatching(/^SEARCH keyframes USING INDEX keyframes_time \(lane_id=\? AND t_ms<\?\)/),
    ]);
    for (const d of [...last, ...all, ...kf]) expect(d).not.toMatch(/^SCAN|TEMP B-TREE/);
  });

  it('drops the time index of a store from before migration 7, its chunks kept', () => {
    const old = openDb(file, { migrations: MIGRATIONS.filter((m) => m.version <= 6) });
    const { a } = seed(old);
    const index = (db: Db) =>
      db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'output_chunks_time'").pluck().get();
    expect(index(old)).toBe(1);
    old.close();
    const db = track(openDb(file));
    expect(index(db)).toBe(0);
    expect(lastSeq(db, a.id)).toBe(999);
    expect([...readAll(db, a.id, 999)].map((c) => c.data.toString())).toEqual(['a999;']);
  });

  it('commits of waiting lanes write fewer bytes to the WAL than the lanes output', () => {
    // 16 lanes redrawing a spinner and a box at 10 fps, committed each second as the recorder
    // does (bench/spinner.mjs): what the WAL takes per commit once the indexes have grown
    const db = track(openDb(file));
    createSession(db, { id: 's', repo: '/r' });
    const ids = Array.from({ length: 16 }, (_, i) => newLane(db, 's', `l${i}`).id);
    const writer = createOutputWriter(db);
    const glyphs = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
    const frame = (n: number) => {
      let out = `\x1b[1;1H\x1b[36m${glyphs[n % glyphs.length]}\x1b[0m Thinking… (${(n / 10).toFixed(1)}s)\x1b[K`;
      out += '\x1b[3;1H╭' + '─'.repeat(58) + '╮';
      for (let r = 0; r < 18; r++) out += `\x1b[${4 + r};1H│ ${`row ${r} ${r === n % 18 ? '●' : '○'}`.padEnd(56)} │`;
      return Buffer.from(out + '\x1b[22;1H╰' + '─'.repeat(58) + '╯');
    };
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    let walBytes = 0;
    let outputBytes = 0;
    for (let second = 0; second < 120; second++) {
      const batch: OutputBatch = {
        lane: [],
        seq: [],
        tMs: [],
        end: [],
        data: new ArrayBuffer(0),
        keyframes: [],
        spanMs: 1000,
      };
      const parts: Buffer[] = [];
      let end = 0;
      for (let f = 0; f < 10; f++)
        for (const id of ids) {
          const bytes = frame(second * 10 + f + id);
          parts.push(bytes);
          end += bytes.byteLength;
          batch.lane.push(id);
          batch.seq.push(second * 10 + f);
          batch.tMs.push(second * 1000 + f * 100);
          batch.end.push(end);
        }
      batch.data = new Uint8Array(Buffer.concat(parts)).buffer;
      expect(writer.commit(batch)).toEqual([]);
      if (second % 5 === 4) {
        const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
        if (second >= 60) walBytes += log * pageSize; // the last minute: indexes grown
      }
      if (second >= 60) outputBytes += end;
    }
    // 0.62x with the seq index alone; 1.09x with the time index as well (a leaf page of each per lane per commit)
    expect(walBytes / outputBytes).toBeLessThan(0.85);
  });
});
