/**
 * lanes/git/repo.ts, lanes/git/diff.ts and mergeTree (lanes/git/merge.ts) against real git
 * repositories in temp dirs.
 */
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { git } from '../../lanes/git/git.js';
import { changedPaths, diffAddedLines, diffStat } from '../../lanes/git/diff.js';
import { mergeTree } from '../../lanes/git/merge.js';
import { RevisionArgError } from '../../lanes/git/refs.js';
import { currentBranch, findRepo, gitVersion, initRepo, repoDirs } from '../../lanes/git/repo.js';
import { commitFile, createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

let repo: TempRepo;
const dirs: string[] = [];
const tempDir = async () => {
  const d = await realpath(await mkdtemp(path.join(tmpdir(), 'ao-git-')));
  dirs.push(d);
  return d;
};
const out = async (args: string[], cwd = repo.dir) => (await git(args, { cwd })).stdout;

beforeEach(async () => {
  repo = await createTempRepo();
});
afterEach(async () => {
  await repo.cleanup();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('findRepo and repoDirs', () => {
  it('name the top level, the common dir and the git dir, from any directory inside', async () => {
    await mkdir(path.join(repo.dir, 'a', 'b'), { recursive: true });
    const expected = { root: repo.dir, commonDir: path.join(repo.dir, '.git'), gitDir: path.join(repo.dir, '.git') };
    expect(await findRepo(path.join(repo.dir, 'a', 'b'))).toEqual(expected);
    expect(await repoDirs(repo.dir)).toEqual(expected);
  });

  it('in a linked worktree, name that worktree and its own git dir, and the shared common dir', async () => {
    const wt = path.join(await tempDir(), 'wt');
    await git(['worktree', 'add', '-q', '-b', 'side', '--', wt], { cwd: repo.dir });
    const found = await findRepo(wt);
    expect(found).toEqual({
      root: wt,
      commonDir: path.join(repo.dir, '.git'),
      gitDir: path.join(repo.dir, '.git', 'worktrees', 'wt'),
    });
  });

  it('outside a repository: findRepo says null, repoDirs throws git’s message', async () => {
    const plain = await tempDir();
    expect(await findRepo(plain)).toBeNull();
    await expect(repoDirs(plain)).rejects.toThrow(/not a git repository/);
  });
});

describe('currentBranch', () => {
  it('is the checked-out branch, and null on a detached HEAD', async () => {
    expect(await currentBranch(repo.dir)).toBe('main');
    await git(['switch', '-q', '-c', 'feature/x'], { cwd: repo.dir });
    expect(await currentBranch(repo.dir)).toBe('feature/x');
    await git(['switch', '-q', '--detach', 'HEAD'], { cwd: repo.dir });
    expect(await currentBranch(repo.dir)).toBeNull();
  });
});

describe('gitVersion', () => {
  it('is what git --version prints', async () => {
    const v = await gitVersion();
    expect(v).toEqual({ version: expect.stringMatching(/^git version \d+\.\d+/) });
  });
});

describe('initRepo', () => {
  it('creates a repository on the given branch with the given config', async () => {
    const dir = await tempDir();
    await initRepo(dir, { branch: 'trunk', config: { 'user.name': 'someone', 'commit.gpgsign': 'false' } });
    expect(await findRepo(dir)).toMatchObject({ root: dir });
    expect(await out(['symbolic-ref', '--short', 'HEAD'], dir)).toBe('trunk');
    expect(await out(['config', '--local', 'user.name'], dir)).toBe('someone');
    expect(await out(['config', '--local', 'commit.gpgsign'], dir)).toBe('false');
  });

  it('refuses a branch that reads as an option, before running git', async () => {
    const dir = await tempDir();
    await expect(initRepo(dir, { branch: '--bare' })).rejects.toThrow(RevisionArgError);
    expect(await findRepo(dir)).toBeNull();
  });
});

describe('diff of a lane against its base', () => {
  let head: string;
  beforeEach(async () => {
    await git(['switch', '-q', '-c', 'lane'], { cwd: repo.dir });
    await commitFile(repo.dir, 'src/new.js', 'one\ntwo\n', 'add new');
    await writeFile(path.join(repo.dir, 'README.md'), '# temp repo\nmore\n');
    await git(['mv', 'package.json', 'pkg.json'], { cwd: repo.dir });
    await git(['commit', '-q', '-am', 'edit and rename'], { cwd: repo.dir });
    head = await out(['rev-parse', 'HEAD']);
    // base moves on after the fork: its own change is not the lane's
    await git(['switch', '-q', 'main'], { cwd: repo.dir });
    await commitFile(repo.dir, 'base-only.txt', 'x\n', 'base moves on');
  });

  it('changedPaths lists every path touched since the fork, both names of a rename', async () => {
    expect((await changedPaths(repo.dir, 'main', head)).sort()).toEqual(
      ['README.md', 'package.json', 'pkg.json', 'src/new.js'].sort(),
    );
  });

  it('diffAddedLines gives each added line with its path and line number in the new file', async () => {
    expect(await diffAddedLines(repo.dir, 'main', head)).toEqual([
      { path: 'README.md', line: 2, text: 'more' },
      { path: 'src/new.js', line: 1, text: 'one' },
      { path: 'src/new.js', line: 2, text: 'two' },
    ]);
  });

  it('diffStat counts lines per file and names a rename’s old path', async () => {
    const rows = await diffStat(repo.dir, 'main', head);
    expect(rows).toEqual(
      expect.arrayContaining([
        { path: 'README.md', added: 1, deleted: 0 },
        { path: 'src/new.js', added: 2, deleted: 0 },
        { path: 'pkg.json', oldPath: 'package.json', added: 0, deleted: 0 },
      ]),
    );
    expect(rows).toHaveLength(3);
  });

  it('refuses a base that reads as an option', async () => {
    await expect(changedPaths(repo.dir, '--output=/tmp/x', head)).rejects.toThrow(RevisionArgError);
  });
});

describe('mergeTree', () => {
  it('gives the merged tree when the two sides merge cleanly', async () => {
    await git(['switch', '-q', '-c', 'side'], { cwd: repo.dir });
    await commitFile(repo.dir, 'side.txt', 'side\n', 'side');
    await git(['switch', '-q', 'main'], { cwd: repo.dir });
    await commitFile(repo.dir, 'main.txt', 'main\n', 'main');
    const res = await mergeTree(repo.dir, 'main', 'side');
    expect(res.clean).toBe(true);
    expect(await out(['ls-tree', '--name-only', res.tree])).toBe(
      ['README.md', 'main.txt', 'package.json', 'side.txt'].join('\n'),
    );
    expect(await out(['status', '--porcelain'])).toBe('');
  });

  it('names the conflicting paths and touches nothing', async () => {
    await git(['switch', '-q', '-c', 'side'], { cwd: repo.dir });
    await commitFile(repo.dir, 'README.md', 'side\n', 'side edit');
    await git(['switch', '-q', 'main'], { cwd: repo.dir });
    await commitFile(repo.dir, 'README.md', 'main\n', 'main edit');
    const res = await mergeTree(repo.dir, 'main', 'side');
    expect(res).toMatchObject({ clean: false, paths: ['README.md'] });
    expect(await out(['status', '--porcelain'])).toBe('');
  });
});
