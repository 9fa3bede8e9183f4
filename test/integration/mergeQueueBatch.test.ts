/**
 * The merge queue's batch mode (`mergeQueue.batch` in .ao/config.json; lanes/supervisor/mergeQueue.ts)
 * with real git, a real supervisor and the command gate of mergeQueue.test.ts (`node check.js`,
 * which appends its working directory to a counter file: a run under `<state>/queue/` is a run
 * of the queue, the others are the lanes' own handoff gates).
 *
 * - batch 4, four good lanes: the required gate runs once on the chain of the four landings,
 *   the four land in queue order, and the base ends at exactly the commit that was validated;
 * - batch 4 with the semantic-conflict pair inside (a lane that passes alone but fails merged):
 *   the batch fails, is bisected, the bad lane alone fails "failed on the merged tree" with its
 *   verdicts, the other three land, in at most 1 + 2·ceil(log2 4) gate runs;
 * - `mergeQueue.batch` outside 1–16 is a config error naming the field; the default is 1.
 * Batch 1 (the default) is mergeQueue.test.ts, unchanged.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';
import { useTempTrustFile } from '../helpers/trust.js';
import { createQueueRepo } from '../helpers/mergeQueueRepo.js';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { git } from '../../lanes/git/git.js';
import type { LaneState } from '../../lanes/lane/types.js';
import { listEvents } from '../../lanes/store/events.js';
import { openDb } from '../../lanes/store/open.js';
import { ConfigError, parseRepoConfig } from '../../lanes/config/repoConfig.js';

const trustFile = useTempTrustFile();
afterAll(() => trustFile.cleanup());

const repos: TempRepo[] = [];
const sups: Supervisor[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of sups.splice(0)) await s.shutdown('test over');
  for (const r of repos.splice(0)) await r.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const QUEUE_DIR = `${path.sep}queue${path.sep}`;

/** A repo whose one required gate is `node check.js <counter>`, with `mergeQueue.batch`, trusted; and its supervisor. */
async function setup(batch: number) {
  const { repo, counter, counterDir } = await createQueueRepo({ config: { mergeQueue: { batch } } });
  dirs.push(counterDir);
  repos.push(repo);
  const sup = await createSupervisor({
    repoRoot: repo.dir,
    stateDir: repo.stateDir,
    cols: 100,
    rows: 30,
    env: { ...process.env },
    tickMs: 100,
    stopGraceMs: 1000,
  });
  sups.push(sup);
  const state = (lane: string) => sup.getLane(lane)?.state;
  const reach = (lane: string, s: LaneState, ms = 60_000) =>
    waitFor(() => state(lane) === s, `${lane} to be ${s} (is ${state(lane)})`, ms);
  /** Gate runs of the queue so far (not the lanes' own): the directories they ran in. */
  const queueRuns = () =>
    readFileSync(counter, 'utf8')
      .split('\n')
      .filter((d) => d.includes(QUEUE_DIR));
  const lane = async (name: string, files: Record<string, string>) => {
    const snap = await sup.newLane({ name, profile: 'sh', task: `lane ${name}` });
    for (const [f, text] of Object.entries(files)) await writeFile(path.join(snap.worktree, f), text);
    await sup.handoff(name);
    expect(state(name)).toBe('awaiting-approval');
    expect((await sup.review(name)).requiredPassed).toBe(true);
    return snap;
  };
  const out = async (args: string[]) => (await git(args, { cwd: repo.dir })).stdout.trim();
  const mainFiles = async () => (await out(['ls-tree', '-r', '--name-only', 'main'])).split('\n');
  const events = (name: string, kind: string) => {
    const db = openDb(path.join(repo.stateDir, 'ao.db'), { readonly: true });
    try {
      return listEvents(db, sup.getLane(name)!.id, { kind });
    } finally {
      db.close();
    }
  };
  /** Approves the lanes with the queue paused (so they wait together), then resumes it. */
  const approveAll = async (names: string[]) => {
    await sup.pauseQueue(true);
    for (const name of names) await sup.approve(name);
    expect((await sup.mergeQueue()).entries.map((e) => e.lane)).toEqual(names);
    await sup.pauseQueue(false);
  };
  return { repo, sup, state, reach, queueRuns, lane, out, mainFiles, events, approveAll };
}

const calls = (name: string) => ({ [`${name}.js`]: `const lib = require('./lib.js');\nlib.greet('${name}');\n` });

