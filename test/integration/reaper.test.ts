/**
 * Stopping a lane leaves no process of it alive: not the agent, not a child that left the
 * process group with setsid and ignores SIGHUP and SIGTERM, not one that ignores SIGTERM.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { buildAgentEnv, newProcToken } from '../../lanes/process/agentEnv.js';
import { PtyHost } from '../../lanes/terminal/ptyHost.js';
import { findLaneProcesses, reapByToken, stopProcessTree } from '../../lanes/process/reaper.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fixture = path.join(fixtures, 'laneProcs.mjs');

/** true while the process exists and is not a zombie */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

const tokens: string[] = [];
function token(): string {
  const t = newProcToken();
  tokens.push(t);
  return t;
}
afterEach(async () => {
  // Whatever a failed test left behind.
  for (const t of tokens.splice(0)) await reapByToken(t, 100);
});

function spawnLane(procToken: string, mode: string): Promise<{ host: PtyHost; output: string }> {
  const env = buildAgentEnv({
    source: process.env,
    passthrough: [],
    extra: {},
    lane: 'reaper-test',
    session: 's1',
    stateDir: '/tmp',
    procToken,
  });
  const host = PtyHost.spawn({
    command: process.execPath,
    args: [fixture, mode],
    cwd: fixtures,
    env,
    cols: 80,
    rows: 24,
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`fixture not ready: ${JSON.stringify(output)}`)), 10_000);
    host.onData((c) => {
      output += c.toString();
      if (output.includes('\n')) {
        clearTimeout(timer);
        resolve({ host, output });
      }
    });
  });
}

describe('reaper', () => {
  it('stops a lane whose child called setsid and ignores SIGHUP and SIGTERM', async () => {
    const t = token();
    const { host, output } = await spawnLane(t, 'escape');
    const childPid = Number(/ready (\d+)/.exec(output)?.[1]);
    expect(alive(childPid)).toBe(true);
    const found = findLaneProcesses(t);
    expect(found).toContain(host.pid);
    expect(found).toContain(childPid);
    // The escaped child is in another process group: kill(-pid) alone would miss it.
    const pgrp = Number(readFileSync(`/proc/${childPid}/stat`, 'latin1').split(') ')[1].split(' ')[2]);
    expect(pgrp).not.toBe(host.pid);

    await stopProcessTree({ pid: host.pid, procToken: t, graceMs: 500 });
    expect(findLaneProcesses(t)).toEqual([]);
    expect(alive(childPid)).toBe(false);
    expect(alive(host.pid)).toBe(false);
  });

  it('stops a lane that handles SIGTERM and hangs, after the grace time', async () => {
    const t = token();
    const { host } = await spawnLane(t, 'stubborn');
    const pids = findLaneProcesses(t);
    expect(pids.length).toBeGreaterThanOrEqual(2); // shim and agent
    const started = Date.now();
    await stopProcessTree({ pid: host.pid, procToken: t, graceMs: 400 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(findLaneProcesses(t)).toEqual([]);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('is quick when the agent goes on SIGTERM', async () => {
    const t = token();
    const { host } = await spawnLane(t, 'plain');
    const exited = new Promise((r) => host.onExit(r));
    const started = Date.now();
    await stopProcessTree({ pid: host.pid, procToken: t, graceMs: 3000 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(findLaneProcesses(t)).toEqual([]);
    // The shim outlived SIGTERM to report how the agent ended.
    expect(await exited).toEqual({ code: null, signal: 15 });
  });

  it('reaps by token alone what a dead console left behind', async () => {
    const t = token();
    const orphan = spawn(process.execPath, [fixture, 'child'], {
      detached: true,
      stdio: 'ignore',
      env: { PATH: process.env.PATH, AO_PROC_TOKEN: t },
    });
    orphan.unref();
    const other = spawn(process.execPath, [fixture, 'child'], {
      detached: true,
      stdio: 'ignore',
      env: { PATH: process.env.PATH, AO_PROC_TOKEN: `${t}x` },
    });
    try {
      await expect.poll(() => findLaneProcesses(t)).toEqual([orphan.pid]);
      expect(await reapByToken(t, 200)).toEqual([orphan.pid]);
      expect(alive(orphan.pid!)).toBe(false);
      // A token that merely starts with ours is another lane's.
      expect(alive(other.pid!)).toBe(true);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('refuses a token that could match other entries', () => {
    expect(() => findLaneProcesses('')).toThrow();
    expect(() => findLaneProcesses('a\0b=c')).toThrow();
  });
});
