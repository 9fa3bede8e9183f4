/**
 * The store's read models on a real SQLite file: lane history (lanes/store/history.ts), the
 * metrics counts (lanes/store/metrics.ts, through computeMetrics), what gc and replay read of
 * lanes and output (lanes/store/lanes.ts, output.ts), verdicts and closures (review.ts), the
 * injection log (learnings.ts), the recorder's batch writer and the transaction helpers (open.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeMetrics } from '../../lanes/learnings/metrics.js';
import { appendEvent } from '../../lanes/store/events.js';
import {
  findRecordedLane,
  laneOutcomesOfSession,
  lanesOfSession,
  outcomesClosedSince,
  listHistory,
  listLaneSummaries,
} from '../../lanes/store/history.js';
import {
  getLane,
  insertLane,
  latestClosedLanes,
  markLaneClosed,
  openLaneNames,
  setLaneState,
  updateLane,
  type LaneRow,
} from '../../lanes/store/lanes.js';
import { creditLane, injectedInto, insertLearning, recordInjection } from '../../lanes/store/learnings.js';
import { openDb, readTransaction, writeTransaction, type Db } from '../../lanes/store/open.js';
import {
  chunkIndexSince,
  chunkPage,
  createOutputWriter,
  deleteRecordings,
  insertChunks,
  insertKeyframe,
  keyframeAt,
  keyframeIndexSince,
  outputTotals,
  recordingsClosedBefore,
} from '../../lanes/store/output.js';
import {
  insertDecision,
  insertVerdict,
  listVerdicts,
  recentClosures,
  upsertClosure,
} from '../../lanes/store/review.js';
import { createSession, sessionIdsStartingWith } from '../../lanes/store/sessions.js';
import type { GateVerdict } from '../../lanes/supervisor/api.js';

let dir: string;
let db: Db;
const DAY = 86_400_000;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ao-db-'));
  db = openDb(path.join(dir, 'ao.db'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const session = (id: string, startedAt = Date.now()) => createSession(db, { repo: '/r', id, startedAt });
const lane = (sessionId: string, name: string, profile = 'demo'): LaneRow =>
  insertLane(db, {
    name,
    sessionId,
    profile,
    task: `task of ${name}`,
    branch: `ao/${name}`,
    base: 'main',
    worktree: `/wt/${name}`,
    cols: 80,
    rows: 24,
  });
const verdict = (gate: string, status: GateVerdict['status'], required = true): GateVerdict => ({
  gate,
  status,
  required,
  durationMs: 5,
  exitCode: status === 'PASS' ? 0 : 1,
  output: '',
  commit: 'c0ffee',
  stale: false,
  at: Date.now(),
});
const chunk = (laneId: number, seq: number, text = `c${seq}`) => ({
  laneId,
  seq,
  tMs: seq * 10,
  data: Buffer.from(text),
});

describe('lane history', () => {
  it('listLaneSummaries: newest first, with the outcome, filtered by session prefix and openness', () => {
    session('aaaa-1');
    session('bbbb-2');
    const a = lane('aaaa-1', 'a');
    const b = lane('aaaa-1', 'b');
    const c = lane('bbbb-2', 'c');
    upsertClosure(db, a.id, 'merged', {});
    markLaneClosed(db, a.id);
    const all = listLaneSummaries(db, { limit: 10 });
    expect(all.map((r) => r.name)).toEqual(['c', 'b', 'a']);
    expect(all[2]).toEqual({
      id: a.id,
      name: 'a',
      sessionId: 'aaaa-1',
      profile: 'demo',
      task: 'task of a',
      branch: 'ao/a',
      base: 'main',
      state: 'created',
      stateSince: a.stateSince,
      createdAt: a.createdAt,
      closedAt: expect.any(Number),
      reworkCount: 0,
      outcome: 'merged',
    });
    // `ao-console lanes --json` prints these rows: their keys, in this order, are its output.
    expect(Object.keys(all[2])).toEqual([
      'id',
      'name',
      'sessionId',
      'profile',
      'task',
      'branch',
      'base',
      'state',
      'stateSince',
      'createdAt',
      'closedAt',
      'reworkCount',
      'outcome',
    ]);
    expect(listLaneSummaries(db, { sessionPrefix: 'aa', limit: 10 }).map((r) => r.name)).toEqual(['b', 'a']);
    expect(listLaneSummaries(db, { open: true, limit: 10 }).map((r) => r.name)).toEqual(['c', 'b']);
    expect(listLaneSummaries(db, { limit: 1 }).map((r) => r.id)).toEqual([c.id]);
    expect(b.id).toBeLessThan(c.id);
  });

  it('listHistory and lanesOfSession: replay history rows with the outcome and output bytes', () => {
    session('s1');
    session('s2');
    const a = lane('s1', 'a');
    lane('s2', 'b');
    insertChunks(db, [chunk(a.id, 0, 'hello')]);
    upsertClosure(db, a.id, 'discarded', {});
    expect(listHistory(db).map((h) => h.name)).toEqual(['b', 'a']);
    expect(lanesOfSession(db, 's1')).toEqual([
      {
        laneId: a.id,
        name: 'a',
        sessionId: 's1',
        profile: 'demo',
        task: 'task of a',
        state: 'created',
        createdAt: a.createdAt,
        closedAt: null,
        outcome: 'discarded',
        outputBytes: 5,
      },
    ]);
    expect(listHistory(db, 1)).toHaveLength(1);
  });

  it('laneOutcomesOfSession counts closures, and the state of lanes still open', () => {
    session('s1');
    const a = lane('s1', 'a');
    const b = lane('s1', 'b');
    lane('s1', 'c');
    upsertClosure(db, a.id, 'merged', {});
    upsertClosure(db, b.id, 'merged', {});
    expect(laneOutcomesOfSession(db, 's1')).toEqual([
      { outcome: 'created', n: 1 },
      { outcome: 'merged', n: 2 },
    ]);
  });

  it("outcomesClosedSince: other sessions' lanes closed since then, by closure outcome (else state)", () => {
    const since = Date.now() - DAY / 2;
    session('old');
    session('now');
    const closed = (sessionId: string, name: string, outcome: string | null, at: number) => {
      const l = lane(sessionId, name);
      if (outcome) upsertClosure(db, l.id, outcome, {});
      else setLaneState(db, l.id, 'failed', at);
      markLaneClosed(db, l.id, at);
    };
    closed('old', 'm1', 'merged', since + 1000);
    closed('old', 'm2', 'merged', since);
    closed('old', 'r1', 'rejected', since + 5);
    closed('old', 'f1', null, since + 9);
    closed('old', 'early', 'merged', since - 1);
    closed('now', 'mine', 'merged', since + 10);
    lane('old', 'open');
    expect(outcomesClosedSince(db, since, 'now')).toEqual([
      { outcome: 'failed', n: 1 },
      { outcome: 'merged', n: 2 },
      { outcome: 'rejected', n: 1 },
    ]);
    expect(outcomesClosedSince(db, since, 'other')).toContainEqual({ outcome: 'merged', n: 3 });
  });

  it('findRecordedLane: by name the open lane, else the latest; by id that lane', () => {
    session('s1');
    const first = lane('s1', 'x');
    markLaneClosed(db, first.id);
    const second = lane('s1', 'x');
    markLaneClosed(db, second.id);
    expect(findRecordedLane(db, { name: 'x' })).toEqual({ id: second.id, sessionId: 's1' });
    const open = lane('s1', 'x');
    expect(findRecordedLane(db, { name: 'x' })).toEqual({ id: open.id, sessionId: 's1' });
    expect(findRecordedLane(db, { id: first.id })).toEqual({ id: first.id, sessionId: 's1' });
    expect(findRecordedLane(db, { name: 'nope' })).toBeUndefined();
  });

  it('sessionIdsStartingWith: newest first', () => {
    session('abc-old', 1000);
    session('abc-new', 2000);
    session('xyz', 3000);
    expect(sessionIdsStartingWith(db, 'abc')).toEqual(['abc-new', 'abc-old']);
    expect(sessionIdsStartingWith(db, 'q')).toEqual([]);
  });
});

describe('what gc reads and drops', () => {
  it('openLaneNames and latestClosedLanes: the latest row of each name when it is closed', () => {
    session('s1');
    const old = lane('s1', 'x');
    markLaneClosed(db, old.id, 1000);
    const y = lane('s1', 'y');
    markLaneClosed(db, y.id, 2000);
    lane('s1', 'x'); // x is open again: its closed row is not the latest
    expect(openLaneNames(db)).toEqual(['x']);
    expect(latestClosedLanes(db)).toEqual([
      { id: y.id, name: 'y', branch: 'ao/y', base: 'main', worktree: '/wt/y', closedAt: 2000 },
    ]);
  });

  it('recordingsClosedBefore and deleteRecordings: old closed recordings only, the lanes stay', () => {
    session('s1');
    const old = lane('s1', 'old');
    const recent = lane('s1', 'recent');
    const open = lane('s1', 'open');
    for (const l of [old, recent, open]) insertChunks(db, [chunk(l.id, 0, 'ab'), chunk(l.id, 1, 'cde')]);
    insertKeyframe(db, { laneId: old.id, seq: 1, tMs: 10, cols: 80, rows: 24, data: 'kf' });
    markLaneClosed(db, old.id, Date.now() - 40 * DAY);
    markLaneClosed(db, recent.id, Date.now() - DAY);
    const found = recordingsClosedBefore(db, Date.now() - 30 * DAY);
    expect(found).toEqual([{ laneId: old.id, lane: 'old', closedAt: expect.any(Number), chunks: 2, bytes: 5 }]);
    deleteRecordings(db, [old.id]);
    expect(outputTotals(db, old.id).chunks).toBe(0);
    expect(keyframeAt(db, old.id, 1)).toBeUndefined();
    expect(outputTotals(db, recent.id).chunks).toBe(2);
    expect(getLane(db, old.id)?.name).toBe('old');
    expect(recordingsClosedBefore(db, Date.now() - 30 * DAY)).toEqual([]);
  });
});

describe('what replay reads', () => {
  it('indexes chunks and keyframes after a seq, and reads keyframes and pages of chunks', () => {
    session('s1');
    const l = lane('s1', 'a');
    insertChunks(
      db,
      [0, 1, 2, 3].map((seq) => chunk(l.id, seq, 'x'.repeat(seq + 1))),
    );
    insertKeyframe(db, { laneId: l.id, seq: 0, tMs: 0, cols: 80, rows: 24, data: '\x1bcfresh' });
    insertKeyframe(db, { laneId: l.id, seq: 2, tMs: 20, cols: 100, rows: 30, data: 'later' });
    expect(chunkIndexSince(db, l.id, 1)).toEqual([
      { seq: 2, tMs: 20, bytes: 3 },
      { seq: 3, tMs: 30, bytes: 4 },
    ]);
    expect(keyframeIndexSince(db, l.id, -1, '\x1bc')).toEqual([
      { seq: 0, tMs: 0, cols: 80, rows: 24, reset: true },
      { seq: 2, tMs: 20, cols: 100, rows: 30, reset: false },
    ]);
    expect(keyframeIndexSince(db, l.id, 0, '\x1bc').map((k) => k.seq)).toEqual([2]);
    expect(keyframeAt(db, l.id, 2)).toEqual({ laneId: l.id, seq: 2, tMs: 20, cols: 100, rows: 30, data: 'later' });
    expect(keyframeAt(db, l.id, 1)).toBeUndefined();
    const page = chunkPage(db, l.id, 1, 3, 2);
    expect(page.map((c) => [c.laneId, c.seq, c.tMs, c.data.toString()])).toEqual([
      [l.id, 1, 10, 'xx'],
      [l.id, 2, 20, 'xxx'],
    ]);
  });

  it('listVerdicts: every run, in order, the run id as text and required as a boolean', () => {
    session('s1');
    const l = lane('s1', 'a');
    insertVerdict(db, l.id, 1, verdict('test', 'FAIL'));
    insertVerdict(db, l.id, 2, verdict('lint', 'PASS', false));
    const verdicts = listVerdicts(db, l.id);
    expect(verdicts).toEqual([
      expect.objectContaining({ gate: 'test', status: 'FAIL', required: true, exitCode: 1 }),
      expect.objectContaining({ gate: 'lint', status: 'PASS', required: false, commit: 'c0ffee' }),
    ]);
    // run_id is a TEXT column: a numeric run id comes back as text (SQLite writes the bound number as '1.0')
    expect(verdicts.map((v) => typeof v.runId)).toEqual(['string', 'string']);
    expect(Number(verdicts[0].runId)).toBe(1);
    expect(Number(verdicts[1].runId)).toBe(2);
  });
});

describe('recentClosures', () => {
  it('gives each closed lane with its latest decision reason and state cause, newest first, one lane left out', () => {
    session('s1');
    const a = lane('s1', 'a');
    const b = lane('s1', 'b');
    const c = lane('s1', 'c');
    setLaneState(db, a.id, 'discarded', { cause: 'rejected' });
    insertDecision(db, a.id, { lane: 'a', action: 'reject', mode: 'discard', reason: 'too big', by: 'op', at: 1 });
    setLaneState(db, b.id, 'failed', { cause: 'agent exited 1' });
    upsertClosure(db, a.id, 'discarded', {});
    db.prepare('UPDATE closures SET at = 1000 WHERE lane_id = ?').run(a.id);
    upsertClosure(db, b.id, 'failed', {});
    db.prepare('UPDATE closures SET at = 2000 WHERE lane_id = ?').run(b.id);
    upsertClosure(db, c.id, 'merged', {});
    db.prepare('UPDATE closures SET at = 3000 WHERE lane_id = ?').run(c.id);
    expect(recentClosures(db, { excludeLaneId: c.id })).toEqual([
      { id: b.id, name: 'b', task: 'task of b', outcome: 'failed', at: 2000, reason: null, cause: 'agent exited 1' },
      { id: a.id, name: 'a', task: 'task of a', outcome: 'discarded', at: 1000, reason: 'too big', cause: 'rejected' },
    ]);
    expect(recentClosures(db, { limit: 1 }).map((r) => r.name)).toEqual(['c']);
  });
});

describe('metrics', () => {
  it('pass rate per profile, decisions, median wait from handoff to decision, rework', () => {
    session('s1');
    const a = lane('s1', 'a', 'claude');
    const b = lane('s1', 'b', 'codex');
    // a: run 1 fails a required gate, run 2 passes (an optional failure does not count)
    insertVerdict(db, a.id, 1, verdict('test', 'FAIL'));
    insertVerdict(db, a.id, 2, verdict('test', 'PASS'));
    insertVerdict(db, a.id, 2, verdict('lint', 'FAIL', false));
    insertVerdict(db, b.id, 1, verdict('test', 'PASS'));
    appendEvent(db, { laneId: a.id, kind: 'handoff', at: 1000 });
    insertDecision(db, a.id, { lane: 'a', action: 'reject', mode: 'rework', by: 'op', at: 4000 });
    appendEvent(db, { laneId: a.id, kind: 'handoff', at: 5000 });
    insertDecision(db, a.id, { lane: 'a', action: 'approve', by: 'op', at: 6000 });
    insertDecision(db, b.id, { lane: 'b', action: 'approve', by: 'op', at: 9000 }); // no handoff: no wait
    updateLane(db, a.id, { reworkCount: 2 });
    expect(computeMetrics(db)).toEqual({
      gates: [
        { profile: 'claude', runs: 2, passed: 1, passRate: 0.5 },
        { profile: 'codex', runs: 1, passed: 1, passRate: 1 },
      ],
      approvals: 2,
      rejections: 1,
      medianDecisionMs: 2000,
      reworkCount: 2,
      lanesReworked: 1,
      // no lane here has usage (lanes/usage/) or a closure: test/unit/usageBudget.test.ts counts them
      cost: { merged: { lanes: 0, usd: 0, perLane: null }, rejected: { lanes: 0, usd: 0, perLane: null } },
    });
  });
});

describe('the injection log', () => {
  it('records each learning once per lane, and credits utility to the learnings a lane was briefed with', () => {
    session('s1');
    const l = lane('s1', 'a');
    const id = insertLearning(db, {
      text: 'run the tests',
      norm: 'run tests',
      category: 'general',
      source: 'operator',
      laneId: null,
      sessionId: null,
      createdAt: 1000,
      confidence: 0.5,
      utility: 0,
      maturity: 'provisional',
      tombstoned: false,
      tombstoneReason: null,
    });
    recordInjection(db, l.id, [{ id, section: 'learning', score: 0.7 }], 2000);
    recordInjection(db, l.id, [{ id, section: 'learning', score: 0.7 }], 3000);
    expect(creditLane(db, l.id, 1, 4000)).toBe(1);
    expect(injectedInto(db, l.id)).toEqual([{ learningId: id, section: 'learning', utilityDelta: 1 }]);
    expect(db.prepare('SELECT uses, utility, last_used_at FROM learnings WHERE id = ?').get(id)).toEqual({
      uses: 1,
      utility: 1,
      last_used_at: 4000,
    });
  });
});

describe('the recorder writer', () => {
  it('commits a batch, skips the rows a constraint refuses, and counts only the bytes stored', () => {
    session('s1');
    const l = lane('s1', 'a');
    insertChunks(db, [chunk(l.id, 0, 'zz')]);
    const data = Buffer.from('abcdef');
    const rejected = createOutputWriter(db).commit({
      lane: [l.id, l.id, l.id],
      seq: [0, 1, 2], // seq 0 is taken
      tMs: [0, 10, 20],
      end: [2, 4, 6],
      data: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      keyframes: [{ laneId: l.id, seq: 2, tMs: 20, cols: 80, rows: 24, data: 'kf' }],
    });
    expect(rejected).toEqual([expect.stringMatching(/^lane \d+ seq 0: UNIQUE constraint failed/)]);
    expect(chunkPage(db, l.id, 0, 9, 10).map((c) => c.data.toString())).toEqual(['zz', 'cd', 'ef']);
    expect(getLane(db, l.id)?.outputBytes).toBe(6);
    expect(keyframeAt(db, l.id, 2)?.data).toBe('kf');
  });
});

describe('transactions', () => {
  it('writeTransaction rolls everything back when its function throws', () => {
    expect(() =>
      writeTransaction(db, () => {
        session('s1');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(sessionIdsStartingWith(db, 's1')).toEqual([]);
    expect(writeTransaction(db, () => session('s2').id)).toBe('s2');
  });

  it('readTransaction returns what its function returns', () => {
    session('s1');
    expect(readTransaction(db, () => sessionIdsStartingWith(db, 's'))).toEqual(['s1']);
  });
});
