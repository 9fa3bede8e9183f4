/**
 * What a test needs to see and clean up the processes of a repo's lanes: the lanes' process
 * tokens from the store, the live processes that carry one (or run inside a lane worktree), and
 * the engine that holds the repo's lock.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { lockFile } from '../../lanes/config/paths.js';
import { runCli } from './cliBin.js';
import type { TempRepo } from './tempRepo.js';

/** Opens the store read-only (the engine may still be running; WAL readers do not block it). */
export function openStore(repo: TempRepo): Database.Database {
  return new Database(path.join(repo.stateDir, 'ao.db'), { readonly: true, fileMustExist: true });
}

export function procTokens(repo: TempRepo): string[] {
  let db: Database.Database;
  try {
    db = openStore(repo);
  } catch {
    return [];
  }
  try {
    return (
      db.prepare('SELECT proc_token FROM lanes WHERE proc_token IS NOT NULL').all() as { proc_token: string }[]
    ).map((r) => r.proc_token);
  } finally {
    db.close();
  }
}

/**
 * Live (non-zombie) processes that belong to the repo's lanes: the ones carrying a lane's
 * AO_PROC_TOKEN in their environment, and the ones whose working directory is inside a lane
 * worktree under the state dir.
 */
export function laneProcesses(repo: TempRepo, tokens: string[]): number[] {
  const needles = tokens.map((t) => Buffer.from(`AO_PROC_TOKEN=${t}\0`));
  const worktrees = path.join(repo.stateDir, 'worktrees') + path.sep;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const environ = readFileSync(`/proc/${entry}/environ`);
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // not ours to read
      }
      if (needles.some((n) => environ.includes(n)) || (cwd + path.sep).startsWith(worktrees)) found.push(Number(entry));
    } catch {
      // the process ended while we looked, or is not ours
    }
  }
  return found;
}

export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** True while a process with this pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** The pid in the repo's console lock (the engine's), or null. */
export function enginePid(repo: TempRepo): number | null {
  try {
    const pid = (JSON.parse(readFileSync(lockFile(repo.stateDir), 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Leaves nothing of the repo running: `engine stop --yes`, then SIGKILL for an engine that
 * did not go and for every lane process left. For afterAll/afterEach.
 */
export async function stopEverything(repo: TempRepo, env: Record<string, string> = {}): Promise<void> {
  const pid = enginePid(repo);
  await runCli(['engine', 'stop', '--yes'], {
    cwd: repo.dir,
    env: { AO_STATE_DIR: repo.stateDir, ...env },
    timeoutMs: 60_000,
  }).catch(() => undefined);
  if (pid !== null && alive(pid)) killAll([pid]);
  killAll(laneProcesses(repo, procTokens(repo)));
}
