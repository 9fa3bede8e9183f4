/** The learnings flywheel's parts on their own: ranking, decay, dedup, budget trimming, the AgentOps format. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderBriefing } from '../../lanes/learnings/briefing.js';
import { openDb, type Db } from '../../lanes/store/open.js';
import { decayedConfidence, rankLearnings, type RankCandidate } from '../../lanes/learnings/rank.js';
import { ftsQueryOf, similarity } from '../../lanes/learnings/text.js';
import {
  captureLearning,
  listLearnings,
  tombstoneLearning,
  editLearning,
  allLearnings,
} from '../../lanes/learnings/store.js';
import { buildContextPacket } from '../../lanes/learnings/packet.js';
import { parseAgentsLearning, serializeAgentsLearning, AgentsFormatError } from '../../lanes/learnings/agentsFormat.js';
import { exportLearnings, importLearnings, readLearningsDir } from '../../lanes/learnings/transfer.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 1);
const cand = (id: number, over: Partial<RankCandidate> = {}): RankCandidate => ({
  id,
  bm25: -1,
  confidence: 0.5,
  utility: 0,
  createdAt: NOW,
  updatedAt: null,
  lastUsedAt: null,
  ...over,
});

describe('ranking and decay', () => {
  it('ranks by relevance first, then utility and recency break near-ties', () => {
    const ids = (cs: RankCandidate[]) => rankLearnings(cs, { now: NOW }).map((r) => r.item.id);
    expect(ids([cand(1, { bm25: -1 }), cand(2, { bm25: -5 }), cand(3, { bm25: -3 })])).toEqual([2, 3, 1]);
    expect(ids([cand(1), cand(2, { utility: 3 }), cand(3, { utility: -3 })])).toEqual([2, 1, 3]);
    expect(ids([cand(1, { createdAt: NOW - 30 * DAY }), cand(2)])).toEqual([2, 1]);
    // a useful learning beats a slightly more relevant useless one
    expect(ids([cand(1, { bm25: -1.1, utility: -4 }), cand(2, { bm25: -1, utility: 4 })])).toEqual([2, 1]);
  });

  it('decays confidence with time since the last use, and use resets the clock', () => {
    expect(decayedConfidence(0.8, NOW, NOW)).toBe(0.8);
    expect(decayedConfidence(0.8, NOW - 60 * DAY, NOW)).toBeCloseTo(0.4);
    expect(decayedConfidence(0.8, NOW - 120 * DAY, NOW)).toBeCloseTo(0.2);
    const old = cand(1, { createdAt: NOW - 400 * DAY });
    expect(rankLearnings([old], { now: NOW })).toEqual([]); // decayed below the floor: left out
    const used = cand(1, { createdAt: NOW - 400 * DAY, lastUsedAt: NOW - DAY });
    expect(rankLearnings([used], { now: NOW })[0].confidence).toBeGreaterThan(0.45);
  });
});

describe('text', () => {
  it('builds a safe FTS query of significant words and measures similarity', () => {
    expect(ftsQueryOf('Fix the "AND" OR bug in x')).toBe('"fix" OR "bug"');
    expect(ftsQueryOf('the of a')).toBeNull();
    expect(similarity('run migrations before the tests', 'Run the migrations before tests!')).toBe(1);
    expect(similarity('run migrations before tests', 'never edit generated files')).toBe(0);
  });
});

describe('store', () => {
  let dir: string;
  let db: Db;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ao-learn-'));
    db = openDb(path.join(dir, 'ao.db'));
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  const add = (text: string, category = 'note', over: Partial<Parameters<typeof captureLearning>[1]> = {}) =>
    captureLearning(db, { text, category, source: 'operator', laneId: null, sessionId: null, ...over });

  it('merges exact and near duplicates instead of storing them twice', () => {
    const a = add('Run the migrations before the tests');
    expect(a?.status).toBe('new');
    expect(add('run the migrations before the tests!')).toEqual({ id: a!.id, status: 'merged' });
    // two more significant words: 4 of 6 shared, different enough
    expect(add('always run the database migrations before the tests')?.status).toBe('new');
    // one more word: 4 of 5 shared, a near-duplicate of the first (and less like the second)
    expect(add('Run migrations before running the tests')).toEqual({ id: a!.id, status: 'merged' });
    // a near-duplicate in another category is another learning (the exact same text is not: norm is unique)
    expect(add('Run migrations before running the tests', 'finding')?.status).toBe('new');
    expect(add('run the migrations before the tests', 'finding')).toEqual({ id: a!.id, status: 'merged' });
    expect(add('   ')).toBeNull();
    const first = listLearnings(db).find((l) => l.id === a!.id)!;
    expect(first.confidence).toBeCloseTo(0.8);
    expect(listLearnings(db)).toHaveLength(3);
  });

  it('searches by full text, tombstones with a reason and edits text', () => {
    const a = add('never edit generated files', 'constraint')!;
    const b = add('the api client lives in src/client.ts')!;
    expect(listLearnings(db, { query: 'generated code' }).map((l) => l.id)).toEqual([a.id]);
    editLearning(db, b.id, 'the API client lives in src/api/client.ts');
    expect(listLearnings(db, { query: 'api' })[0].text).toBe('the API client lives in src/api/client.ts');
    tombstoneLearning(db, a.id, 'generated files are gone');
    expect(listLearnings(db, { query: 'generated' })).toEqual([]);
    const t = listLearnings(db, { query: 'generated', includeTombstoned: true })[0];
    expect(t).toMatchObject({ tombstoned: true, tombstoneReason: 'generated files are gone' });
    const packet = buildContextPacket(db, { lane: 'x', task: 'regenerate the generated api client' });
    expect(packet.constraints).toEqual([]); // tombstoned: never injected
    expect(packet.learnings.map((l) => l.id)).toEqual([b.id]);
  });

  it('trims HISTORY first, then LEARNINGS (least relevant first), never TASK or CONSTRAINTS', () => {
    const input = {
      lane: 'l',
      task: 'T'.repeat(300),
      constraints: ['c1'],
      learnings: ['l1 '.repeat(20), 'l2 '.repeat(20), 'l3 '.repeat(20)],
      history: ['h1 '.repeat(20), 'h2 '.repeat(20)],
    };
    const full = renderBriefing({ ...input, budget: 100_000 });
    expect(full.history).toHaveLength(2);
    const noHistory = renderBriefing({ ...input, budget: full.markdown.length - 10 });
    expect(noHistory.history).toEqual(['h1 '.repeat(20)]);
    expect(noHistory.learnings).toHaveLength(3);
    const fewer = renderBriefing({ ...input, budget: full.markdown.length - 150 });
    expect(fewer.history).toEqual([]);
    expect(fewer.learnings).toEqual(['l1 '.repeat(20), 'l2 '.repeat(20)]);
    const tiny = renderBriefing({ ...input, budget: 10 });
    expect(tiny.learnings).toEqual([]);
    expect(tiny.markdown).toContain('T'.repeat(300));
    expect(tiny.markdown).toContain('## CONSTRAINTS\n\n- c1');
    expect(tiny.markdown).not.toContain('## LEARNINGS');
    for (const r of [noHistory, fewer])
      expect(r.markdown.length).toBeLessThanOrEqual(
        r === noHistory ? full.markdown.length - 10 : full.markdown.length - 150,
      );
  });

  it('exports to and imports from the AgentOps format keeping text and fields', async () => {
    add('never edit generated files', 'constraint', {
      source: 'rejection',
      confidence: 0.7,
      maturity: 'established',
      utility: 1.5,
      createdAt: NOW - 3 * DAY,
    });
    const t = add('multi-line learning:\n  first: "quoted" # not a comment\n  second', 'finding', {
      source: 'gate-failure',
    })!;
    tombstoneLearning(db, t.id, 'obsolete: "old" gate');
    const out = path.join(dir, 'export');
    const files = exportLearnings(db, out);
    expect(files).toHaveLength(2);
    const db2 = openDb(path.join(dir, 'other.db'));
    try {
      const res = importLearnings(db2, out);
      expect(res).toEqual({ imported: 2, merged: 0, errors: [] });
      const pick = (l: ReturnType<typeof allLearnings>[number]) => ({
        text: l.text,
        category: l.category,
        source: l.source,
        createdAt: l.createdAt,
        confidence: l.confidence,
        maturity: l.maturity,
        utility: l.utility,
        tombstoned: l.tombstoned,
        tombstoneReason: l.tombstoneReason,
      });
      expect(allLearnings(db2).map(pick)).toEqual(allLearnings(db).map(pick));
      // importing again changes nothing
      expect(importLearnings(db2, out)).toEqual({ imported: 0, merged: 2, errors: [] });
      expect(allLearnings(db2).map(pick)).toEqual(allLearnings(db).map(pick));
    } finally {
      db2.close();
    }
  });

  it('reports malformed files by name and reads the rest', async () => {
    const d = path.join(dir, 'in');
    await import('node:fs/promises').then((fs) => fs.mkdir(d));
    await writeFile(
      path.join(d, 'a-good.md'),
      '---\ntype: learning\nsource: handoff-bridge\ndate: 2025-01-01\nconfidence: medium\nmaturity: provisional\n---\n# Decision\n\nUse JWT tokens.\n',
    );
    await writeFile(path.join(d, 'b-nofront.md'), 'just text\n');
    await writeFile(path.join(d, 'c-badconf.md'), '---\nconfidence: very\n---\ntext\n');
    await writeFile(path.join(d, 'd-empty.md'), '---\ntype: x\n---\n\n');
    await writeFile(path.join(d, 'e-unclosed.md'), '---\ntype: x\ntext\n');
    await writeFile(path.join(d, 'notes.txt'), 'ignored');
    const r = readLearningsDir(d);
    expect(r.items.map((i) => path.basename(i.file))).toEqual(['a-good.md']);
    expect(r.items[0].learning).toMatchObject({
      category: 'learning',
      source: 'handoff-bridge',
      confidence: 0.5,
      text: '# Decision\n\nUse JWT tokens.',
    });
    expect(r.errors.map((e) => path.basename(e.file))).toEqual([
      'b-nofront.md',
      'c-badconf.md',
      'd-empty.md',
      'e-unclosed.md',
    ]);
    expect(r.errors[1].message).toMatch(/confidence/);
    expect(importLearnings(db, d).imported).toBe(1);
    expect(await readdir(d)).toHaveLength(6);
  });
});

describe('AgentOps format', () => {
  it('reads back what it writes, with awkward values quoted', () => {
    const l = {
      text: 'text: with --- inside\n---\nand more',
      category: 'constraint',
      source: 'operator: me',
      createdAt: NOW,
      confidence: 0.6000000000000001,
      maturity: 'true',
      utility: -0.5,
      lane: 'lane-1',
      tombstoned: true,
      tombstoneReason: 'it\'s "done"',
    };
    expect(parseAgentsLearning(serializeAgentsLearning(l))).toEqual(l);
    expect(() => parseAgentsLearning('---\nbad line\n---\nx')).toThrow(AgentsFormatError);
  });
});
