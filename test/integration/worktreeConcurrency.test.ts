/**
 * Many lane worktrees created and removed at the same moment in one repo, in one process and
 * across processes (lanes/git/worktreeLock.ts), with real git: every one succeeds, every time.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { git, GitError } from '../../lanes/git/git.js';
import {
  createLaneWorktree,
  listLaneWorktrees,
  pruneWorktrees,
  removeLaneWorktree,
  worktreeFailureCode,
  WorktreeError,
  WorktreeLockTimeoutError,
} from '../../lanes/git/worktree.js';
import { processStart, withWorktreeLock, worktreeLockPath } from '../../lanes/git/worktreeLock.js';
import { LaneNameError } from '../../lanes/lane/names.js';
import { RevisionArgError } from '../../lanes/git/refs.js';
import { GitLockHeldError } from '../../lanes/git/locks.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { createSupervisor } from '../../lanes/supervisor/supervisor.js';
import type { ActionError } from '../../lanes/supervisor/api.js';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const builtWorktree = pathToFileURL(path.join(root, 'dist/lanes/git/worktree.js')).href;
const builtLock = pathToFileURL(path.join(root, 'dist/lanes/git/worktreeLock.js')).href;

let repo: TempRepo;
const lockFile = () => worktreeLockPath(path.join(repo.dir, '.git'));
const create = (lane: string) =>
  createLaneWorktree({ repoRoot: repo.dir, stateDir: repo.stateDir, lane, base: 'main' });
const remove = (lane: string) =>
  removeLaneWorktree({
    repoRoot: repo.dir,
    stateDir: repo.stateDir,
    lane,
    base: 'main',
    branch: `ao/${lane}`,
    worktreePath: path.join(repo.stateDir, 'worktrees', lane),
  });

/** Runs an ES module script in a child node process; resolves with its stdout once it exits 0. */
function node(script: string, onLine?: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of d.toString().split('\n').filter(Boolean)) onLine?.(line);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

