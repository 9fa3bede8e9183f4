/**
 * An agent's own status file, read as a state source (lanes/lane/activitySources.ts): Claude Code
 * keeps `~/.claude/sessions/<pid>.json` with `status` busy / idle / waiting (and `waitingFor`,
 * e.g. "permission prompt"). The profile's `statusFile` says where the file is (`{home}`: the
 * agent's HOME; `{pid}`: the agent's process id), which field holds the status and what each
 * value means.
 *
 * `{pid}` is the pid of a process of the lane: the pty's child (a shell wrapper) or one of its
 * descendants (the agent itself), found through /proc/<pid>/task/<pid>/children and kept once a
 * file is found. Reading is synchronous and small (one file of at most MAX_BYTES), done at most
 * every POLL_MS by the caller.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import os from 'node:os';
import type { Activity } from './types.js';

/** How often the supervisor's tick reads a lane's status file at most. */
export const STATUS_POLL_MS = 250;
/** A status file larger than this is read only this far (and then is not valid JSON). */
const MAX_BYTES = 64 * 1024;
/** How many processes of the lane's tree are looked at for `{pid}`. */
const MAX_PROCS = 64;

export interface StatusFileSpec {
  /** the file; `{home}` and `{pid}` are replaced */
  path: string;
  /** dotted path of the status field in the JSON (default "status") */
  field: string;
  /** status value -> activity; other values say nothing */
  values: Record<string, Activity>;
  /** dotted path of a field that says more (e.g. "waitingFor"), added to the event's cause */
  detailField?: string;
}

export interface StatusReading {
  activity: Activity;
  /** e.g. `status=waiting (permission prompt)` */
  detail: string;
}

/** `{home}` replaced with the agent's HOME (the console's home when the agent has none). */
export function resolveStatusPath(template: string, env: Record<string, string | undefined>): string {
  return template.replace(/\{home\}/g, () => env.HOME || os.homedir());
}

function readSmall(file: string): string | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(MAX_BYTES);
    const n = readSync(fd, buf, 0, MAX_BYTES, 0);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function pick(value: unknown, dotted: string): unknown {
  let at = value;
  for (const key of dotted.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** What a status file's text says by the spec; null when it says nothing the spec knows. */
export function parseStatus(
  text: string,
  spec: Pick<StatusFileSpec, 'field' | 'values' | 'detailField'>,
): StatusReading | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const value = pick(json, spec.field);
  if (typeof value !== 'string' || !Object.hasOwn(spec.values, value)) return null;
  const more = spec.detailField ? pick(json, spec.detailField) : undefined;
  const extra =
    typeof more === 'string' && more ? ` (${more.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ').slice(0, 200)})` : '';
  return { activity: spec.values[value], detail: `${spec.field}=${value.slice(0, 100)}${extra}` };
}

/** The children of a process, from /proc; [] when gone or not Linux. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** `root` and its descendants, breadth first (at most MAX_PROCS). */
export function processTree(root: number): number[] {
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0 && out.length < MAX_PROCS) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...childrenOf(pid));
  }
  return out;
}

/** Reads one lane's status file. */
export class StatusFileReader {
  private pid: number | null = null;

  /** `spec.path` with `{home}` already resolved (resolveStatusPath); `rootPid`: the pty's child */
  constructor(
    private readonly spec: StatusFileSpec,
    private readonly rootPid: number,
  ) {}

  /** the file as of now; null when there is none (yet) or it says nothing the spec knows */
  read(): StatusReading | null {
    const template = this.spec.path;
    if (!template.includes('{pid}')) {
      const text = readSmall(template);
      return text === null ? null : parseStatus(text, this.spec);
    }
    if (this.pid !== null) {
      const text = readSmall(template.replace(/\{pid\}/g, String(this.pid)));
      if (text !== null) return parseStatus(text, this.spec);
      this.pid = null; // gone (the agent restarted): look again
    }
    for (const pid of processTree(this.rootPid)) {
      const text = readSmall(template.replace(/\{pid\}/g, String(pid)));
      if (text === null) continue;
      this.pid = pid;
      return parseStatus(text, this.spec);
    }
    return null;
  }
}
