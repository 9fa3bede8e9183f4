/**
 * A damaged database is never written into (issue 12): real stores damaged for real (garbage
 * over middle pages, truncated, zero-length, a text file, a -wal from another database, a
 * read-only file and directory), and every command that would use one refusing with exit 1 and
 * the file's name: lanes, show, export, serve, the dashboard and replay (these two in a real pty).
 * Then `doctor --repair` keeps a copy, rebuilds, and the console starts on the result.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as pty from 'node-pty';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dbFile, ensureStateDir } from '../../lanes/config/paths.js';
import { DatabaseError, openDb } from '../../lanes/store/open.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { buildStore, foreignWal, garbageMiddlePages, sha256, truncateHalf } from '../helpers/dbDamage.js';

let repo: TempRepo;
let file: string;

beforeEach(async () => {
  repo = await createTempRepo();
  ensureStateDir(repo.stateDir);
  file = dbFile(repo.stateDir);
  buildStore(file, { repo: repo.dir });
});
afterEach(async () => {
  await repo.cleanup();
});

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: repo.dir, env, timeoutMs: 60_000 });

/** Runs the binary in a real pty (the dashboard and replay need one); resolves with its exit code and screen text. */
function inPty(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const p = pty.spawn(process.execPath, [CLI, ...args], {
      cols: 200,
      rows: 50,
      cwd: repo.dir,
      env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string>,
    });
    let output = '';
    p.onData((d) => (output += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.onExit(({ exitCode }) => {
      clearTimeout(timer);
      resolve({ code: exitCode, output: output.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').replace(/\r?\n/g, '') });
    });
  });
}

/** Every command that reads or writes the store refuses, exit 1, naming the file and `what`; the file is not written. */
async function expectRefused(what: RegExp): Promise<void> {
  const before = existsSync(file) ? sha256(file) : null;
  for (const args of [
    ['lanes'],
    ['lanes', '--json'],
    ['show', 'alpha'],
    ['export', 'alpha', '--format', 'text'],
    ['serve'],
  ]) {
    const r = await cli(args);
    expect({ args, code: r.code }).toEqual({ args, code: 1 });
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(what);
  }
  if (before) expect(sha256(file)).toBe(before);
}

describe('the checks at open', () => {
  it('garbage in middle pages: every command refuses (lanes used to exit 0, serve to write into it)', async () => {
    garbageMiddlePages(file);
    expect(() => openDb(file, { readonly: true })).toThrow(DatabaseError);
    await expectRefused(/is damaged: (quick_check found \d+ problem|database disk image is malformed)/);
    // (a read-only connection may leave an empty -wal and a -shm: nothing is written into the log)
    for (const f of readdirSync(repo.stateDir).filter((f) => f === 'ao.db-wal'))
      expect(statSync(path.join(repo.stateDir, f)).size).toBe(0);
    for (const args of [[], ['replay', 'alpha']]) {
      const r = await inPty(args);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.output.replace(/\s+/g, '')).toContain(`${file}isdamaged`.replace(/\s+/g, ''));
    }
    const doctor = await cli(['doctor']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/FAIL {2}database: database .* is damaged/);
    expect(doctor.stdout).toContain('doctor --repair');
  });

  it('a truncated file', async () => {
    truncateHalf(file);
    await expectRefused(/is truncated: \d+ bytes, its header says \d+ pages/);
  });

  it('a zero-length file', async () => {
    writeFileSync(file, '');
    await expectRefused(/is empty \(0 bytes\)/);
  });

  it('a text file', async () => {
    writeFileSync(file, 'these are my notes, not a database\n'.repeat(50));
    await expectRefused(/is not an SQLite database \(it starts with "these are my not"\)/);
  });

  it('a -wal copied from another database', async () => {
    foreignWal(file, path.join(repo.stateDir, 'other.db'));
    await expectRefused(/write-ahead log .*ao\.db-wal from another database/);
  });

  it('a database from a newer ao-console is refused by version, as before', async () => {
    const db = openDb(file);
    db.pragma('user_version = 999');
    db.close();
    await expectRefused(/schema version 999, this ao-console knows up to \d+/);
  });
});

/** Runs the binary as user nobody (root ignores file permissions). */
function asNobody(args: string[], home: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...args], {
    cwd: repo.dir,
    env: { ...process.env, HOME: home },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const canSetpriv = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
/**
 * nobody can read the binary: not in a checkout inside a directory closed to others (a clone in
 * a 0700 `mktemp -d`), where these tests cannot run at all (granting nobody CAP_DAC_READ_SEARCH
 * does not help: Node's and the console's access(2) checks drop it)
 */
const nobodyReadsCli =
  canSetpriv &&
  spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', CLI]).status === 0;

describe.skipIf(!nobodyReadsCli)(
  'permissions (run as user nobody through setpriv, from a checkout nobody can read)',
  () => {
    let home: string;
    beforeEach(() => {
      home = mkdtempSync(path.join(tmpdir(), 'ao-home-'));
      chmodSync(path.dirname(repo.dir), 0o755);
      spawnSync('chown', ['-R', '65534:65534', repo.dir, home]);
    });
    afterEach(() => rmSync(home, { recursive: true, force: true }));

    it('a read-only (0400) file: serve refuses naming it; lanes still reads it', () => {
      chmodSync(file, 0o400);
      const serve = asNobody(['serve'], home);
      expect(serve.code).toBe(1);
      expect(serve.stderr).toContain(`database ${file} is read-only for this user (mode 0400`);
      const lanes = asNobody(['lanes', '--json'], home);
      expect(lanes.stderr).toBe('');
      expect(lanes.code).toBe(0);
      expect(lanes.stdout).toContain('alpha');
    });

    it('a state dir this user cannot write: serve and lanes refuse naming the directory', () => {
      // (a state dir the user owns is made 0700 again by the console: only one it does not own stays read-only)
      spawnSync('chown', ['0:0', repo.stateDir]);
      chmodSync(repo.stateDir, 0o755);
      const serve = asNobody(['serve'], home);
      expect(serve.code).toBe(1);
      expect(serve.stderr).toContain(repo.stateDir);
      const lanes = asNobody(['lanes'], home);
      expect(lanes.code).toBe(1);
      expect(lanes.stderr).toContain(
        `database ${file} cannot be opened: its directory ${repo.stateDir} is not writable`,
      );
    });
  },
);

/** Starts `serve`, waits for its ready line, stops it with SIGTERM; resolves with its exit code and stdout. */
function serveOnce(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve'], { cwd: repo.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start: ${stderr}`));
    }, 30_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!signalled && stdout.includes('"type":"ready"')) signalled = child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('doctor --repair', () => {
  it('keeps the damaged file, rebuilds from what reads, reports per table, and the console starts on it', async () => {
    garbageMiddlePages(file);
    const damaged = sha256(file);
    const r = await cli(['doctor', '--repair']);
    expect(r.stdout).toMatch(/database: .* is damaged/);
    const backup = /kept the damaged file as (\S+?)(?: and \S+)? \(0600\)/.exec(r.stdout)?.[1];
    expect(backup).toMatch(/ao\.db\.damaged-\d{8}T\d{6}Z$/);
    expect(sha256(backup!)).toBe(damaged);
    expect(statSync(backup!).mode & 0o777).toBe(0o600);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(r.stdout).toMatch(/rebuilt by (sqlite3 \.recover|row copy)/);
    expect(r.stdout).toMatch(/ {4}lanes: saved 2/);
    expect(r.stdout).toMatch(/ {4}output_chunks: saved \d+/);
    expect(r.stdout).toMatch(/ {4}learnings: saved 5/);
    expect(r.stdout).toMatch(/ok +database: quick_check ok/);
    // The console starts on the rebuilt database, and the commands read it.
    const lanes = await cli(['lanes', '--json']);
    expect(lanes.code).toBe(0);
    expect(lanes.stdout).toContain('alpha');
    const served = await serveOnce();
    expect(served.stdout).toContain('"type":"ready"');
    expect(served.code, served.stderr + served.stdout).toBe(0);
    // A second repair finds nothing to do.
    const again = await cli(['doctor', '--repair']);
    expect(again.stdout).toContain('database: quick_check ok, nothing to repair');
  });

  it('without the sqlite3 shell: a row-by-row copy that says which rows it could not read', async () => {
    garbageMiddlePages(file);
    // A PATH with node and git but no sqlite3.
    const bin = mkdtempSync(path.join(tmpdir(), 'ao-bin-'));
    try {
      for (const tool of ['git', 'node']) {
        const where = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
        spawnSync('ln', ['-s', where, path.join(bin, tool)]);
      }
      const r = await cli(['doctor', '--repair', '--json'], { PATH: bin });
      const out = JSON.parse(r.stdout) as {
        repairs: {
          ok: boolean;
          report: { method: string; tables: { table: string; saved: number; unreadable: unknown[] }[] };
        }[];
      };
      const report = out.repairs[0].report;
      expect(out.repairs[0].ok).toBe(true);
      expect(report.method).toBe('row copy');
      const chunks = report.tables.find((t) => t.table === 'output_chunks')!;
      expect(chunks.saved).toBeGreaterThan(1000);
      expect(chunks.saved).toBeLessThan(1501);
      expect(chunks.unreadable.length).toBeGreaterThan(0);
      expect(report.tables.find((t) => t.table === 'lanes')!.saved).toBe(2);
      expect((await cli(['lanes', '--json'])).code).toBe(0);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('a zero-length file: kept, and a fresh database takes its place', async () => {
    writeFileSync(file, '');
    const r = await cli(['doctor', '--repair']);
    expect(r.stdout).toContain('is empty (0 bytes)');
    expect(r.stdout).toMatch(/kept the damaged file as \S+ao\.db\.damaged-/);
    expect((await cli(['lanes'])).code).toBe(0);
  });

  it('a foreign -wal is kept aside, not replayed into the rebuilt database', async () => {
    foreignWal(file, path.join(repo.stateDir, 'other.db'));
    const r = await cli(['doctor', '--repair']);
    expect(r.stdout).toMatch(/kept the damaged file as \S+ and \S+\.foreign-wal \(0600\)/);
    const lanes = await cli(['lanes', '--json']);
    expect(lanes.code).toBe(0);
    // The rebuilt store is this repo's (its two lanes), not the other database's.
    expect(
      JSON.parse(lanes.stdout)
        .map((l: { name: string }) => l.name)
        .sort(),
    ).toEqual(['alpha', 'beta']);
    expect(existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0).toBeLessThan(1_000_000);
  });

  it('refuses while a console holds the lock', async () => {
    garbageMiddlePages(file);
    const holder = spawn('sleep', ['60']);
    try {
      const { lockFile } = await import('../../lanes/config/paths.js');
      const { processStartTime } = await import('../../lanes/process/procStat.js');
      writeFileSync(
        lockFile(repo.stateDir),
        JSON.stringify({ pid: holder.pid, startTime: processStartTime(holder.pid!), startedAt: Date.now() }),
      );
      const before = sha256(file);
      const r = await cli(['doctor', '--repair']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('database: not repaired: another ao-console');
      expect(sha256(file)).toBe(before);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
