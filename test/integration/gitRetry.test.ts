/**
 * Retrying git while another git process holds a lock (lanes/git/gitRetry.ts), against a real
 * repo with a real lock file.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { git, GitError } from '../../lanes/git/git.js';
import { gitRetrying, isTransientLockFailure } from '../../lanes/git/gitRetry.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

let repo: TempRepo;
beforeEach(async () => {
  repo = await createTempRepo();
});
afterEach(() => repo.cleanup());

describe('isTransientLockFailure', () => {
  it('knows git messages about locks and half-written worktree files, and nothing else', () => {
    expect(
      isTransientLockFailure(
        "fatal: Unable to create '/r/.git/index.lock': File exists.\n\nAnother git process seems to be running in this repository",
      ),
    ).toBe(true);
    expect(
      isTransientLockFailure(
        "error: cannot lock ref 'refs/heads/ao/x': Unable to create '/r/.git/refs/heads/ao/x.lock': File exists.",
      ),
    ).toBe(true);
    expect(isTransientLockFailure('fatal: failed to read /r/.git/worktrees/x/commondir: Success')).toBe(true);
    expect(isTransientLockFailure('fatal: invalid reference: nope')).toBe(false);
    expect(isTransientLockFailure("fatal: '/r/w' already exists")).toBe(false);
    expect(isTransientLockFailure("error: cannot lock ref 'refs/heads/x': is at 1234 but expected 5678")).toBe(false);
  });
});

describe('gitRetrying', () => {
  it('waits out an index.lock that another process removes, then succeeds', async () => {
    await writeFile(path.join(repo.dir, 'new.txt'), 'x\n');
    const lock = path.join(repo.dir, '.git', 'index.lock');
    await writeFile(lock, '');
    setTimeout(() => void rm(lock, { force: true }), 300);
    await gitRetrying(['add', '--', 'new.txt'], { cwd: repo.dir });
    expect((await git(['diff', '--cached', '--name-only'], { cwd: repo.dir })).stdout).toBe('new.txt');
  });

  it('gives up after its attempts with git own message, and never retries other failures', async () => {
    await writeFile(path.join(repo.dir, '.git', 'index.lock'), '');
    await writeFile(path.join(repo.dir, 'new.txt'), 'x\n');
    const started = Date.now();
    const err = await gitRetrying(['add', '--', 'new.txt'], { cwd: repo.dir }, { attempts: 3, firstDelayMs: 20 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GitError);
    expect((err as Error).message).toMatch(/index\.lock': File exists/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(20 + 40);
    const quick = Date.now();
    const res = await gitRetrying(['rev-parse', '--verify', 'nope'], { cwd: repo.dir, allowFail: true });
    expect(res.exitCode).not.toBe(0);
    expect(Date.now() - quick).toBeLessThan(1000);
  });
});
