/**
 * The merge queue (lanes/supervisor/mergeQueue.ts) with real git, a real supervisor and a real
 * command gate (`node check.js`: every `lib.NAME(` call in the repo's .js files must name a
 * function lib.js exports). Each gate run appends its working directory to a counter file
 * outside the repo, so a test can tell which gates ran where and how often.
 *
 * - the semantic-conflict pair: lane A renames a function, lane B adds a call to the old name;
 *   each passes its gates alone; approved both, A lands and B fails on the merged tree, never
 *   lands, and is back in awaiting approval marked, with the gate output in its review;
 * - FIFO order, pause/resume, reorder and remove; a verdict reused when the base did not move
 *   (the gate did not run again), re-run when it did;
 * - the base moving while an entry validates: validated again, then it lands;
 * - approve of a queued lane: bad-state "already queued".
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { commitFile, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';
import { useTempTrustFile } from '../helpers/trust.js';
import { createQueueRepo } from '../helpers/mergeQueueRepo.js';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { git } from '../../lanes/git/git.js';
import type { LaneState } from '../../lanes/lane/types.js';
import { listEvents } from '../../lanes/store/events.js';
import { openDb } from '../../lanes/store/open.js';

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

/** A repo whose one required gate is `node check.js <counter> <waitMs>`, trusted; and its supervisor. */
async function setup(waitMs = 0) {
  const { repo, counter, counterDir } = await createQueueRepo({ waitMs });
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
  const reach = (lane: string, s: LaneState, ms = 30_000) =>
    waitFor(() => state(lane) === s, `${lane} to be ${s} (is ${state(lane)})`, ms);
  /** Gate runs so far: the directories they ran in. */
  const runs = () => readFileSync(counter, 'utf8').split('\n').filter(Boolean);
  /** A lane whose worktree gets `files`, handed off and in review. */
  const lane = async (name: string, files: Record<string, string>) => {
    const snap = await sup.newLane({ name, profile: 'sh', task: `lane ${name}` });
    for (const [f, text] of Object.entries(files)) await writeFile(path.join(snap.worktree, f), text);
    await sup.handoff(name);
    expect(state(name)).toBe('awaiting-approval');
    expect((await sup.review(name)).requiredPassed).toBe(true);
    return snap;
  };
  const mainFiles = async () =>
    (await git(['ls-tree', '-r', '--name-only', 'main'], { cwd: repo.dir })).stdout.split('\n');
  const show = async (file: string) => (await git(['show', `main:${file}`], { cwd: repo.dir })).stdout;
  const events = (name: string, kind: string) => {
    const db = openDb(path.join(repo.stateDir, 'ao.db'), { readonly: true });
    try {
      return listEvents(db, sup.getLane(name)!.id, { kind });
    } finally {
      db.close();
    }
  };
  return { repo, sup, state, reach, runs, lane, mainFiles, show, events };
}

