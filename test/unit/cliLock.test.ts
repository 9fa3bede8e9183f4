/**
 * One console per repo: the lock file refuses a second console while the first lives, and a
 * lock left by a dead process (or a reused pid) is taken over.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, LockHeldError, readLock } from '../../lanes/control/lock.js';
import { pidAlive, processStartTime, readProcStat } from '../../lanes/process/procStat.js';
import { lockFile } from '../../lanes/config/paths.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ao-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('console lock', () => {
  it('is created 0600 with our pid and start time, and removed on release', () => {
    const lock = acquireLock(dir);
    const file = lockFile(dir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const owner = readLock(file);
    expect(owner?.pid).toBe(process.pid);
    expect(owner?.startTime).toBe(processStartTime(process.pid));
    lock.release();
    expect(existsSync(file)).toBe(false);
    lock.release(); // twice is fine
  });

  it('refuses a second console, naming the running pid', () => {
    const lock = acquireLock(dir);
    try {
      expect(() => acquireLock(dir)).toThrow(LockHeldError);
      expect(() => acquireLock(dir)).toThrow(new RegExp(`pid ${process.pid}\\b`));
    } finally {
      lock.release();
    }
  });

  it('takes over a lock left by a dead process', () => {
    const pid = deadPid();
    writeFileSync(lockFile(dir), JSON.stringify({ pid, startTime: '123', startedAt: Date.now() - 60_000 }));
    const lock = acquireLock(dir);
    expect(readLock(lockFile(dir))?.pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock whose pid now belongs to another process (start time differs)', () => {
    writeFileSync(lockFile(dir), JSON.stringify({ pid: process.pid, startTime: '1', startedAt: Date.now() - 60_000 }));
    const lock = acquireLock(dir);
    expect(readLock(lockFile(dir))?.startTime).toBe(processStartTime(process.pid));
    lock.release();
  });

  it('takes over an unreadable lock file once it is not fresh', () => {
    writeFileSync(lockFile(dir), 'garbage');
    const old = new Date(Date.now() - 10_000);
    utimesSync(lockFile(dir), old, old);
    const lock = acquireLock(dir);
    expect(readLock(lockFile(dir))?.pid).toBe(process.pid);
    lock.release();
  });

  it('does not remove a lock that another console has taken since', () => {
    const lock = acquireLock(dir);
    writeFileSync(lockFile(dir), JSON.stringify({ pid: 1, startTime: null, startedAt: 5 }));
    lock.release();
    expect(JSON.parse(readFileSync(lockFile(dir), 'utf8')).pid).toBe(1);
  });
});

describe('pidAlive', () => {
  it('a zombie (exited, not reaped) is not alive, and its lock is taken over', async () => {
    // `sleep 0` exits at once; its parent execs into `sleep 5`, which never reaps it
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(await new Promise<string>((r) => parent.stdout.once('data', (d: Buffer) => r(String(d)))));
      for (let i = 0; i < 100 && readProcStat(zombie)?.state !== 'Z'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(readProcStat(zombie)?.state).toBe('Z');
      expect(pidAlive(zombie)).toBe(false);
      expect(pidAlive(parent.pid!)).toBe(true);
      writeFileSync(
        lockFile(dir),
        JSON.stringify({ pid: zombie, startTime: processStartTime(zombie), startedAt: Date.now() }),
      );
      acquireLock(dir).release();
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

describe('serve and the lock', () => {
  it('refuses to start while another live process holds the lock, naming its pid', async () => {
    const { spawn } = await import('node:child_process');
    const { runCli } = await import('../helpers/cliBin.js');
    const { createTempRepo } = await import('../helpers/tempRepo.js');
    const repo = await createTempRepo();
    const holder = spawn('sleep', ['60']);
    try {
      const pid = holder.pid!;
      writeFileSync(lockFile(dir), JSON.stringify({ pid, startTime: processStartTime(pid), startedAt: Date.now() }));
      const r = await runCli(['serve'], { cwd: repo.dir, env: { AO_STATE_DIR: dir } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`another ao-console (pid ${pid},`);
      expect(readLock(lockFile(dir))?.pid).toBe(pid); // untouched
    } finally {
      holder.kill('SIGKILL');
      await repo.cleanup();
    }
  });
});
