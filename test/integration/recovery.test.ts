/**
 * Crash recovery: a console killed with SIGKILL leaves agents (and their escaped children)
 * running and its lanes mid-flight. The next console marks them interrupted, reaps every
 * leftover process, checks the database, and can resume the lane in the same worktree.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { findLaneProcesses } from '../../lanes/process/reaper.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';

const ENV = { AO_DEMO_SPEED: '0', AO_DEMO_ORPHAN_SECS: '120' };
let repo: TempRepo | undefined;
let sup: Supervisor | undefined;
const tokens: string[] = [];

afterEach(async () => {
  await sup?.shutdown('test over');
  for (const t of tokens) for (const pid of findLaneProcesses(t)) process.kill(pid, 'SIGKILL');
  await repo?.cleanup();
});

it('recovers from kill -9 of the console: lanes interrupted, no stray process, integrity ok, resumable', async () => {
  repo = await createTempRepo();
  const dir = repo.dir;
  const serve = spawn(process.execPath, [CLI, 'serve'], {
    cwd: dir,
    env: { ...process.env, ...ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  serve.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('"type":"ready"'), 'serve ready');
  const created = await runCli(['ctl', 'new', '--name', 'stuck', '--profile', 'demo', '--task', 'orphan then hang'], {
    cwd: dir,
    env: ENV,
  });
  expect(created.code, created.stderr).toBe(0);
  const db = new Database(path.join(repo.stateDir, 'ao.db'), { readonly: true });
  const token = await waitFor(() => {
    const row = db.prepare("SELECT proc_token, state FROM lanes WHERE name = 'stuck'").get() as {
      proc_token: string | null;
      state: string;
    };
    return row.state === 'running' && row.proc_token ? row.proc_token : null;
  }, 'lane running');
  tokens.push(token);
  // Wait until the agent hangs (SIGHUP ignored from then on) and its orphan exists.
  await waitFor(
    async () => (await runCli(['ctl', 'screen', 'stuck'], { cwd: dir })).stdout.includes('never frees'),
    'agent hanging',
  );
  await waitFor(() => findLaneProcesses(token).length >= 3, 'shim, agent and orphan');
  serve.kill('SIGKILL');
  await new Promise((r) => serve.once('exit', r));
  await new Promise((r) => setTimeout(r, 300));
  // The hang agent ignores SIGHUP and the orphan escaped the group: both outlive the console.
  expect(findLaneProcesses(token).length).toBeGreaterThan(0);
  db.close();

  sup = await createSupervisor({
    repoRoot: dir,
    stateDir: repo.stateDir,
    cols: 80,
    rows: 24,
    env: { ...process.env, ...ENV },
    stopGraceMs: 500,
  });
  expect(findLaneProcesses(token)).toEqual([]);
  expect(sup.getLane('stuck')?.state).toBe('interrupted');
  expect(sup.recoveryNotes.join('\n')).toMatch(/crashed/);
  expect(sup.recoveryNotes.join('\n')).not.toMatch(/integrity problems/);
  const check = new Database(path.join(repo.stateDir, 'ao.db'), { readonly: true });
  expect(check.pragma('quick_check', { simple: true })).toBe('ok');
  const ended = check.prepare("SELECT end_reason FROM sessions WHERE end_reason = 'crashed'").all();
  expect(
    check.prepare("SELECT outcome FROM closures WHERE lane_id = (SELECT id FROM lanes WHERE name = 'stuck')").get(),
  ).toEqual({ outcome: 'interrupted' });
  check.close();
  expect(ended).toHaveLength(1);

  // Resume: same worktree, the agent runs again (and is stopped cleanly).
  const worktree = sup.getLane('stuck')!.worktree;
  await sup.resume('stuck');
  await waitFor(() => sup!.getLane('stuck')?.state === 'running', 'resumed lane running');
  expect(sup.getLane('stuck')!.worktree).toBe(worktree);
  await sup.stop('stuck');
  expect(sup.getLane('stuck')!.state).toBe('stopped');
});
