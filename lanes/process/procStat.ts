/**
 * What the kernel says about a process: /proc/<pid>/stat (Linux) and signal 0. Shared by the
 * reaper (process groups, zombies) and the console lock (start time, to tell a reused pid).
 */
import { readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  /** the state letter: R, S, D, Z (zombie), X (dead), ... */
  state: string;
  /** process group id */
  pgrp: number;
  /** the kernel's start time of the process (field 22, clock ticks since boot), as written */
  startTime: string;
}

/** The process's /proc/<pid>/stat, or null when it is gone or unreadable (or there is no /proc). */
export function readProcStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // "pid (comm) state ppid pgrp ..." where comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state), so field N is fields[N - 3]
    return { pid, state: fields[0], pgrp: Number(fields[2]), startTime: fields[19] };
  } catch {
    return null;
  }
}

/** The start time of process `pid` from /proc, or null when unknown (no /proc, no such process). */
export function processStartTime(pid: number): string | null {
  return readProcStat(pid)?.startTime ?? null;
}

/**
 * Whether a process with this pid runs (one of another user counts: signal 0 says EPERM). A
 * zombie (exited, not yet reaped by its parent) does not: it holds no lock and runs no lane.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const state = readProcStat(pid)?.state;
  return state !== 'Z' && state !== 'X';
}