describe('merge queue, batch mode', () => {
  it('batch 4, four good lanes: the gate runs once, all four land in order at the validated commit', async () => {
    const t = await setup(4);
    const names = ['a', 'b', 'c', 'd'];
    for (const name of names) await t.lane(name, calls(name));
    await t.approveAll(names);
    for (const name of names) await t.reach(name, 'merged');

    const runs = t.queueRuns();
    console.log(`batch of 4 good lanes: ${runs.length} gate run(s) in the queue`);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toContain(`${QUEUE_DIR}a`);
    const merges = await t.out(['log', '--merges', '--format=%s', '--reverse', 'main']);
    expect(merges.split('\n')).toEqual(names.map((n) => `Merge lane ${n}: lane ${n}`));
    // every lane landed its link of the validated chain; the base is exactly its last commit
    const validated = names.map((n) => t.events(n, 'queue-validated'));
    for (const v of validated) {
      expect(v).toHaveLength(1);
      expect(v[0].data).toMatchObject({ reused: false, batch: { lanes: names } });
    }
    const tip = (validated[3][0].data as { batch: { tip: string }; next: string }).batch.tip;
    expect((validated[3][0].data as { next: string }).next).toBe(tip);
    expect(await t.out(['rev-parse', 'main'])).toBe(tip);
    for (let i = 1; i < 4; i++)
      expect((validated[i][0].data as { old: string }).old).toBe((validated[i - 1][0].data as { next: string }).next);
    expect(await t.mainFiles()).toEqual(expect.arrayContaining(names.map((n) => `${n}.js`)));
    expect((await t.sup.mergeQueue()).entries).toEqual([]);
    const worktrees = await t.out(['worktree', 'list', '--porcelain']);
    expect(worktrees).not.toContain(QUEUE_DIR);
  }, 120_000);

  it('batch 4 with one lane that passes alone but fails merged: bisected, it alone fails, three land', async () => {
    const t = await setup(4);
    await t.lane('a', { 'a.txt': 'a\n' });
    // rename renames greet to hello (and its caller); caller adds a call to greet. Each passes alone.
    await t.lane('rename', {
      'lib.js': 'exports.hello = (who) => `hi ${who}`;\n',
      'main.js': "const lib = require('./lib.js');\nconsole.log(lib.hello('main'));\n",
    });
    await t.lane('caller', { 'feature.js': "const lib = require('./lib.js');\nconsole.log(lib.greet('b'));\n" });
    await t.lane('d', { 'd.txt': 'd\n' });
    await t.approveAll(['a', 'rename', 'caller', 'd']);
    await t.reach('d', 'merged');
    await t.reach('caller', 'awaiting-approval');
    for (const name of ['a', 'rename', 'd']) expect(t.state(name)).toBe('merged');

    const runs = t.queueRuns();
    console.log(`batch of 4 with one bad lane: ${runs.length} gate run(s) in the queue`);
    expect(runs.length).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(4)));
    const merges = await t.out(['log', '--merges', '--format=%s', '--reverse', 'main']);
    expect(merges.split('\n')).toEqual([
      'Merge lane a: lane a',
      'Merge lane rename: lane rename',
      'Merge lane d: lane d',
    ]);
    expect(await t.mainFiles()).not.toContain('feature.js');

    const review = await t.sup.review('caller');
    expect(review.mergedTreeFailure?.reason).toMatch(/^failed on the merged tree: required gate\(s\) failed/);
    const failed = review.mergedTreeFailure!.verdicts.find((v) => v.gate === 'check')!;
    expect(failed.status).toBe('FAIL');
    expect(failed.output).toContain('calls lib.greet, which lib.js does not export');
    expect(t.events('caller', 'queue-failed')).toHaveLength(1);
    for (const name of ['a', 'rename', 'd']) expect(t.events(name, 'queue-failed')).toHaveLength(0);
    // the whole batch failed first, and said so
    expect(t.events('a', 'queue-bisect').length).toBeGreaterThanOrEqual(1);
    expect((await t.sup.mergeQueue()).entries).toEqual([]);
    expect(await t.out(['worktree', 'list', '--porcelain'])).not.toContain(QUEUE_DIR);
  }, 120_000);

  it('an entry that conflicts with the chain fails as it would alone; the others are validated once and land', async () => {
    const t = await setup(3);
    const says = (who: string) => ({
      'main.js': `const lib = require('./lib.js');\nconsole.log(lib.greet('${who}'));\n`,
    });
    await t.lane('p', says('p'));
    await t.lane('q', says('q'));
    await t.lane('r', { 'r.txt': 'r\n' });
    await t.approveAll(['p', 'q', 'r']);
    await t.reach('r', 'merged');
    expect(t.state('p')).toBe('merged');
    expect(t.state('q')).toBe('awaiting-approval');
    expect(t.queueRuns()).toHaveLength(1);
    const review = await t.sup.review('q');
    expect(review.mergedTreeFailure?.reason).toContain('merge conflict with main in 1 path(s): main.js');
    expect(t.events('r', 'queue-validated')[0].data).toMatchObject({ batch: { lanes: ['p', 'r'] } });
    const merges = await t.out(['log', '--merges', '--format=%s', '--reverse', 'main']);
    expect(merges.split('\n')).toEqual(['Merge lane p: lane p', 'Merge lane r: lane r']);
  }, 120_000);

  it('mergeQueue.batch is an integer 1–16, default 1', () => {
    const parse = (raw: unknown) => parseRepoConfig(raw, { file: '.ao/config.json', hasTestScript: false });
    const bad = (raw: unknown) => {
      try {
        parse(raw);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('no error');
    };
    expect(bad({ mergeQueue: { batch: 0 } })).toContain('mergeQueue.batch:');
    expect(bad({ mergeQueue: { batch: 17 } })).toContain('mergeQueue.batch:');
    expect(bad({ mergeQueue: { batch: 2.5 } })).toContain('mergeQueue.batch:');
    expect(bad({ mergeQueue: { batch: '4' } })).toContain('mergeQueue.batch:');
    expect(bad({ mergeQueue: { size: 4 } })).toContain('mergeQueue: unknown field "size"');
    expect(parse({}).mergeQueue).toEqual({ batch: 1 });
    expect(parse({ mergeQueue: {} }).mergeQueue).toEqual({ batch: 1 });
    expect(parse({ mergeQueue: { batch: 16 } }).mergeQueue).toEqual({ batch: 16 });
  });
});
