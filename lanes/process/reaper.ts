/**
 * Finds and ends every process of a lane.
 *
 * A lane's agent runs as the leader of its own session and process group (node-pty), so
 * `kill(-pid)` reaches it and its ordinary children. Children that called setsid, changed
 * their process group or ignore SIGHUP escape that, and survive the console's death
 * re-parented to PID 1. Every lane process carries AO_PROC_TOKEN=<token> in its environment
 * (inherited through fork and exec), so scanning /proc/<pid>/environ finds them all, also
 * after a crash. A process that execs with a cleared environment escapes the token; the
 * process group still catches it while the console lives.
 *
 * Liveness is read from /proc (zombies do not count): an unreaped zombie would keep
 * `kill(pid, 0)` succeeding forever under an init that does not reap.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { readProcStat } from './procStat.js';

const POLL_MS = 50;
/** How long to wait for SIGKILLed processes to disappear before giving up. */
const KILL_WAIT_MS = 10_000;
/** how long the processes found first may take to finish dying once their token is gone */
const SETTLE_MS = 2000;

/** A process's group and whether it is a zombie (or dead), from /proc; null when gone. */
function readStat(pid: number): { pgrp: number; zombie: boolean } | null {
  const stat = readProcStat(pid);
  return stat && { pgrp: stat.pgrp, zombie: stat.state === 'Z' || stat.state === 'X' };
}

function hasToken(pid: number, needle: Buffer): boolean {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`);
    // Each entry is NUL-terminated; match a whole entry.
    let at = environ.indexOf(needle);
    while (at >= 0) {
      if (at === 0 || environ[at - 1] === 0) return true;
      at = environ.indexOf(needle, at + 1);
    }
    return false;
  } catch {
    return false; // gone, or another user's process
  }
}

function allPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) pids.push(pid);
  }
  return pids;
}

function tokenNeedle(procToken: string): Buffer {
  if (!/^[A-Za-z0-9_-]{8,}$/.test(procToken)) throw new Error(`unsafe process token: ${JSON.stringify(procToken)}`);
  return Buffer.from(`AO_PROC_TOKEN=${procToken}\0`);
}

/** Live (non-zombie) processes whose environment holds AO_PROC_TOKEN=<procToken>. */
export function findLaneProcesses(procToken: string): number[] {
  const needle = tokenNeedle(procToken);
  return allPids().filter((pid) => {
    if (!hasToken(pid, needle)) return false;
    const info = readStat(pid);
    return info !== null && !info.zombie;
  });
}

/**
 * Live processes that carry the token, plus the members of process group `pgid` when that
 * group is still the lane's (one of its members carries the token: a pid and so a group id
 * can be reused by an unrelated process once the lane's group is empty).
 */
function laneProcesses(pgid: number | null, needle: Buffer): number[] {
  const found = new Set<number>();
  const group: number[] = [];
  let groupIsLane = false;
  for (const pid of allPids()) {
    const info = readStat(pid);
    if (!info || info.zombie) continue;
    const inGroup = pgid !== null && info.pgrp === pgid;
    if (inGroup) group.push(pid);
    if (hasToken(pid, needle)) {
      found.add(pid);
      if (inGroup) groupIsLane = true;
    }
  }
  if (groupIsLane) for (const pid of group) found.add(pid);
  return [...found];
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone already, or not ours */
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `list()` is empty or `ms` passed; returns what is still alive. */
async function waitGone(list: () => number[], ms: number, onPoll?: (alive: number[]) => void): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = list();
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    onPoll?.(alive);
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
  }
}

/** true when one of `pids` (lane processes) is in process group `pgid` */
function groupAlive(pgid: number, pids: number[]): boolean {
  return pids.some((pid) => readStat(pid)?.pgrp === pgid);
}

export interface StopOptions {
  /** the pty child: leader of the lane's session and process group */
  pid: number;
  procToken: string;
  /** how long SIGTERM gets before SIGKILL (default 3000 ms) */
  graceMs?: number;
}

/**
 * Ends every process of a lane: SIGTERM to the process group and to every process carrying
 * the token, up to `graceMs` for them to go, then SIGKILL to the group and to anything the
 * token still finds (repeated, so children forked meanwhile go too), and waits until none is
 * alive. Throws if some process survives SIGKILL for 10 s (e.g. stuck in the kernel).
 */
export async function stopProcessTree(opts: StopOptions): Promise<void> {
  const needle = tokenNeedle(opts.procToken);
  const graceMs = opts.graceMs ?? 3000;
  const list = () => laneProcesses(opts.pid, needle);

  const first = list();
  if (first.length === 0) return;
  const groupToo = groupAlive(opts.pid, first);
  if (groupToo) signal(-opts.pid, 'SIGTERM');
  // One SIGTERM each: the group's members had theirs.
  for (const pid of first) if (!groupToo || readStat(pid)?.pgrp !== opts.pid) signal(pid, 'SIGTERM');
  // A dying process can no longer show its environment (so it leaves `list`) a moment before it
  // is a zombie: the processes found first are waited for too, so "stopped" means gone.
  const settle = () => waitGone(() => first.filter((pid) => readStat(pid)?.zombie === false), SETTLE_MS);
  const left = await waitGone(list, graceMs);
  if (left.length === 0) {
    await settle();
    return;
  }

  if (groupAlive(opts.pid, left)) signal(-opts.pid, 'SIGKILL');
  const survivors = await waitGone(list, KILL_WAIT_MS, (alive) => {
    for (const pid of alive) signal(pid, 'SIGKILL');
  });
  if (survivors.length > 0) throw new Error(`lane processes survived SIGKILL: ${survivors.join(', ')}`);
  await settle();
}

/**
 * Crash recovery: ends every process left over from a lane of an earlier console (re-parented
 * to PID 1, found only by the token). SIGTERM, then SIGKILL after `graceMs`. Returns the
 * pids that were found at first.
 */
export async function reapByToken(procToken: string, graceMs = 3000): Promise<number[]> {
  const needle = tokenNeedle(procToken);
  const list = () => laneProcesses(null, needle);
  const found = list();
  if (found.length === 0) return found;
  for (const pid of found) signal(pid, 'SIGTERM');
  if ((await waitGone(list, graceMs)).length === 0) return found;
  const survivors = await waitGone(list, KILL_WAIT_MS, (alive) => {
    for (const pid of alive) signal(pid, 'SIGKILL');
  });
  if (survivors.length > 0) throw new Error(`lane processes survived SIGKILL: ${survivors.join(', ')}`);
  return found;
}
