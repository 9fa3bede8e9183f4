/**
 * Repos lanes cannot start in (issue 17): a bare repo, a repo with no commits, one in the middle
 * of a rebase, a detached HEAD. Each gets one sentence with the next step, from the built binary
 * (`serve`, and the dashboard in tmux), not a git error; read-only commands still work where they
 * can. Real git repos in temp dirs.
 */
import { mkdtemp, mkdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitOut } from '../../lanes/git/git.js';
import { laneReadiness } from '../../lanes/git/repo.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { startTmux } from '../helpers/tmux.js';

let top: string;
const g = (cwd: string, ...args: string[]) => gitOut(args, cwd);

async function newRepo(name: string, commit = true): Promise<string> {
  const dir = path.join(top, name);
  await mkdir(dir);
  await g(dir, 'init', '-q', '-b', 'main');
  await g(dir, 'config', 'user.name', 'T');
  await g(dir, 'config', 'user.email', 't@example.invalid');
  await g(dir, 'config', 'commit.gpgsign', 'false');
  if (commit) {
    await writeFile(path.join(dir, 'a.txt'), 'one\n');
    await g(dir, 'add', '-A');
    await g(dir, 'commit', '-q', '-m', 'first');
  }
  return dir;
}

/** `ao-console serve` in `dir`: it must refuse before it starts (exit 1, one line on stderr). */
async function serveRefusal(dir: string): Promise<string> {
  const res = await runCli(['serve'], { cwd: dir, env: { AO_STATE_DIR: path.join(dir, '.ao-state-test') } });
  expect(res.code, res.stderr).toBe(1);
  expect(res.stdout).toBe('');
  expect(res.stderr).not.toMatch(/fatal:|GitError|\n\s+at /);
  expect(res.stderr.trim().split('\n')).toHaveLength(1);
  return res.stderr;
}

beforeAll(async () => {
  top = await realpath(await mkdtemp(path.join(tmpdir(), 'ao-repostates-')));
});
afterAll(async () => {
  await rm(top, { recursive: true, force: true });
});

describe('repos lanes cannot start in', () => {
  it('a bare repo: says so and to clone it, for every command', async () => {
    const src = await newRepo('src');
    const bare = path.join(top, 'bare.git');
    await g(top, 'clone', '-q', '--bare', src, bare);
    for (const args of [['serve'], ['lanes'], ['--repo', bare, 'sessions']]) {
      const res = await runCli(args, { cwd: args[0] === '--repo' ? top : bare });
      expect(res.code, args.join(' ')).toBe(1);
      expect(res.stderr).toContain(`${bare} is a bare repository`);
      expect(res.stderr).toContain(`git clone ${bare} <dir>`);
      expect(res.stderr).not.toContain('not inside a git repository');
    }
  });

  it('a repo with no commits: serve says to make the first commit; lanes still lists nothing', async () => {
    const dir = await newRepo('empty', false);
    const msg = await serveRefusal(dir);
    expect(msg).toContain(`${dir} has no commits yet (branch main is unborn), and lanes branch off a commit`);
    expect(msg).toContain('git commit');
    const lanes = await runCli(['lanes', '--json'], { cwd: dir });
    expect(lanes.code).toBe(0);
    expect(JSON.parse(lanes.stdout)).toEqual([]);
  });

  it('a repo in the middle of a rebase: says which operation and how to end it', async () => {
    const dir = await newRepo('rebasing');
    await g(dir, 'switch', '-q', '-c', 'topic');
    await writeFile(path.join(dir, 'a.txt'), 'topic\n');
    await g(dir, 'commit', '-q', '-am', 'topic');
    await g(dir, 'switch', '-q', 'main');
    await writeFile(path.join(dir, 'a.txt'), 'main\n');
    await g(dir, 'commit', '-q', '-am', 'main');
    await g(dir, 'switch', '-q', 'topic');
    await gitOut(['rebase', 'main'], dir).catch(() => undefined); // stops on the conflict
    expect(await laneReadiness(dir)).toMatchObject({ kind: 'in-progress' });
    const msg = await serveRefusal(dir);
    expect(msg).toContain(`${dir} is in the middle of a rebase (HEAD is detached)`);
    expect(msg).toContain('git rebase --continue` or `git rebase --abort');
  });

  it('a detached HEAD: says to check out a branch or set baseBranch; with baseBranch set lanes can start', async () => {
    const dir = await newRepo('detached');
    await g(dir, 'switch', '-q', '--detach', 'HEAD');
    const msg = await serveRefusal(dir);
    expect(msg).toMatch(/has a detached HEAD \(at [0-9a-f]{12}\)/);
    expect(msg).toContain('git switch main');
    expect(msg).toContain('"baseBranch" in .ao/config.json');
    expect(await laneReadiness(dir, { baseBranch: 'main' })).toBeNull();
    await g(dir, 'switch', '-q', 'main');
    expect(await laneReadiness(dir)).toBeNull();
  });

  it('the dashboard says the same in its terminal, and exits 1', async () => {
    const dir = await newRepo('dash-empty', false);
    const t = await startTmux({ command: [process.execPath, CLI], cwd: dir, cols: 100, rows: 20 });
    try {
      expect(await t.waitForExit(30_000)).toBe(1);
      const screen = (await t.capture({ history: true })).replace(/\s*\n\s*/g, ' ');
      expect(screen).toContain('has no commits yet');
      expect(screen).not.toMatch(/fatal:|invalid reference/);
    } finally {
      await t.kill();
    }
  });
});
