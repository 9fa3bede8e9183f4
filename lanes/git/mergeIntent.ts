/**
 * The merge journal: before a merge moves a base branch, it writes its intent here — which lane,
 * which ref, the ref's old commit, the merge commit it will write, the checkout it will update —
 * as one file per lane in `<stateDir>/merge-intents/`, written atomically (temp file, fsync,
 * rename, fsync of the directory). The intent is cleared only once the lane is recorded merged (or
 * the merge was rolled back), so a console killed at any instant leaves either no intent (nothing
 * happened, or everything did) or an intent that says exactly what to finish or undo
 * (lanes/git/mergeRepair.ts, lanes/supervisor/mergeRecovery.ts). A file and not a table: the
 * journal must still be readable when the database is not.
 */
import { pidAlive } from '../process/procStat.js';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

export interface MergeIntent {
  version: 1;
  /** the lane's name and its id in the store */
  lane: string;
  laneId: number;
  /** the main working tree of the repo */
  repoRoot: string;
  /** the base branch as a full ref (`refs/heads/main`) */
  baseRef: string;
  /** the base's commit before the merge */
  old: string;
  /** the commit the base moves to */
  next: string;
  /** the worktree that has the base checked out and is moved from `old` to `next`, if any */
  checkout: string | null;
  strategy: string;
  /** the process that writes it (an intent whose process is alive is a merge in flight) */
  pid: number;
  at: number;
}

export const intentsDir = (stateDir: string) => path.join(stateDir, 'merge-intents');
const intentFile = (stateDir: string, laneId: number) => path.join(intentsDir(stateDir), `lane-${laneId}.json`);

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes the intent durably (it is on disk when this returns); returns its file. */
export function writeMergeIntent(stateDir: string, intent: MergeIntent): string {
  const dir = intentsDir(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = intentFile(stateDir, intent.laneId);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(intent, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(dir);
  return file;
}

/** Removes the lane's intent (durably); nothing when there is none. */
export function clearMergeIntent(stateDir: string, laneId: number): void {
  const dir = intentsDir(stateDir);
  rmSync(intentFile(stateDir, laneId), { force: true });
  try {
    fsyncDir(dir);
  } catch {
    // no directory: nothing was ever written
  }
}

export interface StoredIntent {
  file: string;
  intent: MergeIntent | null;
  /** why the file could not be read as an intent */
  error?: string;
}

function valid(x: unknown): x is MergeIntent {
  const o = x as Partial<MergeIntent> | null;
  return (
    !!o &&
    o.version === 1 &&
    typeof o.lane === 'string' &&
    typeof o.laneId === 'number' &&
    typeof o.repoRoot === 'string' &&
    typeof o.baseRef === 'string' &&
    /^[0-9a-f]{40,64}$/.test(o.old ?? '') &&
    /^[0-9a-f]{40,64}$/.test(o.next ?? '') &&
    (o.checkout === null || typeof o.checkout === 'string') &&
    typeof o.pid === 'number'
  );
}

/** Every intent in the journal (leftover temp files of a write cut short are removed: they never counted). */
export function listMergeIntents(stateDir: string): StoredIntent[] {
  const dir = intentsDir(stateDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: StoredIntent[] = [];
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    if (name.endsWith('.tmp')) {
      const pid = Number(/\.(\d+)\.tmp$/.exec(name)?.[1]);
      if (!pidAlive(pid)) rmSync(file, { force: true });
      continue;
    }
    if (!name.endsWith('.json')) continue;
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (valid(parsed)) out.push({ file, intent: parsed });
      else out.push({ file, intent: null, error: 'not a merge intent' });
    } catch (err) {
      out.push({ file, intent: null, error: (err as Error).message });
    }
  }
  return out;
}

/** Removes an intent file by path (one that cannot be read, once reported). */
export function removeIntentFile(file: string): void {
  rmSync(file, { force: true });
}
