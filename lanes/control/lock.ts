/**
 * One console per repo: an exclusive lock file in the state dir, created with O_EXCL and holding
 * the owner's pid and process start time. A lock whose owner is gone (pid dead, or the pid now
 * belongs to a process that started at another time) is taken over.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { lockFile } from '../config/paths.js';
import { pidAlive, processStartTime } from '../process/procStat.js';

export interface LockOwner {
  pid: number;
  /** the kernel's start time of the process (field 22 of /proc/<pid>/stat), null where unknown */
  startTime: string | null;
  /** epoch ms when the lock was taken */
  startedAt: number;
}

/** Another console holds the lock. */
export class LockHeldError extends Error {
  constructor(
    readonly owner: LockOwner,
    readonly file: string,
  ) {
    super(
      `another ao-console (pid ${owner.pid}, started ${new Date(owner.startedAt).toISOString()}) is already running for this repo; ` +
        `use \`ao-console ctl ...\` to drive it, or stop it first (lock: ${file})`,
    );
    this.name = 'LockHeldError';
  }
}

export interface ConsoleLock {
  readonly file: string;
  readonly owner: LockOwner;
  /** removes the lock file if it is still ours; safe to call twice */
  release(): void;
}

/** True when the process that wrote `owner` is still running. */
export function ownerAlive(owner: LockOwner): boolean {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0 || !pidAlive(owner.pid)) return false;
  if (owner.startTime === null) return true;
  const now = processStartTime(owner.pid);
  return now === null || now === owner.startTime; // a different start time: the pid was reused
}

/** The lock's owner as written in the file, or null when the file is missing or unreadable. */
export function readLock(file: string): LockOwner | null {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    if (typeof data.pid !== 'number') return null;
    return {
      pid: data.pid,
      startTime: typeof data.startTime === 'string' ? data.startTime : null,
      startedAt: Number(data.startedAt) || 0,
    };
  } catch {
    return null;
  }
}

function tryCreate(file: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${JSON.stringify(owner)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** How long an unreadable lock file (a racing writer between create and write) is trusted. */
const FRESH_MS = 2000;

/**
 * Takes the console lock of `stateDir` (which must exist). Throws LockHeldError naming the
 * running console's pid when it is held by a live process; takes over a stale lock.
 */
export function acquireLock(stateDir: string, pid: number = process.pid): ConsoleLock {
  const file = lockFile(stateDir);
  const owner: LockOwner = { pid, startTime: processStartTime(pid), startedAt: Date.now() };
  for (let attempt = 0; attempt < 50; attempt++) {
    if (tryCreate(file, owner)) return makeLock(file, owner);
    const held = readLock(file);
    if (held === null) {
      // Just created by a racing console that has not written it yet, or garbage left behind.
      let age = Infinity;
      try {
        age = Date.now() - statSync(file).mtimeMs;
      } catch {
        continue; // gone meanwhile: try again
      }
      if (age < FRESH_MS) {
        sleepSync(50);
        continue;
      }
    } else if (ownerAlive(held)) {
      throw new LockHeldError(held, file);
    }
    takeOverStale(file, held);
  }
  throw new Error(`could not take the console lock ${file}; remove it if no ao-console is running`);
}

/**
 * Removes a stale lock, serialised by a second O_EXCL file so two consoles taking over the same
 * stale lock cannot both win: only the holder of `<lock>.takeover` removes the lock, and only
 * after checking it is still the stale one.
 */
function takeOverStale(file: string, stale: LockOwner | null): void {
  const guard = `${file}.takeover`;
  const me: LockOwner = { pid: process.pid, startTime: processStartTime(process.pid), startedAt: Date.now() };
  if (!tryCreate(guard, me)) {
    const other = readLock(guard);
    if (other === null || !ownerAlive(other)) {
      try {
        unlinkSync(guard); // left by a console that died mid-takeover
      } catch {
        // someone else removed it
      }
    } else {
      sleepSync(50);
    }
    return;
  }
  try {
    const now = readLock(file);
    const same =
      now === null ? stale === null : stale !== null && now.pid === stale.pid && now.startedAt === stale.startedAt;
    if (same) {
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    }
  } finally {
    unlinkSync(guard);
  }
}

function makeLock(file: string, owner: LockOwner): ConsoleLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const now = readLock(file);
    if (now && now.pid === owner.pid && now.startedAt === owner.startedAt) {
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', release);
  return { file, owner, release };
}
