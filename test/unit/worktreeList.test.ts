import { describe, expect, it } from 'vitest';
import { parseStatusPaths, parseWorktreeList } from '../../lanes/git/worktreeList.js';

describe('parseWorktreeList', () => {
  it('reads every field of `git worktree list --porcelain -z`', () => {
    const out = [
      'worktree /repo',
      'HEAD aaaa',
      'branch refs/heads/main',
      '',
      'worktree /repo/.git/ao/worktrees/a b',
      'HEAD bbbb',
      'branch refs/heads/ao/a b',
      'locked ao-console lane a',
      '',
      'worktree /gone',
      'HEAD cccc',
      'detached',
      'prunable gitdir file points to non-existent location',
      '',
      'worktree /locked-no-reason',
      'HEAD dddd',
      'branch refs/heads/x',
      'locked',
      '',
      'worktree /bare',
      'bare',
      '',
      '',
    ].join('\0');
    const list = parseWorktreeList(out);
    expect(list.map((e) => e.path)).toEqual([
      '/repo',
      '/repo/.git/ao/worktrees/a b',
      '/gone',
      '/locked-no-reason',
      '/bare',
    ]);
    expect(list[0]).toMatchObject({ head: 'aaaa', branch: 'main', locked: false, prunable: false, detached: false });
    expect(list[1]).toMatchObject({ branch: 'ao/a b', locked: true, lockReason: 'ao-console lane a' });
    expect(list[2]).toMatchObject({
      branch: null,
      detached: true,
      prunable: true,
      prunableReason: 'gitdir file points to non-existent location',
    });
    expect(list[3]).toMatchObject({ locked: true, lockReason: '' });
    expect(list[4]).toMatchObject({ bare: true, head: null, branch: null });
  });

  it('returns nothing for empty output', () => {
    expect(parseWorktreeList('')).toEqual([]);
  });
});

describe('parseStatusPaths', () => {
  it('skips the original path of a rename and keeps names with spaces and arrows', () => {
    const out = ['R  new name.txt', 'old name.txt', ' M a -> b.txt', '?? dir/x', 'D  gone', ''].join('\0');
    expect(parseStatusPaths(out)).toEqual(['new name.txt', 'a -> b.txt', 'dir/x', 'gone']);
  });
});
