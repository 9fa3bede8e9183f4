/**
 * The subcommands that read the store without a console (lanes, sessions, show), and the
 * maintenance ones (gc, doctor, profiles check), run as the built binary against a real temp
 * repo, a real lane worktree and a real SQLite store.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../../lanes/git/git.js';
import { createLaneWorktree } from '../../lanes/git/worktree.js';
import { openDb, type Db } from '../../lanes/store/open.js';
import { insertLane, markLaneClosed, setLaneState, updateLane } from '../../lanes/store/lanes.js';
import { insertChunks } from '../../lanes/store/output.js';
import { captureLearning } from '../../lanes/learnings/store.js';
import { insertDecision, insertVerdict, upsertClosure } from '../../lanes/store/review.js';
import { createSession, endSession } from '../../lanes/store/sessions.js';
import { dbFile, ensureStateDir } from '../../lanes/config/paths.js';
import { runCli } from '../helpers/cliBin.js';
import { commitFile, createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

let repo: TempRepo;
let db: Db;
let laneHead: string;
const DAY = 86_400_000;
const cli = (...args: string[]) => runCli(args, { cwd: repo.dir });

beforeAll(async () => {
  repo = await createTempRepo();
  ensureStateDir(repo.stateDir);
  db = openDb(dbFile(repo.stateDir));
  const session = createSession(db, { repo: repo.dir, startedAt: Date.now() - 41 * DAY });
  // A lane that was discarded 40 days ago but whose worktree (with an unmerged commit) stayed.
  const wt = await createLaneWorktree({ repoRoot: repo.dir, stateDir: repo.stateDir, lane: 'old', base: 'main' });
  laneHead = await commitFile(wt.path, 'old.txt', 'work in progress\n', 'unmerged work');
  const lane = insertLane(db, {
    name: 'old',
    sessionId: session.id,
    profile: 'demo',
    task: 'create file old.txt',
    branch: wt.branch,
    base: 'main',
    worktree: wt.path,
    cols: 120,
    rows: 40,
    createdAt: Date.now() - 41 * DAY,
  });
  setLaneState(db, lane.id, 'running', { cause: 'spawned' });
  setLaneState(db, lane.id, 'awaiting-approval', { cause: 'gates done' });
  updateLane(db, lane.id, { headCommit: laneHead });
  insertVerdict(db, lane.id, 1, {
    gate: 'no-secrets',
    status: 'PASS',
    required: true,
    durationMs: 12,
    exitCode: 0,
    output: '',
    commit: laneHead,
    stale: false,
    at: Date.now(),
  });
  insertVerdict(db, lane.id, 1, {
    gate: 'test',
    status: 'FAIL',
    required: true,
    durationMs: 340,
    exitCode: 1,
    output: '1 failing',
    commit: laneHead,
    stale: false,
    at: Date.now(),
  });
  insertDecision(db, lane.id, {
    lane: 'old',
    action: 'reject',
    mode: 'discard',
    reason: 'tests fail',
    override: false,
    by: 'operator',
    at: Date.now(),
  });
  captureLearning(db, {
    text: 'run the tests before handing off',
    category: 'constraint',
    source: 'rejection',
    laneId: lane.id,
    sessionId: session.id,
  });
  setLaneState(db, lane.id, 'discarded', { cause: 'rejected: tests fail' });
  upsertClosure(db, lane.id, 'discarded', { diffStat: [{ path: 'old.txt', added: 1, deleted: 0 }] });
  insertChunks(
    db,
    [0, 1, 2].map((seq) => ({ laneId: lane.id, seq, tMs: seq * 10, data: Buffer.from(`chunk ${seq}\r\n`) })),
  );
  markLaneClosed(db, lane.id, Date.now() - 40 * DAY);
  endSession(db, session.id, 'signal', Date.now() - 40 * DAY);
  db.close();
});
afterAll(() => repo.cleanup());

describe('reading the store', () => {
  it('lanes lists the lane with its outcome', async () => {
    const human = await cli('lanes');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^LANE +STATE +PROFILE +SESSION +CREATED +OUTCOME +TASK$/m);
    expect(human.stdout).toMatch(/^old +discarded +demo +\S{8} +[\d-]+ [\d:]+ +discarded +create file old\.txt$/m);
    const json = JSON.parse((await cli('lanes', '--json')).stdout);
    expect(json).toEqual([
      expect.objectContaining({ name: 'old', state: 'discarded', outcome: 'discarded', reworkCount: 0 }),
    ]);
    expect(JSON.parse((await cli('lanes', '--open', '--json')).stdout)).toEqual([]);
  });

  it('sessions lists the session with its end, lane count and outcomes', async () => {
    const [s] = JSON.parse((await cli('sessions', '--json')).stdout);
    expect(s).toMatchObject({ endReason: 'signal', lanes: 1, outcomes: { discarded: 1 } });
    expect((await cli('sessions')).stdout).toMatch(/signal +1 +1 discarded +\d+$/m);
  });

  it('show prints closure, verdicts, decisions and learnings', async () => {
    const r = await cli('show', 'old');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/closure:\n +discarded at .*; 1 file\(s\), 1 line\(s\) changed/);
    expect(r.stdout).toMatch(/^ +test +FAIL +yes +1 +340 /m);
    expect(r.stdout).toMatch(/^ +no-secrets +PASS +yes +0 +12 /m);
    expect(r.stdout).toMatch(/reject +discard +operator +tests fail/);
    expect(r.stdout).toMatch(/constraint +rejection +run the tests before handing off/);
    expect(r.stdout).toMatch(/awaiting-approval +discarded +rejected: tests fail/);
    const json = JSON.parse((await cli('show', 'old', '--json')).stdout);
    expect(json).toMatchObject({
      lane: { name: 'old' },
      closure: { outcome: 'discarded' },
      verdicts: [{ gate: 'no-secrets' }, { gate: 'test' }],
    });
  });
});

describe('gc', () => {
  it('--dry-run says what it would remove and changes nothing', async () => {
    const r = await cli('gc', '--dry-run', '--json');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.worktrees).toEqual([expect.objectContaining({ lane: 'old', why: 'lane is closed' })]);
    expect(res.recordings).toEqual([expect.objectContaining({ lane: 'old', chunks: 3 })]);
    expect(existsSync(path.join(repo.stateDir, 'worktrees', 'old'))).toBe(true);
  });

  it('keeps recordings within the retention', async () => {
    const res = JSON.parse((await cli('gc', '--dry-run', '--retention-days', '60', '--json')).stdout);
    expect(res.recordings).toEqual([]);
  });

  it('removes the worktree and branch but keeps the unmerged commit under an archive ref, and drops old recordings', async () => {
    const r = await cli('gc');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /removed worktree .*old and branch ao\/old \(lane is closed\); work kept at refs\/ao\/archive\/old\//,
    );
    expect(existsSync(path.join(repo.stateDir, 'worktrees', 'old'))).toBe(false);
    expect((await git(['branch', '--list', 'ao/old'], { cwd: repo.dir })).stdout).toBe('');
    const refs = (
      await git(['for-each-ref', '--format=%(objectname)', 'refs/ao/archive/old/'], { cwd: repo.dir })
    ).stdout.split('\n');
    expect(refs).toContain(laneHead);
    const store = openDb(dbFile(repo.stateDir), { readonly: true });
    expect(store.prepare('SELECT COUNT(*) AS n FROM output_chunks').get()).toEqual({ n: 0 });
    store.close();
    expect((await cli('gc')).stdout).toMatch(/nothing to remove/);
  });
});

describe('doctor', () => {
  it('passes on a healthy repo and fails with a fix when the state dir is open to others', async () => {
    const good = await cli('doctor');
    expect(good.stdout).toMatch(/ok +git: git \d+\.\d+/);
    expect(good.stdout).toMatch(/ok +better-sqlite3: loads/);
    expect(good.stdout).toMatch(/ok +node-pty: loads and runs a process/);
    expect(good.stdout).toMatch(/ok +database: quick_check ok/);
    expect(good.code).toBe(0);
    chmodSync(repo.stateDir, 0o755);
    try {
      const bad = await cli('doctor', '--json');
      expect(bad.code).toBe(1);
      const res = JSON.parse(bad.stdout);
      expect(res.ok).toBe(false);
      expect(res.checks).toContainEqual(
        expect.objectContaining({ name: 'state dir', ok: false, fix: `chmod 700 '${repo.stateDir}'` }),
      );
    } finally {
      chmodSync(repo.stateDir, 0o700);
    }
  });
});

describe('profiles', () => {
  it('lists the built-in profiles', async () => {
    const r = await cli('profiles');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^demo +builtin /m);
  });

  it('check names the broken file and field, lists agent CLIs, and exits 1', async () => {
    mkdirSync(path.join(repo.dir, '.ao', 'profiles'), { recursive: true });
    writeFileSync(path.join(repo.dir, '.ao', 'profiles', 'broken.json'), JSON.stringify({ command: 'x', idleMs: 5 }));
    const r = await cli('profiles', 'check');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/broken\.json: idleMs: /);
    expect(r.stdout).toMatch(/^AGENT CLI +INSTALLED +VERSION +PATH$/m);
    for (const name of ['claude', 'codex', 'gemini', 'aider', 'opencode'])
      expect(r.stdout).toMatch(new RegExp(`^${name} +(yes|no)`, 'm'));
    const doctor = await cli('doctor');
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/FAIL +profiles: \d+ problem\(s\): .*broken\.json: idleMs/);
  });
});
