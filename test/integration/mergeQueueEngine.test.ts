/**
 * The merge queue across a real engine process (`engine start`: `serve --background`) and the real binary:
 * - `ctl approve` answers once queued; `ao-console queue --json` shows the entry validating;
 *   the engine is killed (kill -9) mid-validation (a slow gate on base + lane); started again,
 *   the queue continues (the entry starts over) and the lane lands;
 * - `ctl approve --wait` exits 0 once the lane landed, and 1 with the reason when it left the
 *   queue (a merge conflict with the base found by merge-tree).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli } from '../helpers/cliBin.js';
import { alive, enginePid, stopEverything } from '../helpers/laneProcs.js';
import { commitFile, type TempRepo } from '../helpers/tempRepo.js';
import { useTempTrustFile } from '../helpers/trust.js';
import { waitFor } from '../helpers/waitFor.js';
import { git } from '../../lanes/git/git.js';
import { createQueueRepo } from '../helpers/mergeQueueRepo.js';

const trustFile = useTempTrustFile();
afterAll(() => trustFile.cleanup());

const repos: TempRepo[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const r of repos.splice(0)) {
    await stopEverything(r, { AO_TRUST_FILE: trustFile.file });
    await r.cleanup();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('merge queue in a real engine', () => {
  it('resumes after kill -9 of the engine mid-validation, and approve --wait exits 0 / 1', async () => {
    const { repo, counter, counterDir } = await createQueueRepo({ waitMs: 3000 });
    dirs.push(counterDir);
    repos.push(repo);
    const env = { AO_STATE_DIR: repo.stateDir, AO_TRUST_FILE: trustFile.file };
    const cli = (...args: string[]) => runCli(args, { cwd: repo.dir, env, timeoutMs: 90_000 });
    const ok = async (...args: string[]) => {
      const r = await cli(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    const runs = () => readFileSync(counter, 'utf8').split('\n').filter(Boolean);
    const queue = async () =>
      JSON.parse((await ok('queue', '--json')).stdout) as {
        paused: boolean;
        entries: { lane: string; state: string; since: number }[];
      };
    /** A lane whose worktree gets `files`, handed off (its gate runs) and in review. */
    const lane = async (name: string, files: Record<string, string>) => {
      const created = JSON.parse((await ok('ctl', 'new', '--name', name, '--profile', 'sh', '--json')).stdout) as {
        worktree: string;
      };
      for (const [f, text] of Object.entries(files)) await writeFile(path.join(created.worktree, f), text);
      await ok('ctl', 'handoff', name);
      await ok('ctl', 'wait', name, '--state', 'awaiting-approval', '--timeout', '60');
    };

    await ok('engine', 'start');
    await lane('land', { 'land.js': "const lib = require('./lib.js');\nlib.greet('land');\n" });
    expect(runs()).toHaveLength(1);
    // main moves: the lane's own verdict is not about what would land, the gate runs on base + lane
    await commitFile(repo.dir, 'notes.txt', 'main moved\n', 'main moves');

    const approved = await ok('ctl', 'approve', 'land');
    expect(approved.stdout).toMatch(/^approved: lane land is approved \(queue 1\/1\)/);
    await waitFor(async () => runs().length === 2, 'the gate to start on the merged tree', 30_000);
    const during = await queue();
    expect(during).toEqual({
      paused: false,
      entries: [{ lane: 'land', state: 'validating', since: expect.any(Number) }],
    });

    const pid = enginePid(repo)!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !alive(pid), 'the killed engine to be gone', 10_000);
    expect(await git(['log', '-1', '--format=%s', 'main'], { cwd: repo.dir })).toMatchObject({ stdout: 'main moves' });

    const again = await cli('engine', 'start').catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message }));
    expect(again.code, `${again.stderr}\n${readFileSync(path.join(repo.stateDir, 'engine.log'), 'utf8')}`).toBe(0);
    const after = await queue();
    expect(after.entries.map((e) => e.lane)).toEqual(['land']);
    await ok('ctl', 'wait', 'land', '--state', 'merged', '--timeout', '60');
    expect(runs().length).toBeGreaterThanOrEqual(3); // it started over
    const files = (await git(['ls-tree', '-r', '--name-only', 'main'], { cwd: repo.dir })).stdout.split('\n');
    expect(files).toEqual(expect.arrayContaining(['land.js', 'notes.txt']));
    expect(existsSync(path.join(repo.stateDir, 'queue', 'land'))).toBe(false);
    expect((await queue()).entries).toEqual([]);

    // --wait: exit 0 once landed
    await lane('second', { 'second.js': "const lib = require('./lib.js');\nlib.greet('second');\n" });
    const landed = await ok('ctl', 'approve', 'second', '--wait');
    expect(landed.stdout).toMatch(/^landed: lane second is merged/);

    // --wait: exit 1 with the reason when it leaves the queue
    await lane('clash', { 'main.js': "console.log('mine');\n" });
    await commitFile(repo.dir, 'main.js', "console.log('theirs');\n", 'main changes main.js');
    const refused = await cli('ctl', 'approve', 'clash', '--wait');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('merge conflict with main in 1 path(s): main.js');
    const status = JSON.parse((await ok('ctl', 'status', '--json')).stdout) as {
      lanes: { name: string; state: string }[];
    };
    expect(status.lanes.find((l) => l.name === 'clash')?.state).toBe('awaiting-approval');
  }, 240_000);
});
