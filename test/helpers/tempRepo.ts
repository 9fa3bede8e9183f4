/**
 * Real git repositories in temp dirs for tests. Identity and signing are set in the repo's own
 * config, so commits work on a CI machine with no global git identity.
 */
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { git } from '../../lanes/git/git.js';

export interface TempRepo {
  /** the repo's top level (a real path, no symlinks) */
  dir: string;
  /** `<dir>/.git/ao`, where the console's state (and lane worktrees) would go; not created */
  stateDir: string;
  /** deletes everything */
  cleanup: () => Promise<void>;
}

export interface TempRepoOptions {
  /** name of the first branch (default `main`) */
  branch?: string;
  /** files of the initial commit (default: README.md and package.json) */
  files?: Record<string, string>;
  /** the repo goes in this folder inside the temp dir (a name with spaces, quotes, `$()`...); cleanup removes the temp dir */
  subdir?: string;
}

const DEFAULT_FILES: Record<string, string> = {
  'README.md': '# temp repo\n',
  'package.json': `${JSON.stringify({ name: 'temp-repo', version: '0.0.0', private: true }, null, 2)}\n`,
};

export async function createTempRepo(opts: TempRepoOptions = {}): Promise<TempRepo> {
  const top = await realpath(await mkdtemp(path.join(tmpdir(), 'ao-repo-')));
  const dir = opts.subdir ? path.join(top, opts.subdir) : top;
  if (opts.subdir) await mkdir(dir);
  const run = (args: string[]) => git(args, { cwd: dir });
  await run(['init', '-q', '-b', opts.branch ?? 'main']);
  await run(['config', 'user.name', 'ao test']);
  await run(['config', 'user.email', 'ao-test@example.invalid']);
  await run(['config', 'commit.gpgsign', 'false']);
  await run(['config', 'tag.gpgsign', 'false']);
  for (const [file, content] of Object.entries(opts.files ?? DEFAULT_FILES)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  await run(['add', '-A']);
  await run(['commit', '-q', '-m', 'initial commit']);
  return {
    dir,
    stateDir: path.join(dir, '.git', 'ao'),
    cleanup: () => rm(top, { recursive: true, force: true }),
  };
}

/** Writes `file` (relative to `dir`), commits it, and returns the new commit. */
export async function commitFile(dir: string, file: string, content: string, msg: string): Promise<string> {
  await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
  await writeFile(path.join(dir, file), content);
  await git(['add', '--', file], { cwd: dir });
  await git(['commit', '-q', '-m', msg, '--', file], { cwd: dir });
  return (await git(['rev-parse', 'HEAD'], { cwd: dir })).stdout;
}
