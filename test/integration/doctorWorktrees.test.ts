/**
 * The README's claim, tested (issue 17): `doctor` finds a lane worktree whose directory is gone
 * (lane worktrees are locked, so git itself never calls them prunable), names it and says how to
 * how to fix it; done as it says, doctor is content again.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor } from '../../lanes/supervisor/supervisor.js';
import { runCli } from '../helpers/cliBin.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';

const ENV = { AO_DEMO_SPEED: '0' };
let repo: TempRepo | null = null;
afterEach(async () => {
  await repo?.cleanup();
  repo = null;
});

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

describe('doctor and stale lane worktrees', () => {
  it('names a lane worktree whose directory is gone, exits 1 with the fix; done as it says, it is clean', async () => {
    repo = await createTempRepo();
    const sup = await createSupervisor({
      repoRoot: repo.dir,
      stateDir: repo.stateDir,
      cols: 80,
      rows: 24,
      env: { ...process.env, ...ENV },
    });
    let worktree = '';
    try {
      await sup.newLane({ name: 'gone', profile: 'demo', task: 'ask create file gone.txt' });
      await waitFor(() => sup.getLane('gone')?.state === 'waiting-input', 'the lane to ask', 30_000);
      worktree = sup.getLane('gone')!.worktree;
    } finally {
      await sup.shutdown('test over');
    }
    const run = (...args: string[]) => runCli(args, { cwd: repo!.dir, env: { AO_STATE_DIR: repo!.stateDir, ...ENV } });
    const worktrees = (stdout: string): Check =>
      (JSON.parse(stdout) as { checks: Check[] }).checks.find((c) => c.name === 'worktrees')!;

    let r = await run('doctor', '--json');
    expect(worktrees(r.stdout)).toMatchObject({ ok: true });

    await rm(worktree, { recursive: true, force: true }); // removed by hand, behind git's back
    r = await run('doctor', '--json');
    expect(r.code).toBe(1);
    const check = worktrees(r.stdout);
    expect(check.ok).toBe(false);
    expect(check.detail).toContain('registered but gone');
    expect(check.detail).toContain(worktree);
    expect(check.detail).toContain('lane gone is still open');
    expect(check.fix).toContain('`ao-console ctl remove gone`');
    expect(check.fix).toContain('ao-console gc');

    // the fix as doctor says it: the lane removed through the engine (its worktree is gone already)
    expect((await run('engine', 'start')).code).toBe(0);
    try {
      r = await run('ctl', 'remove', 'gone');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    } finally {
      await run('engine', 'stop', '--yes');
    }
    r = await run('doctor', '--json');
    expect(worktrees(r.stdout)).toMatchObject({ ok: true, detail: 'no stale lane worktrees' });
  }, 90_000);
});
