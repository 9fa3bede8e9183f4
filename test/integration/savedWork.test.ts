/**
 * Uncommitted work is never lost: a lane worktree with modified, deleted, untracked (and ignored)
 * files removed by discard (removeLaneWorktree) or by `ao-console gc` leaves an archive ref whose
 * tree holds those changes, and `ao-console show` names it with the commands that bring it back.
 * Real git, a real SQLite store, the built binary.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { git } from '../../lanes/git/git.js';
import { listSavedWork } from '../../lanes/git/savedWork.js';
import { createLaneWorktree, removeLaneWorktree } from '../../lanes/git/worktree.js';
import { dbFile, ensureStateDir } from '../../lanes/config/paths.js';
import { openDb } from '../../lanes/store/open.js';
import { insertLane, markLaneClosed, setLaneState } from '../../lanes/store/lanes.js';
import { createSession, endSession } from '../../lanes/store/sessions.js';
import { runCli } from '../helpers/cliBin.js';
import { commitFile, createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

const sh = promisify(execFile);
let repo: TempRepo;
const out = async (args: string[], cwd = repo.dir) => (await git(args, { cwd })).stdout;

beforeEach(async () => {
  repo = await createTempRepo({
    files: { 'README.md': '# r\n', 'src/a.txt': 'a\n', 'src/b.txt': 'b\n', '.gitignore': 'node_modules/\n' },
  });
});
afterEach(() => repo.cleanup());

/** A lane worktree with one commit, then modified, deleted, untracked and ignored files. */
async function dirtyLane(lane: string): Promise<{ path: string; commit: string }> {
  const wt = await createLaneWorktree({ repoRoot: repo.dir, stateDir: repo.stateDir, lane, base: 'main' });
  const commit = await commitFile(wt.path, 'src/committed.txt', 'committed\n', 'lane commit');
  await writeFile(path.join(wt.path, 'README.md'), '# r\nchanged by the agent\n');
  await rm(path.join(wt.path, 'src/a.txt'));
  await mkdir(path.join(wt.path, 'new'), { recursive: true });
  await writeFile(path.join(wt.path, 'new/untracked.txt'), 'new file\n');
  await mkdir(path.join(wt.path, 'node_modules/pkg'), { recursive: true });
  await writeFile(path.join(wt.path, 'node_modules/pkg/index.js'), 'ignored\n');
  return { path: wt.path, commit };
}

/** Asserts that `ref`'s tree holds the changes dirtyLane made (and not the ignored file). */
async function expectChanges(ref: string, laneCommit: string): Promise<void> {
  expect(await out(['show', `${ref}:README.md`])).toBe('# r\nchanged by the agent');
  expect(await out(['show', `${ref}:new/untracked.txt`])).toBe('new file');
  expect(await out(['show', `${ref}:src/committed.txt`])).toBe('committed');
  expect(await out(['ls-tree', '-r', '--name-only', ref])).not.toMatch(/src\/a\.txt|node_modules/);
  expect(await out(['rev-parse', `${ref}^`])).toBe(laneCommit);
}

describe('removing a lane worktree with uncommitted work', () => {
  it('discard keeps it under an archive ref that listSavedWork names with a restore command that works', async () => {
    const { path: wtPath, commit } = await dirtyLane('dirty');
    const res = await removeLaneWorktree({
      repoRoot: repo.dir,
      stateDir: repo.stateDir,
      lane: 'dirty',
      base: 'main',
      branch: 'ao/dirty',
      worktreePath: wtPath,
    });
    expect(existsSync(wtPath)).toBe(false);
    expect(res.archivedRefs).toHaveLength(1);
    const ref = res.archivedRefs[0];
    expect(ref).toMatch(/^refs\/ao\/archive\/dirty\/\d{8}T\d{6}Z$/);
    await expectChanges(ref, commit);

    const saved = await listSavedWork(repo.dir, 'dirty');
    expect(saved).toEqual([
      expect.objectContaining({
        ref,
        kind: 'uncommitted',
        files: ['M README.md', 'A new/untracked.txt', 'D src/a.txt'],
        restore: `git checkout -b dirty-rescue ${ref} && git reset HEAD~1`,
      }),
    ]);
    // The restore command brings back the commit, and the files as uncommitted changes.
    await sh('/bin/sh', ['-c', saved[0].restore], { cwd: repo.dir });
    expect(await out(['rev-parse', 'HEAD'])).toBe(commit);
    expect(await out(['status', '--porcelain', '--untracked-files=all'])).toBe(
      [' M README.md', ' D src/a.txt', '?? new/untracked.txt'].join('\n'),
    );
  });

  it('a leftover directory no worktree is registered at is saved before it is removed', async () => {
    const dir = path.join(repo.stateDir, 'worktrees', 'orphan');
    await mkdir(path.join(dir, 'src'), { recursive: true });
    await writeFile(path.join(dir, 'README.md'), '# r\n');
    await writeFile(path.join(dir, 'src/b.txt'), 'b, edited\n');
    await writeFile(path.join(dir, 'work.txt'), 'orphaned work\n');
    const wt = await createLaneWorktree({ repoRoot: repo.dir, stateDir: repo.stateDir, lane: 'orphan', base: 'main' });
    const [ref] = wt.archivedRefs;
    expect(ref).toMatch(/^refs\/ao\/archive\/orphan\//);
    expect(await out(['show', `${ref}:work.txt`])).toBe('orphaned work');
    expect(await out(['show', `${ref}:src/b.txt`])).toBe('b, edited');
    expect(existsSync(path.join(wt.path, 'work.txt'))).toBe(false);
  });
});

describe('gc and show', () => {
  it('gc saves a closed lane’s uncommitted files; show names the ref and how to get them back', async () => {
    const { path: wtPath, commit } = await dirtyLane('gone');
    ensureStateDir(repo.stateDir);
    const db = openDb(dbFile(repo.stateDir));
    const session = createSession(db, { repo: repo.dir, startedAt: Date.now() - 60_000 });
    const lane = insertLane(db, {
      name: 'gone',
      sessionId: session.id,
      profile: 'demo',
      task: 't',
      branch: 'ao/gone',
      base: 'main',
      worktree: wtPath,
      cols: 80,
      rows: 24,
      createdAt: Date.now() - 60_000,
    });
    setLaneState(db, lane.id, 'failed', { cause: 'agent exited with code 1' });
    markLaneClosed(db, lane.id);
    endSession(db, session.id, 'signal', Date.now());
    db.close();

    const gc = await runCli(['gc', '--json'], { cwd: repo.dir });
    expect(gc.code).toBe(0);
    const [removed] = JSON.parse(gc.stdout).worktrees as { archivedRefs: string[] }[];
    expect(removed.archivedRefs).toHaveLength(1);
    const ref = removed.archivedRefs[0];
    expect(existsSync(wtPath)).toBe(false);
    await expectChanges(ref, commit);

    const show = await runCli(['show', 'gone'], { cwd: repo.dir });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`uncommitted work saved at ${ref} (`);
    expect(show.stdout).toContain(`: git checkout -b gone-rescue ${ref} && git reset HEAD~1`);
    expect(show.stdout).toContain('M README.md, A new/untracked.txt, D src/a.txt');
    const json = JSON.parse((await runCli(['show', 'gone', '--json'], { cwd: repo.dir })).stdout);
    expect(json.savedWork).toEqual([
      expect.objectContaining({ ref, kind: 'uncommitted', commit: await out(['rev-parse', ref]) }),
    ]);
    expect(await readFile(path.join(repo.dir, 'README.md'), 'utf8')).toBe('# r\n'); // the main checkout untouched
  });
});
