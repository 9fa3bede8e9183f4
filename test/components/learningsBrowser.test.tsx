/** The learnings browser and the metrics panel, driven by keys against a real learnings store. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ConsoleMetrics, LearningInfo } from '../../lanes/supervisor/api.js';
import { openDb, type Db } from '../../lanes/store/open.js';
import { captureLearning, editLearning, listLearnings, tombstoneLearning } from '../../lanes/learnings/store.js';
import { FakeSupervisor, plain, renderApp, type Rendered } from './harness.js';

class LearningSupervisor extends FakeSupervisor {
  constructor(private readonly db: Db) {
    super([]);
  }
  async listLearnings(query?: string, opts: { includeTombstoned?: boolean } = {}): Promise<LearningInfo[]> {
    return listLearnings(this.db, { query, ...opts });
  }
  async tombstoneLearning(id: number, reason: string): Promise<void> {
    tombstoneLearning(this.db, id, reason);
  }
  async editLearning(id: number, text: string): Promise<void> {
    editLearning(this.db, id, text);
  }
  async metrics(): Promise<ConsoleMetrics> {
    return {
      gates: [{ profile: 'demo', runs: 4, passed: 3, passRate: 0.75 }],
      approvals: 3,
      rejections: 1,
      medianDecisionMs: 95_000,
      reworkCount: 2,
      lanesReworked: 1,
    };
  }
}

let r: Rendered | null = null;
let dir: string;
let db: Db;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ao-lb-'));
  db = openDb(path.join(dir, 'ao.db'));
  captureLearning(db, {
    text: 'never edit generated files',
    category: 'constraint',
    source: 'rejection',
    laneId: null,
    sessionId: null,
  });
  captureLearning(db, {
    text: 'the api client lives in src/api',
    category: 'note',
    source: 'operator',
    laneId: null,
    sessionId: null,
  });
});
afterEach(async () => {
  r?.unmount();
  r = null;
  db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('learnings browser', () => {
  it('searches, tombstones with a reason and edits text by keys', async () => {
    r = renderApp(new LearningSupervisor(db), { cols: 100, rows: 30 });
    await r.pressBinding('learnings.open');
    let frame = plain(
      await r.waitFor((f) => f.includes('never edit generated files') && f.includes('src/api'), 'both learnings'),
    );
    expect(frame).toContain('Learnings — 2');

    await r.pressBinding('learnings.search');
    await r.type('generated');
    await r.press('enter');
    frame = plain(await r.waitFor((f) => f.includes('matching "generated"'), 'search applied'));
    expect(frame).not.toContain('src/api');
    expect(frame).toContain('constraint from rejection');

    await r.pressBinding('learnings.tombstone');
    await r.type('files are no longer generated');
    await r.press('enter');
    await r.waitFor((f) => plain(f).includes('no learning matches'), 'tombstoned learning hidden');
    expect(listLearnings(db, { includeTombstoned: true }).find((l) => l.category === 'constraint')).toMatchObject({
      tombstoned: true,
      tombstoneReason: 'files are no longer generated',
    });
    await r.pressBinding('learnings.showTombstoned');
    frame = plain(
      await r.waitFor((f) => f.includes('tombstoned: files are no longer generated'), 'tombstone reason shown'),
    );

    // a tombstoned learning cannot be edited: the key says why
    await r.pressBinding('learnings.edit');
    await r.waitFor((f) => plain(f).includes('is tombstoned'), 'refusal in the flash line');

    await r.pressBinding('learnings.search');
    for (let i = 0; i < 'generated'.length; i++) await r.press('backspace');
    await r.type('client');
    await r.press('enter');
    await r.waitFor((f) => plain(f).includes('matching "client"'), 'second search');
    await r.pressBinding('learnings.edit');
    await r.type(' and src/api/gen');
    await r.press('enter');
    await r.waitFor((f) => plain(f).includes('the api client lives in src/api and src/api/gen'), 'edited text shown');
    expect(listLearnings(db, { query: 'client' })[0].text).toBe('the api client lives in src/api and src/api/gen');

    await r.pressBinding('learnings.cancel');
    await r.waitFor((f) => !plain(f).includes('Learnings'), 'back on the dashboard');
  });

  it('a learning captured while the browser is open shows at once (issue 17: it lagged)', async () => {
    const sup = new LearningSupervisor(db);
    r = renderApp(sup, { cols: 100, rows: 30 });
    await r.pressBinding('learnings.open');
    await r.waitFor((f) => plain(f).includes('Learnings — 2'), 'two learnings');
    // an agent's LEARNING: line, captured by the engine, which tells its clients
    captureLearning(db, {
      text: 'run the migrations before the tests',
      category: 'agent',
      source: 'agent-output',
      laneId: null,
      sessionId: null,
    });
    sup.emit({ type: 'learning', text: 'run the migrations before the tests' });
    const frame = plain(await r.waitFor((f) => plain(f).includes('Learnings — 3'), 'the new learning listed'));
    expect(frame).toContain('run the migrations before the tests');
  });

  it('shows the metrics panel', async () => {
    r = renderApp(new LearningSupervisor(db), { cols: 100, rows: 30 });
    await r.pressBinding('metrics.open');
    const frame = plain(await r.waitFor((f) => f.includes('rejections'), 'metrics'));
    expect(frame).toContain('approvals 3, rejections 1 (75% approved)');
    expect(frame).toContain('median time from handoff to decision: 1m35s');
    expect(frame).toContain('rework: 2 rejections with rework over 1 lane');
    expect(frame).toMatch(/demo\s+4\s+3\s+75%/);
  });
});
