/**
 * `ao-console doctor` and the engine, with the built binary against real temp repos:
 *
 * - no engine: doctor says none runs and where its log would be, and exits 0 as before (no
 *   engine is normal, not a problem);
 * - a running engine (`ao-console serve`, one lane whose agent runs): doctor reports its pid,
 *   version, protocol, mode, clients and lanes (asked with engine-status), and the log's size;
 * - an engine that does not answer, or speaks another protocol: a failed check (fake servers on
 *   the repo's socket);
 * - systemd-logind's KillUserProcesses: logind.conf and its drop-ins parsed as systemd reads them,
 *   and the warning (with what to do) when logging out kills the engine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureStateDir, socketFile } from '../../lanes/config/paths.js';
import { AO_CONSOLE_VERSION } from '../../lanes/engine/version.js';
import {
  checkEngine,
  checkLogout,
  killsAtLogout,
  logindConfFiles,
  parseLogindConf,
  parseLogindConfs,
  type Check,
} from '../../src/commands/doctor.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { alive, stopEverything } from '../helpers/laneProcs.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

const ENV = { AO_DEMO_SPEED: '0', AO_DEMO_ORPHAN_SECS: '120' };

const repos: TempRepo[] = [];
const children: ChildProcess[] = [];
const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
const tempDirs: string[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const r of repos.splice(0)) {
    await stopEverything(r, ENV);
    await r.cleanup();
  }
  for (const c of children.splice(0)) if (c.pid !== undefined && alive(c.pid)) c.kill('SIGKILL');
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function tempRepo(): Promise<TempRepo> {
  const repo = await createTempRepo();
  repos.push(repo);
  return repo;
}

const doctor = (repo: TempRepo, ...args: string[]) =>
  runCli(['doctor', ...args], { cwd: repo.dir, env: { AO_STATE_DIR: repo.stateDir, ...ENV } });

function checkNamed(stdout: string, name: string): Check {
  const res = JSON.parse(stdout) as { ok: boolean; checks: Check[] };
  const check = res.checks.find((c) => c.name === name);
  if (!check) throw new Error(`no check named ${name} in ${stdout}`);
  return check;
}

/** `ao-console serve` in the repo; resolves with its pid once it printed its ready line. */
function serve(repo: TempRepo): Promise<number> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd: repo.dir,
    env: { ...process.env, AO_STATE_DIR: repo.stateDir, ...ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const first = out.split('\n')[0];
      if (out.includes('\n')) {
        const ready = JSON.parse(first) as { type: string; pid: number };
        if (ready.type === 'ready') resolve(ready.pid);
        else reject(new Error(`serve's first line is not ready: ${first}`));
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code} before ready: ${err}`)));
  });
}

/** A fake engine on the repo's socket: answers each line with `answer(line)` (null: never answers). */
async function fakeEngine(repo: TempRepo, answer: (line: string) => string | null): Promise<void> {
  ensureStateDir(repo.stateDir);
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.setEncoding('utf8');
    let buf = '';
    socket.on('error', () => {});
    socket.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const reply = answer(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (reply !== null) socket.write(`${reply}\n`);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socketFile(repo.stateDir), resolve));
}

describe('doctor and the engine', () => {
  it('with no engine: says none runs, where the log goes, and exits 0 as before', async () => {
    const repo = await tempRepo();
    const r = await doctor(repo);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok +engine: none runs for this repo \(normal: `ao-console` or/m);
    expect(r.stdout).toContain(`ok    engine log: ${path.join(repo.stateDir, 'engine.log')} (none yet)`);
    expect(r.stdout).toMatch(/\nno problems found/);

    const json = await doctor(repo, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).ok).toBe(true);
    expect(checkNamed(json.stdout, 'engine')).toMatchObject({ ok: true });
    expect(checkNamed(json.stdout, 'engine').warn).toBeUndefined();
  });

  it('with a running engine: its pid, version, protocol, clients and lanes, and the log with its size', async () => {
    const repo = await tempRepo();
    const pid = await serve(repo);
    const ctl = (...args: string[]) =>
      runCli(['ctl', ...args], { cwd: repo.dir, env: { AO_STATE_DIR: repo.stateDir, ...ENV } });
    const created = await ctl(
      'new',
      '--name',
      'hello',
      '--profile',
      'demo',
      '--task',
      'ask, then create file hello.txt',
    );
    expect(created.code, created.stderr).toBe(0);
    const waited = await ctl('wait', 'hello', '--state', 'waiting-input', '--timeout', '60');
    expect(waited.code, waited.stderr).toBe(0);

    const r = await doctor(repo);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `ok    engine: running (pid ${pid}, ao-console ${AO_CONSOLE_VERSION}, protocol 2, foreground), up `,
    );
    expect(r.stdout).toMatch(
      /engine: .*; 0 clients besides doctor; 1 lane with a running agent \(1 waiting-input\); exits after 10 min idle/,
    );
    expect(r.stdout).toMatch(
      new RegExp(`ok {4}engine log: ${path.join(repo.stateDir, 'engine.log').replace(/[.]/g, '\\.')} \\(\\d+ B\\)`),
    );

    const json = await doctor(repo, '--json');
    expect(json.code).toBe(0);
    const engine = checkNamed(json.stdout, 'engine');
    expect(engine.ok).toBe(true);
    expect(engine.detail).toContain(`pid ${pid}`);
    expect(checkNamed(json.stdout, 'engine log').detail).not.toContain('none yet');
  });

  it('an engine that never answers is a failed check naming the wait', async () => {
    const repo = await tempRepo();
    await fakeEngine(repo, () => null);
    const check = await checkEngine(repo.stateDir, 300);
    expect(check).toMatchObject({ name: 'engine', ok: false });
    expect(check.detail).toMatch(/did not answer within 0\.3 s/);
    expect(check.fix).toContain('ao-console engine logs');
  });

  it('an engine of another protocol is a failed check naming both versions', async () => {
    const repo = await tempRepo();
    await fakeEngine(repo, (line) =>
      JSON.stringify({
        id: (JSON.parse(line) as { id: number }).id,
        ok: false,
        error: 'the engine speaks control protocol 3 (ao-console 9.9.9), this client speaks protocol 2',
        code: 'protocol-mismatch',
      }),
    );
    const check = await checkEngine(repo.stateDir, 5000);
    expect(check).toMatchObject({ name: 'engine', ok: false });
    expect(check.detail).toContain('protocol 3 (ao-console 9.9.9)');
  });
});

describe('systemd-logind: KillUserProcesses', () => {
  it('reads KillUserProcesses from the [Login] section, as a systemd boolean', () => {
    expect(parseLogindConf('[Login]\nKillUserProcesses=yes\n').killUserProcesses).toBe(true);
    expect(parseLogindConf('[Login]\nKillUserProcesses = no\n').killUserProcesses).toBe(false);
    expect(parseLogindConf('[Login]\nKillUserProcesses=1\n').killUserProcesses).toBe(true);
    expect(parseLogindConf('[Login]\nKillUserProcesses=off\n').killUserProcesses).toBe(false);
    // the last assignment wins; an unreadable value is ignored
    expect(parseLogindConf('[Login]\nKillUserProcesses=yes\nKillUserProcesses=no\n').killUserProcesses).toBe(false);
    expect(parseLogindConf('[Login]\nKillUserProcesses=yes\nKillUserProcesses=maybe\n').killUserProcesses).toBe(true);
    // not set
    expect(parseLogindConf('[Login]\n#HandlePowerKey=poweroff\n').killUserProcesses).toBeNull();
  });

  it('ignores commented lines and other sections', () => {
    expect(parseLogindConf('[Login]\n#KillUserProcesses=yes\n').killUserProcesses).toBeNull();
    expect(parseLogindConf('[Login]\n;KillUserProcesses=yes\n').killUserProcesses).toBeNull();
    expect(parseLogindConf('[Login]\n   # KillUserProcesses=yes\n').killUserProcesses).toBeNull();
    expect(parseLogindConf('KillUserProcesses=yes\n').killUserProcesses).toBeNull();
    expect(parseLogindConf('[Other]\nKillUserProcesses=yes\n').killUserProcesses).toBeNull();
    expect(parseLogindConf('[Other]\nKillUserProcesses=no\n[Login]\nKillUserProcesses=yes\n').killUserProcesses).toBe(
      true,
    );
  });

  it('applies drop-ins after the main file, in order: the last one wins', () => {
    const main = '[Login]\n#KillUserProcesses=no\nKillUserProcesses=no\n';
    expect(parseLogindConfs([main]).killUserProcesses).toBe(false);
    expect(parseLogindConfs([main, '[Login]\nKillUserProcesses=yes\n']).killUserProcesses).toBe(true);
    expect(
      parseLogindConfs([main, '[Login]\nKillUserProcesses=yes\n', '[Login]\nKillUserProcesses=no\n']).killUserProcesses,
    ).toBe(false);
    // a drop-in that only comments it out changes nothing
    expect(parseLogindConfs([main, '[Login]\nKillUserProcesses=yes\n', '[Login]\n#KillUserProcesses=no\n'])).toEqual({
      killUserProcesses: true,
      killOnlyUsers: [],
      killExcludeUsers: ['root'],
    });
  });

  it('honours KillOnlyUsers and KillExcludeUsers (root excluded by default; an empty value clears a list)', () => {
    const on = parseLogindConf('[Login]\nKillUserProcesses=yes\n');
    expect(killsAtLogout(on, 'alice')).toBe(true);
    expect(killsAtLogout(on, 'root')).toBe(false);
    expect(killsAtLogout(parseLogindConf('[Login]\nKillUserProcesses=no\n'), 'alice')).toBe(false);
    expect(killsAtLogout(parseLogindConf('[Login]\n'), 'alice')).toBe(false);
    const only = parseLogindConf('[Login]\nKillUserProcesses=yes\nKillOnlyUsers=bob carol\n');
    expect(only.killOnlyUsers).toEqual(['bob', 'carol']);
    expect(killsAtLogout(only, 'alice')).toBe(false);
    expect(killsAtLogout(only, 'carol')).toBe(true);
    const excluded = parseLogindConf('[Login]\nKillUserProcesses=yes\nKillExcludeUsers=alice\n');
    expect(excluded.killExcludeUsers).toEqual(['root', 'alice']);
    expect(killsAtLogout(excluded, 'alice')).toBe(false);
    const cleared = parseLogindConf('[Login]\nKillUserProcesses=yes\nKillExcludeUsers=\n');
    expect(killsAtLogout(cleared, 'root')).toBe(true);
  });

  it('finds logind.conf and its drop-ins as systemd does: sorted by name, /etc hiding /usr/lib', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'ao-logind-'));
    tempDirs.push(root);
    const write = (rel: string, text: string) => {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    };
    expect(logindConfFiles(root)).toEqual([]);
    write('etc/systemd/logind.conf', '[Login]\n#KillUserProcesses=no\n');
    write('usr/lib/systemd/logind.conf.d/10-vendor.conf', '[Login]\nKillUserProcesses=yes\n');
    write('usr/lib/systemd/logind.conf.d/50-site.conf', '[Login]\nKillUserProcesses=yes\n');
    write('etc/systemd/logind.conf.d/50-site.conf', '[Login]\nKillUserProcesses=no\n');
    write('etc/systemd/logind.conf.d/README', 'KillUserProcesses=yes\n');
    expect(logindConfFiles(root)).toEqual([
      path.join(root, 'etc/systemd/logind.conf'),
      path.join(root, 'usr/lib/systemd/logind.conf.d/10-vendor.conf'),
      path.join(root, 'etc/systemd/logind.conf.d/50-site.conf'),
    ]);
  });

  it('warns, with what to do, where logging out kills the engine; not otherwise', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'ao-logind-'));
    tempDirs.push(root);
    mkdirSync(path.join(root, 'etc/systemd/logind.conf.d'), { recursive: true });
    writeFileSync(path.join(root, 'etc/systemd/logind.conf'), '[Login]\n#KillUserProcesses=no\n');
    const check = () => checkLogout({ root, loginctl: false, user: 'alice' });

    const unset = await check();
    expect(unset).toMatchObject({ name: 'logout', ok: true });
    expect(unset?.warn).toBeUndefined();
    expect(unset?.detail).toContain('KillUserProcesses is not set');

    writeFileSync(path.join(root, 'etc/systemd/logind.conf.d/kill.conf'), '[Login]\nKillUserProcesses=yes\n');
    const killed = await check();
    expect(killed).toMatchObject({ name: 'logout', ok: true, warn: true });
    expect(killed?.detail).toContain('KillUserProcesses=yes');
    expect(killed?.detail).toContain('lingering is off');
    expect(killed?.fix).toContain('loginctl enable-linger alice');
    expect(killed?.fix).toContain('systemd-run --user --scope ao-console serve');

    mkdirSync(path.join(root, 'var/lib/systemd/linger'), { recursive: true });
    writeFileSync(path.join(root, 'var/lib/systemd/linger/alice'), '');
    const lingering = await check();
    expect(lingering?.warn).toBe(true);
    expect(lingering?.detail).toContain('lingering is on');
    expect(lingering?.fix).not.toContain('enable-linger');
    expect(lingering?.fix).toContain('systemd-run --user --scope ao-console serve');

    writeFileSync(path.join(root, 'etc/systemd/logind.conf.d/zz-keep.conf'), '[Login]\nKillUserProcesses=no\n');
    const kept = await check();
    expect(kept?.warn).toBeUndefined();
    expect(kept?.detail).toContain('KillUserProcesses=no');
  });
});
