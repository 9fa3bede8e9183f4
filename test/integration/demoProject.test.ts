/** The throwaway project `ao-console demo` runs in (src/demo/project.ts), as a real repository. */
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git } from '../../lanes/git/git.js';
import { createDemoRepo } from '../../src/demo/project.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
const out = async (args: string[], cwd: string) => (await git(args, { cwd })).stdout;

describe('createDemoRepo', () => {
  it('makes one clean commit on main by the demo identity, with the demo files and the gates config', async () => {
    const dir = await realpath(await mkdtemp(path.join(tmpdir(), 'ao-demo-test-')));
    dirs.push(dir);
    expect(await createDemoRepo(dir)).toBe(dir);
    expect(await out(['log', '--format=%an <%ae>|%s'], dir)).toBe(
      'ao demo <demo@ao.invalid>|demo-shop: initial commit',
    );
    expect(await out(['symbolic-ref', '--short', 'HEAD'], dir)).toBe('main');
    expect(await out(['status', '--porcelain', '--untracked-files=all'], dir)).toBe('');
    expect(await out(['config', '--local', 'commit.gpgsign'], dir)).toBe('false');
    expect((await out(['ls-files'], dir)).split('\n')).toEqual([
      '.ao/config.json',
      'README.md',
      'package.json',
      'src/price.js',
      'test.js',
    ]);
    const config = JSON.parse(await readFile(path.join(dir, '.ao/config.json'), 'utf8'));
    expect(config.gates.map((g: { name?: string; builtin?: string }) => g.name ?? g.builtin)).toEqual([
      'test',
      'diff-limit',
      'no-secrets',
      'merge-clean',
    ]);
  });

  it('without a directory, creates one under the temp dir', async () => {
    const dir = await createDemoRepo();
    dirs.push(dir);
    expect(dir.startsWith(await realpath(tmpdir()))).toBe(true);
    expect(await out(['rev-list', '--count', 'HEAD'], dir)).toBe('1');
  });
});
