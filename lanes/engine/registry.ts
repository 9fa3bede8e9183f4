/**
 * The per-user engine registry: one small JSON file per running engine, so `ao-console engines`
 * and a dashboard over every repo (`--all`) can find all of the user's engines without a central
 * process or store. Each engine writes its entry once its control socket listens and removes it
 * when it stops (or exits); an engine killed with -9 leaves its file, and the next reader prunes it.
 *
 * - Where: `$AO_ENGINE_REGISTRY` (tests), else `<user state dir>/engines` (lanes/config/userState.ts:
 *   `$XDG_STATE_HOME/ao-console/engines`, else `~/.local/state/ao-console/engines`).
 * - A file is `<first 16 hex of sha256(stateDir)>.json`: one per state dir, so a new engine of a
 *   repo replaces what a crashed one left. 0600 in a 0700 directory, written atomically (a temp
 *   file in the same directory, then rename): a reader sees the old entry or the new one.
 * - Live means: the pid runs, it is the process holding the repo's engine lock (same pid and
 *   kernel start time, so a pid reused by another program does not count) and the socket exists.
 *   An entry whose engine is gone is removed; so is a file that is not an entry (bad JSON, wrong
 *   shape, a name that does not match its state dir).
 */
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../config/atomicFile.js';
import { lockFile } from '../config/paths.js';
import { userStateDir } from '../config/userState.js';
import { ownerAlive, readLock } from '../control/lock.js';
import { pidAlive } from '../process/procStat.js';

export interface EngineEntry {
  pid: number;
  /** the repo's main working tree */
  repoRoot: string;
  /** the engine's state dir (database, worktrees, socket, lock) */
  stateDir: string;
  /** where the engine listens (the short fallback path when the state dir's is too long) */
  socketPath: string;
  /** ao-console version of the engine */
  version: string;
  /** control protocol version of the engine */
  protocol: number;
  /** epoch ms */
  startedAt: number;
}

const entrySchema = z.object({
  pid: z.number().int().positive(),
  repoRoot: z.string().refine((p) => path.isAbsolute(p), 'not an absolute path'),
  stateDir: z.string().refine((p) => path.isAbsolute(p), 'not an absolute path'),
  socketPath: z.string().refine((p) => path.isAbsolute(p), 'not an absolute path'),
  version: z.string(),
  protocol: z.number().int(),
  startedAt: z.number(),
});

/** $AO_ENGINE_REGISTRY if set (tests), else $XDG_STATE_HOME/ao-console/engines (absolute XDG only), else ~/.local/state/ao-console/engines */
export function registryDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AO_ENGINE_REGISTRY) return path.resolve(env.AO_ENGINE_REGISTRY);
  return path.join(userStateDir(env), 'engines');
}

/** The entry's file name: one per state dir. */
export function entryFileName(stateDir: string): string {
  return `${createHash('sha256').update(stateDir).digest('hex').slice(0, 16)}.json`;
}

const ENTRY_NAME = /^[0-9a-f]{16}\.json$/;

/** Throws when `dir` is not a real directory of this user (the registry names sockets to connect to). */
function checkOwnDir(dir: string): void {
  const st = lstatSync(dir);
  if (!st.isDirectory())
    throw new Error(`engine registry ${dir} is not a directory (a symlink or a file?); remove it and start again`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid())
    throw new Error(`engine registry ${dir} belongs to another user (uid ${st.uid}); remove it and start again`);
}

/** writes <dir>/<16-hex sha256 of stateDir>.json atomically, 0600 in a 0700 dir; returns a function removing it (only if it still names this pid) */
export function registerEngine(entry: EngineEntry, env: NodeJS.ProcessEnv = process.env): () => void {
  const data = entrySchema.parse(entry);
  const dir = registryDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkOwnDir(dir);
  chmodSync(dir, 0o700);
  const file = path.join(dir, entryFileName(data.stateDir));
  writeFileAtomic(file, `${JSON.stringify(data)}\n`);
  return () => {
    // A later engine of the same state dir may have replaced the file: that one is not ours to remove.
    try {
      const now = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown };
      if (now.pid === data.pid) rmSync(file, { force: true });
    } catch {
      // gone already, or damaged: the next listEngines removes a damaged file
    }
  };
}

type Verdict = 'live' | 'stale' | 'no-socket';

/** Is the engine of `entry` running? `stale`: its engine is gone (the file can go). */
function judge(entry: EngineEntry): Verdict {
  if (!pidAlive(entry.pid)) return 'stale';
  // The pid runs, but is it the engine? The engine holds its repo's lock for its whole life, and
  // the lock holds its pid and kernel start time: a pid reused by another program fails this.
  const owner = readLock(lockFile(entry.stateDir));
  if (!owner || owner.pid !== entry.pid || !ownerAlive(owner)) return 'stale';
  try {
    if (lstatSync(entry.socketPath).isSocket()) return 'live';
  } catch {
    // no socket
  }
  // The engine runs but nothing can reach it (its socket was removed): not listed, and its file
  // stays for it to remove when it stops.
  return 'no-socket';
}

/** every live entry, sorted by repoRoot; prunes entries whose pid is dead (ESRCH) and removes damaged files; never throws for one bad file */
export function listEngines(env: NodeJS.ProcessEnv = process.env): EngineEntry[] {
  const dir = registryDir(env);
  let names: string[];
  try {
    checkOwnDir(dir);
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const live: EngineEntry[] = [];
  for (const name of names) {
    if (!ENTRY_NAME.test(name)) continue; // temp files of a write under way, anything else
    const file = path.join(dir, name);
    const remove = () => rmSync(file, { force: true });
    try {
      let entry: EngineEntry;
      try {
        const parsed = entrySchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
        if (!parsed.success || entryFileName(parsed.data.stateDir) !== name) {
          remove();
          continue;
        }
        entry = parsed.data;
      } catch (err) {
        if (err instanceof SyntaxError) remove(); // not JSON: damaged
        continue; // unreadable (or removed meanwhile): leave it
      }
      const verdict = judge(entry);
      if (verdict === 'stale') remove();
      else if (verdict === 'live') live.push(entry);
    } catch {
      // one file we cannot read or remove must not hide the others
    }
  }
  return live.sort((a, b) =>
    a.repoRoot === b.repoRoot ? (a.stateDir < b.stateDir ? -1 : 1) : a.repoRoot < b.repoRoot ? -1 : 1,
  );
}
