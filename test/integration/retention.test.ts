/**
 * Recording retention by size (`retention.recordingsMaxMb`, `gc --max-mb`): recordings of closed
 * lanes go oldest closed first until all recordings fit; an open lane's never goes, whatever its
 * size; the days bound still applies.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDb, type Db } from '../../lanes/store/open.js';
import { insertLane, markLaneClosed } from '../../lanes/store/lanes.js';
import { insertChunks } from '../../lanes/store/output.js';
import { createSession } from '../../lanes/store/sessions.js';
import { dbFile, ensureStateDir } from '../../lanes/config/paths.js';
import { runCli } from '../helpers/cliBin.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

let repo: TempRepo;
let db: Db;
const MB = 1_000_000;

/** 0.4 MB of random (incompressible) output per lane: stored at that size. */
function lane(name: string, closedDaysAgo: number | null): void {
  const session = createSession(db, { repo: repo.dir });
  const row = insertLane(db, {
    name,
    sessionId: session.id,
    profile: 'demo',
    task: `task of ${name}`,
    branch: `ao/${name}`,
    base: 'main',
    worktree: path.join(repo.stateDir, 'worktrees', name),
    cols: 80,
    rows: 24,
  });
  insertChunks(
    db,
    Array.from({ length: 4 }, (_, seq) => ({ laneId: row.id, seq, tMs: seq, data: randomBytes(MB / 10) })),
  );
  if (closedDaysAgo !== null) {
    markLaneClosed(db, row.id);
    db.prepare('UPDATE lanes SET closed_at = ? WHERE id = ?').run(Date.now() - closedDaysAgo * 86_400_000, row.id);
  }
}

beforeAll(async () => {
  repo = await createTempRepo();
  ensureStateDir(repo.stateDir);
  db = openDb(dbFile(repo.stateDir));
  lane('oldest', 5);
  lane('older', 3);
  lane('open-big', null);
  lane('newest', 1);
  db.close();
});

afterAll(async () => {
  await repo?.cleanup();
});

const gc = async (...args: string[]) => {
  const r = await runCli(['gc', '--json', ...args], { cwd: repo.dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { recordings: { lane: string; bytes: number }[]; retentionMaxMb: number | null };
};

it('drops closed lanes’ recordings oldest first until all fit, never an open lane’s', async () => {
  // 4 lanes x 0.4 MB: 1.6 MB; a 1 MB bound drops the two oldest closed ones
  const dry = await gc('--dry-run', '--max-mb', '1');
  expect(dry.recordings.map((r) => r.lane)).toEqual(['oldest', 'older']);
  expect(dry.recordings[0].bytes).toBeGreaterThanOrEqual(0.4 * MB);
  // a bound below the open lane's size drops every closed one, and still not the open one
  const tight = await gc('--dry-run', '--max-mb', '0.1');
  expect(tight.recordings.map((r) => r.lane)).toEqual(['oldest', 'older', 'newest']);
  // the repo config's bound, for real
  mkdirSync(path.join(repo.dir, '.ao'), { recursive: true });
  writeFileSync(path.join(repo.dir, '.ao', 'config.json'), JSON.stringify({ retention: { recordingsMaxMb: 1 } }));
  const done = await gc();
  expect(done.retentionMaxMb).toBe(1);
  expect(done.recordings.map((r) => r.lane)).toEqual(['oldest', 'older']);
  const store = openDb(dbFile(repo.stateDir), { readonly: true });
  const left = store
    .prepare(
      'SELECT l.name AS name FROM lanes l WHERE EXISTS (SELECT 1 FROM output_chunks c WHERE c.lane_id = l.id) ORDER BY l.id',
    )
    .all() as { name: string }[];
  store.close();
  expect(left.map((r) => r.name)).toEqual(['open-big', 'newest']);
  expect((await gc()).recordings).toEqual([]);
});

it('refuses a bound that is not a number, naming the option', async () => {
  const r = await runCli(['gc', '--max-mb', 'lots'], { cwd: repo.dir });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--max-mb must be a number of megabytes/);
});