describe('merge queue', () => {
  it('the semantic-conflict pair: A lands, B fails on the merged tree and never lands', async () => {
    const t = await setup();
    // A renames greet to hello (and its caller); B adds a call to greet. Each passes alone.
    await t.lane('rename', {
      'lib.js': 'exports.hello = (who) => `hi ${who}`;\n',
      'main.js': "const lib = require('./lib.js');\nconsole.log(lib.hello('main'));\n",
    });
    await t.lane('caller', { 'feature.js': "const lib = require('./lib.js');\nconsole.log(lib.greet('b'));\n" });
    expect(t.runs()).toHaveLength(2);

    await t.sup.approve('rename');
    await t.sup.approve('caller');
    // a second approve of a queued lane is refused, not queued twice
    await expect(t.sup.approve('caller')).rejects.toMatchObject({
      code: 'bad-state',
      message: expect.stringContaining('already queued'),
    });
    await t.reach('rename', 'merged');
    await t.reach('caller', 'awaiting-approval');

    // A's tree is the one its gates passed on (main did not move): not run again; B ran on main + B.
    const runs = t.runs();
    expect(runs).toHaveLength(3);
    expect(runs[2]).toContain(`${path.sep}queue${path.sep}caller`);
    expect(await t.mainFiles()).not.toContain('feature.js');
    expect(await t.show('lib.js')).toContain('exports.hello');
    const merges = (await git(['log', '--merges', '--format=%s', 'main'], { cwd: t.repo.dir })).stdout;
    expect(merges.trim().split('\n')).toEqual(['Merge lane rename: lane rename']);

    const review = await t.sup.review('caller');
    expect(review.mergedTreeFailure?.reason).toMatch(/^failed on the merged tree: required gate\(s\) failed/);
    const failed = review.mergedTreeFailure!.verdicts.find((v) => v.gate === 'check')!;
    expect(failed.status).toBe('FAIL');
    expect(failed.output).toContain('calls lib.greet, which lib.js does not export');
    expect(t.events('caller', 'queue-failed')).toHaveLength(1);
    // the temporary worktree is gone
    const worktrees = (await git(['worktree', 'list', '--porcelain'], { cwd: t.repo.dir })).stdout;
    expect(worktrees).not.toContain(`${path.sep}queue${path.sep}`);
    expect((await t.sup.mergeQueue()).entries).toEqual([]);
  }, 90_000);

  it('lands in FIFO order; pause, reorder, remove and resume; a verdict stands while the base did not move', async () => {
    const t = await setup();
    await t.lane('x', { 'x.js': "const lib = require('./lib.js');\nlib.greet('x');\n" });
    await t.lane('y', { 'y.js': "const lib = require('./lib.js');\nlib.greet('y');\n" });
    await t.lane('z', { 'z.js': "const lib = require('./lib.js');\nlib.greet('z');\n" });
    expect(t.runs()).toHaveLength(3);

    expect(await t.sup.pauseQueue(true)).toEqual({ paused: true, entries: [] });
    for (const name of ['x', 'y', 'z']) await t.sup.approve(name);
    const q = await t.sup.mergeQueue();
    expect(q).toEqual({
      paused: true,
      entries: ['x', 'y', 'z'].map((lane) => ({ lane, state: 'waiting', since: expect.any(Number) })),
    });
    expect(t.sup.getLane('y')?.queue).toMatchObject({ position: 2, length: 3, state: 'waiting', paused: true });

    await t.sup.moveInQueue('z', 1);
    await t.sup.removeFromQueue('y');
    expect(t.state('y')).toBe('awaiting-approval');
    expect((await t.sup.mergeQueue()).entries.map((e) => e.lane)).toEqual(['z', 'x']);
    expect(t.state('x')).toBe('approved');

    await t.sup.pauseQueue(false);
    await t.reach('x', 'merged');
    expect(t.state('z')).toBe('merged');
    const merges = (await git(['log', '--merges', '--format=%s', '--reverse', 'main'], { cwd: t.repo.dir })).stdout;
    expect(merges.trim().split('\n')).toEqual(['Merge lane z: lane z', 'Merge lane x: lane x']);
    // z: main had not moved since its gates ran, the verdict stands; x: main moved (z landed), run again
    const runs = t.runs();
    expect(runs).toHaveLength(4);
    expect(runs[3]).toContain(`${path.sep}queue${path.sep}x`);
    expect(t.events('z', 'queue-validated')[0].data).toMatchObject({ reused: true });
    expect(t.events('x', 'queue-validated')[0].data).toMatchObject({ reused: false });
    expect(t.state('y')).toBe('awaiting-approval');
    expect(await t.mainFiles()).not.toContain('y.js');
  }, 120_000);

  it('validates again when the base moves while the gates run, then lands', async () => {
    const t = await setup(1500);
    await t.lane('slow', { 'slow.js': "const lib = require('./lib.js');\nlib.greet('slow');\n" });
    // main moves before the approval: the lane's own verdict is not about what would land
    await commitFile(t.repo.dir, 'notes.txt', 'one\n', 'main moves');
    const approved = t.sup.approve('slow', { wait: true });
    await waitFor(() => t.runs().length === 2, 'the gate to run on the merged tree');
    await commitFile(t.repo.dir, 'notes2.txt', 'two\n', 'main moves again');
    await approved;
    expect(t.state('slow')).toBe('merged');
    expect(t.events('slow', 'queue-revalidate')).toHaveLength(1);
    expect(t.runs()).toHaveLength(3);
    expect(await t.mainFiles()).toEqual(expect.arrayContaining(['slow.js', 'notes.txt', 'notes2.txt']));
  }, 90_000);

  it('approve with wait rejects with the reason when the lane leaves the queue', async () => {
    const t = await setup();
    await t.lane('clash', { 'main.js': "console.log('mine');\n" });
    await commitFile(t.repo.dir, 'main.js', "console.log('theirs');\n", 'main changes main.js');
    await expect(t.sup.approve('clash', { wait: true })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('merge conflict with main in 1 path(s): main.js'),
    });
    expect(t.state('clash')).toBe('awaiting-approval');
  }, 60_000);
});
