/**
 * No agent process survives its lane's stop, also Codex's `app-server` daemon: run WITHOUT
 * `--no-daemon` (a repo profile in the test; the built-in passes it), Codex starts the daemon in a
 * session of its own, re-parented away from the lane's process group, so killing the group misses
 * it. The reaper finds it by the lane's AO_PROC_TOKEN and ends it with the lane. The test first
 * checks that the daemon did start (else it would prove nothing).
 *
 * The real Codex CLI (test/helpers/agentCache.ts) against the scripted model (test/model/server.ts).
 */
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { createTempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';
import { startModelServer } from '../model/server.js';
import { prepareAgent } from '../model/agents.js';
import { agentSupervisor, useAgentCache, useCleanups } from '../helpers/agentLoop.js';
import { worktreesDir } from '../../lanes/config/paths.js';
import { builtinDir } from '../../profiles/loader.js';
import { openStore } from '../helpers/laneProcs.js';
import { findLaneProcesses, reapByToken } from '../../lanes/process/reaper.js';
import { readProcStat } from '../../lanes/process/procStat.js';

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** the session id of a process (field 6 of /proc/<pid>/stat), null when gone */
function sessionOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
}

describe('a lane stop ends Codex and its app-server daemon', () => {
  const need = useAgentCache();

  const cleanups = useCleanups();

  it('the daemon starts in its own session with the lane token; stop leaves no process of the lane', async (ctx) => {
    const c = need(ctx);
    const server = await startModelServer({ script: [{ text: 'done' }, { text: 'done' }] });
    cleanups.push(() => server.close());
    const repo = await createTempRepo();
    cleanups.push(() => repo.cleanup());
    const home = await realpath(await mkdtemp(path.join(tmpdir(), 'ao-reaper-codex-')));
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    const lane = 'daemon';
    const worktree = path.join(worktreesDir(repo.stateDir), lane);
    const setup = await prepareAgent('codex', { home, url: server.url, worktree });

    // The built-in codex profile with the daemon left on: no --no-daemon, and no `-c` overrides
    // (Codex runs its app server embedded, not as the shared daemon, when the command line
    // overrides its config).
    const builtin = JSON.parse(await readFile(path.join(builtinDir(), 'codex.json'), 'utf8')) as {
      args: string[];
    };
    expect(builtin.args).toContain('--no-daemon');
    const args = builtin.args.filter((a, i) => a !== '--no-daemon' && a !== '-c' && builtin.args[i - 1] !== '-c');
    expect(args.slice(-2)).toEqual(['--', '{task}']);
    const profile = { ...builtin, name: 'codex-daemon', args };
    delete (profile as { resumeArgs?: unknown }).resumeArgs;
    await mkdir(path.join(repo.dir, '.ao', 'profiles'), { recursive: true });
    await writeFile(path.join(repo.dir, '.ao', 'profiles', 'codex-daemon.json'), JSON.stringify(profile));

    const sup = await agentSupervisor({ repo, cache: c, home, env: setup.env });
    cleanups.push(() => sup.shutdown('test over'));
    await sup.newLane({ name: lane, profile: 'codex-daemon', task: 'say done' });
    const db = openStore(repo);
    const { pid, procToken } = db
      .prepare('SELECT pid, proc_token AS procToken FROM lanes WHERE name = ?')
      .get(lane) as { pid: number; procToken: string };
    db.close();
    expect(procToken).toMatch(/^[0-9a-f]{24}$/);
    cleanups.push(() => reapByToken(procToken, 100));

    // The daemon: an app-server process carrying the lane's token, in a session other than the lane's.
    const daemon = await waitFor(
      () => findLaneProcesses(procToken).find((p) => /\bapp-server\b/.test(cmdline(p)) && sessionOf(p) !== pid) ?? null,
      'a codex app-server process with the lane token, in a session of its own',
      60_000,
      100,
    );
    expect(sessionOf(daemon)).not.toBe(pid);
    expect(readProcStat(daemon)?.pgrp).not.toBe(pid);
    // Codex is up and has talked to the model before it is stopped.
    await server.waitForStep(1, 60_000);

    await sup.stop(lane);
    expect(sup.getLane(lane)!.state).toBe('stopped');
    expect(findLaneProcesses(procToken)).toEqual([]);
    expect(alive(daemon)).toBe(false);
    expect(alive(pid)).toBe(false);
  }, 180_000);
});