/** A pid that is certainly not running: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.on('close', r));
  return child.pid!;
}

beforeEach(async () => {
  repo = await createTempRepo();
});
afterEach(() => repo.cleanup());

describe('creating many lanes at once', () => {
  it('12 creations at once (while the last round is removed and a prune runs) all succeed, 5 rounds', async () => {
    for (let round = 0; round < 5; round++) {
      const lanes = Array.from({ length: 12 }, (_, i) => `r${round}-${i}`);
      const previous = Array.from({ length: 12 }, (_, i) => `r${round - 1}-${i}`);
      const results = await Promise.allSettled([
        ...lanes.map(create),
        ...(round > 0 ? previous.map(remove) : []),
        pruneWorktrees(repo.dir),
      ]);
      const failed = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason));
      expect(failed).toEqual([]);
      const registered = await listLaneWorktrees(repo.dir, repo.stateDir);
      expect(registered.map((w) => w.lane).sort()).toEqual([...lanes].sort());
      for (const w of registered) {
        expect(w.branch).toBe(`ao/${w.lane}`);
        expect(w.lockReason).toBe(`ao-console lane ${w.lane}`);
        expect((await git(['status', '--porcelain'], { cwd: w.path })).stdout).toBe('');
      }
    }
    expect(existsSync(lockFile())).toBe(false);
  }, 240_000);

  it('three processes creating lanes at once in one repo all succeed', async () => {
    const script = (prefix: string) => `
      const { createLaneWorktree } = await import(${JSON.stringify(builtWorktree)});
      await Promise.all([0, 1, 2, 3].map((i) => createLaneWorktree({
        repoRoot: ${JSON.stringify(repo.dir)}, stateDir: ${JSON.stringify(repo.stateDir)}, lane: '${prefix}-' + i, base: 'main',
      })));`;
    await Promise.all([node(script('a')), node(script('b')), Promise.all([0, 1, 2, 3].map((i) => create(`c-${i}`)))]);
    const lanes = (await listLaneWorktrees(repo.dir, repo.stateDir)).map((w) => w.lane).sort();
    expect(lanes).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'b-0', 'b-1', 'b-2', 'b-3', 'c-0', 'c-1', 'c-2', 'c-3']);
  }, 120_000);
});

describe('the worktree lock', () => {
  it('runs the operations of one process one at a time', async () => {
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withWorktreeLock(path.join(repo.dir, '.git'), 'test', async () => {
          most = Math.max(most, ++inside);
          await new Promise((r) => setTimeout(r, 10));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
  });

  it('makes a creation wait while another process holds it', async () => {
    let released = 0;
    const holder = node(
      `const { withWorktreeLock } = await import(${JSON.stringify(builtLock)});
       await withWorktreeLock(${JSON.stringify(path.join(repo.dir, '.git'))}, 'held by a test', async () => {
         console.log('held');
         await new Promise((r) => setTimeout(r, 1500));
         console.log('released ' + Date.now());
       });`,
      (line) => {
        if (line.startsWith('released ')) released = Number(line.slice(9));
      },
    );
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(lockFile()) || Date.now() - started > 10_000) {
          clearInterval(poll);
          resolve();
        }
      }, 10);
    });
    const holderText = JSON.parse(await readFile(lockFile(), 'utf8')) as { what: string; pid: number };
    expect(holderText.what).toBe('held by a test');
    await create('waits');
    const createdAt = Date.now();
    await holder;
    expect(released).toBeGreaterThan(0);
    expect(createdAt).toBeGreaterThanOrEqual(released);
  }, 30_000);

  it('takes over a lock left by a dead process, and one whose pid now belongs to another process', async () => {
    const pid = await deadPid();
    const stale = { pid, start: null, host: (await import('node:os')).hostname(), at: 0, what: 'died', token: 'x' };
    await writeFile(lockFile(), JSON.stringify(stale));
    await create('after-dead');
    expect(existsSync(lockFile())).toBe(false);
    // Our own pid, but recorded with another start time: a reused pid, not the holder.
    expect(processStart(process.pid)).not.toBeNull();
    await writeFile(lockFile(), JSON.stringify({ ...stale, pid: process.pid, start: '1' }));
    await create('after-reused');
    expect((await listLaneWorktrees(repo.dir, repo.stateDir)).map((w) => w.lane).sort()).toEqual([
      'after-dead',
      'after-reused',
    ]);
  });

  it('gives up on a live holder after the timeout, naming it; that is an internal failure', async () => {
    const live = { pid: process.pid, start: processStart(process.pid), host: (await import('node:os')).hostname() };
    await writeFile(lockFile(), JSON.stringify({ ...live, at: Date.now(), what: 'gc of lane x', token: 'y' }));
    const err = await withWorktreeLock(path.join(repo.dir, '.git'), 'test', async () => 'ran', {
      timeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorktreeLockTimeoutError);
    expect((err as Error).message).toMatch(new RegExp(`pid ${process.pid} .*\\(gc of lane x\\)`));
    expect(worktreeFailureCode(err)).toBe('internal');
    expect(existsSync(lockFile())).toBe(true); // a live holder's lock is never taken
  });
});

describe('worktreeFailureCode', () => {
  it('names bad requests bad-input and failures of git or locks internal', async () => {
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => worktreeFailureCode(e),
      );
    expect(await codeOf(create('Bad Name'))).toBe('bad-input');
    expect(await codeOf(createLaneWorktree({ ...opts(), base: 'no-such-branch' }))).toBe('bad-input');
    expect(await codeOf(createLaneWorktree({ ...opts(), base: '-x' }))).toBe('bad-input');
    await git(['worktree', 'add', '-b', 'ao/busy', '--', path.join(repo.dir, '.git', 'elsewhere'), 'main'], {
      cwd: repo.dir,
    });
    expect(await codeOf(create('busy'))).toBe('bad-input');
    expect(worktreeFailureCode(new LaneNameError('X'))).toBe('bad-input');
    expect(worktreeFailureCode(new RevisionArgError('base', '-x'))).toBe('bad-input');
    expect(worktreeFailureCode(new WorktreeError('foreign-lock', 'x'))).toBe('conflict');
    expect(worktreeFailureCode(new GitError(['worktree', 'add'], 128, 'fatal: failed to read x/commondir'))).toBe(
      'internal',
    );
    expect(worktreeFailureCode(new GitLockHeldError('/x/index.lock', []))).toBe('internal');
  });
});

describe('the supervisor', () => {
  it('starts 12 lanes asked for at once; a bad base is bad input, git failing is internal', async () => {
    const sup = await createSupervisor({
      repoRoot: repo.dir,
      stateDir: repo.stateDir,
      cols: 80,
      rows: 24,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: repo.dir },
      tickMs: 100,
      stopGraceMs: 1000,
    });
    try {
      const names = Array.from({ length: 12 }, (_, i) => `at-once-${i}`);
      const made = await Promise.allSettled(
        names.map((name) => sup.newLane({ name, profile: 'shell', task: 'wait', base: 'main' })),
      );
      expect(made.filter((r) => r.status === 'rejected').map((r) => String(r.reason))).toEqual([]);
      expect((await listLaneWorktrees(repo.dir, repo.stateDir)).map((w) => w.lane).sort()).toEqual([...names].sort());

      const refused = (name: string, base: string) =>
        sup.newLane({ name, profile: 'shell', task: 'wait', base }).then(
          () => null,
          (e: ActionError) => e.code,
        );
      expect(await refused('bad-base', 'no-such-branch')).toBe('bad-input');
      // git cannot write its worktree bookkeeping: not the request's fault
      const admin = path.join(repo.dir, '.git', 'worktrees');
      await rm(admin, { recursive: true, force: true });
      await writeFile(admin, 'not a directory\n');
      expect(await refused('no-room', 'main')).toBe('internal');
    } finally {
      await sup.shutdown('test over');
    }
  }, 120_000);
});

function opts() {
  return { repoRoot: repo.dir, stateDir: repo.stateDir, lane: 'req' };
}
