/**
 * The engine (lanes/engine/engine.ts) and its clients, with real processes only: real temp git
 * repos, real unix sockets, real ptys, the built binary for `serve --background` and `engine`.
 *
 * - hello: protocol mismatch refused (both versions named, what to do), the connection closed;
 *   EngineConnection turns another engine's refusal into ProtocolMismatchError;
 * - engine-status and `ao-console engine status --json`; exit 3 with no engine;
 * - screens: a full screen first, then changed rows only; a client that never reads while a
 *   lane floods slows neither another client nor the recording, and is cut off (engine.log);
 * - lane states do not change because a client came or went;
 * - one engine per repo: two ensureEngine() at once, a stale lock and socket taken over, a live
 *   engine never stolen;
 * - idle exit, and none while a client is connected or an agent runs;
 * - engine.log rotation;
 * - engine-stop: bye to every client, lanes stopped, the process gone when `engine stop` returns.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureStateDir, lockFile, socketFile, type RepoPaths } from '../../lanes/config/paths.js';
import { LockHeldError, acquireLock, readLock } from '../../lanes/control/lock.js';
import {
  CAPABILITIES,
  PROTOCOL_VERSION,
  protocolMismatchMessage,
  type EngineStatusData,
  type HelloData,
  type ScreenDiffPush,
  type ScreenFullPush,
} from '../../lanes/control/protocol.js';
import {
  engineLogPath,
  engineLogger,
  rotateEngineLog,
  startEngine,
  type Engine,
  type EngineOptions,
} from '../../lanes/engine/engine.js';
import { AO_CONSOLE_VERSION } from '../../lanes/engine/version.js';
import type { LaneSnapshot, StyledRow } from '../../lanes/lane/types.js';
import { pidAlive } from '../../lanes/process/procStat.js';
import type { SupervisorEvent } from '../../lanes/supervisor/api.js';
import { git } from '../../lanes/git/git.js';
import { EngineConnection, ProtocolMismatchError, type EnginePush } from '../../src/control/engineConnection.js';
import { ensureEngine } from '../../src/control/engineStart.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { alive, enginePid, laneProcesses, openStore, procTokens, stopEverything } from '../helpers/laneProcs.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { trustRepo, useTempTrustFile } from '../helpers/trust.js';
import { waitFor } from '../helpers/waitFor.js';
import { decodeChunk } from '../../lanes/store/output.js';

const ENV = { AO_DEMO_SPEED: '0', AO_DEMO_ORPHAN_SECS: '120' };
// A test's gate is a command: the repo's commands are allowed there (test/helpers/trust.ts).
useTempTrustFile();
const EXACT_WRITER = fileURLToPath(new URL('../fixtures/exactWriter.sh', import.meta.url));

// ------------------------------------------------------------------ cleanup

const repos: TempRepo[] = [];
/** repos whose engine was spawned (serve --background): stopped with stopEverything */
const spawnedIn = new Set<TempRepo>();
const engines: Engine[] = [];
const conns: EngineConnection[] = [];
const sockets: net.Socket[] = [];
const servers: net.Server[] = [];
const tempDirs: string[] = [];

afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const e of engines.splice(0)) await e.stop('test over');
  for (const r of repos.splice(0)) {
    if (spawnedIn.has(r)) await stopEverything(r, ENV);
    spawnedIn.delete(r);
    await r.cleanup();
  }
  for (const d of tempDirs.splice(0)) await rm(d, { recursive: true, force: true });
});

// ------------------------------------------------------------------ helpers

/** A temp repo with a committed `sh` profile (a plain shell, no task). */
async function newRepo(): Promise<TempRepo> {
  const repo = await createTempRepo();
  repos.push(repo);
  await mkdir(path.join(repo.dir, '.ao', 'profiles'), { recursive: true });
  await writeFile(
    path.join(repo.dir, '.ao', 'profiles', 'sh.json'),
    JSON.stringify({
      description: 'test shell',
      command: '/bin/sh',
      args: [],
      envPassthrough: ['PATH', 'HOME', 'LANG'],
      taskInput: 'none',
      handoffOnExit: false,
      patterns: { busy: [], waitingInput: [] },
    }),
  );
  await git(['add', '-A'], { cwd: repo.dir });
  await git(['commit', '-q', '-m', 'test profiles'], { cwd: repo.dir });
  return repo;
}

const pathsOf = (repo: TempRepo): RepoPaths => ({
  root: repo.dir,
  commonDir: path.join(repo.dir, '.git'),
  stateDir: repo.stateDir,
});

const env = (repo: TempRepo): Record<string, string> => ({ ...ENV, AO_STATE_DIR: repo.stateDir });

/** An engine in this process (idle exit off unless asked). */
async function inProcessEngine(repo: TempRepo, extra: Partial<EngineOptions> = {}): Promise<Engine> {
  const engine = await startEngine({
    repo: pathsOf(repo),
    cols: 80,
    rows: 24,
    env: { ...process.env, ...ENV },
    mode: 'foreground',
    log: engineLogger(repo.stateDir),
    idleExitMinutes: 0,
    ...extra,
  });
  engines.push(engine);
  return engine;
}

async function connect(repo: TempRepo, client: string): Promise<EngineConnection> {
  const c = await EngineConnection.connect(repo.stateDir, client);
  conns.push(c);
  return c;
}

/** Collects every push of a connection. */
function collect(c: EngineConnection): EnginePush[] {
  const got: EnginePush[] = [];
  c.onPush((p) => got.push(p));
  return got;
}

/** A bare socket client: writes JSON lines, reads JSON lines. */
class RawClient {
  readonly lines: Record<string, unknown>[] = [];
  ended = false;
  closed = false;
  private buf = '';
  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }
  static async open(socketPath: string): Promise<RawClient> {
    const socket = net.connect(socketPath);
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }
  send(...objs: object[]): void {
    this.socket.write(objs.map((o) => `${JSON.stringify(o)}\n`).join(''));
  }
  /** waits for the response with this id */
  async response(id: number, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return waitFor(() => this.lines.find((l) => l.id === id && 'ok' in l), `the answer to request ${id}`, timeoutMs);
  }
}

const rowText = (row: StyledRow): string =>
  row
    .map((r) => r.text)
    .join('')
    .trimEnd();

/** A client's picture of one lane's screen, built only from its screen pushes. */
class ScreenModel {
  rows: string[] | null = null;
  fulls = 0;
  diffs: ScreenDiffPush[] = [];
  apply(p: ScreenFullPush | ScreenDiffPush): void {
    if (p.full) {
      this.fulls++;
      this.rows = p.rows.map(rowText);
      return;
    }
    if (!this.rows) throw new Error('a diff came before any full screen');
    this.diffs.push(p);
    const rows = this.rows.slice(0, p.length);
    while (rows.length < p.length) rows.push('');
    for (const [i, row] of p.changed) rows[i] = rowText(row);
    this.rows = rows;
  }
  text(): string {
    return (this.rows ?? []).join('\n');
  }
}

function screenOf(pushes: EnginePush[], lane: string): ScreenModel {
  const m = new ScreenModel();
  for (const p of pushes) if (p.push === 'screen' && p.lane === lane) m.apply(p);
  return m;
}

async function laneIn(engine: Engine, name: string, states: string[], timeoutMs = 60_000): Promise<LaneSnapshot> {
  return waitFor(
    () => {
      const l = engine.supervisor.getLane(name);
      return l && states.includes(l.state) ? l : null;
    },
    `lane ${name} to be ${states.join(' or ')} (it is ${engine.supervisor.getLane(name)?.state})`,
    timeoutMs,
  );
}

function recorded(repo: TempRepo, lane: string): Buffer {
  const db = openStore(repo);
  try {
    const rows = db
      .prepare('SELECT data, enc FROM output_chunks WHERE lane_id = (SELECT id FROM lanes WHERE name = ?) ORDER BY seq')
      .all(lane) as { data: Buffer; enc: number }[];
    return Buffer.concat(rows.map((r) => decodeChunk(r.enc, r.data)));
  } finally {
    db.close();
  }
}

function storedState(repo: TempRepo, lane: string): string | undefined {
  const db = openStore(repo);
  try {
    return (
      db.prepare('SELECT state FROM lanes WHERE name = ? ORDER BY id DESC LIMIT 1').get(lane) as
        { state: string } | undefined
    )?.state;
  } finally {
    db.close();
  }
}

/** `ao-console serve` processes (ours, alive) for this repo. */
function serveProcesses(repo: TempRepo): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes(CLI) && argv.includes('serve') && argv.includes(repo.dir) && alive(Number(entry)))
        found.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

/** A pid that was a process a moment ago and is no more. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid;
}

/** Leaves a socket file nobody listens on (a server killed with SIGKILL). */
async function staleSocket(file: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(file)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    child.on('exit', () => resolve());
  });
  expect(lstatSync(file).isSocket()).toBe(true);
}

/** A socket server that answers every line with `answer(request)` (an engine of another version). */
async function fakeEngine(answer: (req: Record<string, unknown>, sock: net.Socket) => void): Promise<string> {
  const dir = ensureStateDir(await mkdtemp(path.join(tmpdir(), 'ao-fake-')));
  tempDirs.push(dir);
  const server = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => {});
    sock.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        answer(JSON.parse(line) as Record<string, unknown>, sock);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(socketFile(dir), r));
  return dir;
}

// ------------------------------------------------------------------ 1. hello and protocol versions

describe('hello and the protocol version', () => {
  it('refuses another protocol version naming both and what to do, and closes the connection', async () => {
    const repo = await newRepo();
    const engine = await inProcessEngine(repo);
    for (const protocol of [1, 99]) {
      const c = await RawClient.open(engine.server.socketPath);
      // the status after the refused hello is never read: the connection is over
      c.send({ id: 1, verb: 'hello', protocol, client: 'old-dashboard', version: '0.0.1' }, { id: 2, verb: 'status' });
      const res = await c.response(1);
      expect(res).toMatchObject({ id: 1, ok: false, code: 'protocol-mismatch' });
      const msg = String(res.error);
      expect(msg).toContain(`control protocol ${PROTOCOL_VERSION} (ao-console ${AO_CONSOLE_VERSION})`);
      expect(msg).toContain(`protocol ${protocol} (ao-console 0.0.1)`);
      expect(msg).toContain('`ao-console engine stop`');
      expect(msg).toMatch(/then start `ao-console` again/);
      await waitFor(() => c.closed, 'the engine to close the refused connection', 10_000);
      expect(c.ended).toBe(true);
      expect(c.lines).toHaveLength(1);
    }
    expect(engine.server.clients).toBe(0);
    expect(readFileSync(engineLogPath(repo.stateDir), 'utf8')).toMatch(
      /client \d+ \(old-dashboard, ao-console 0\.0\.1\) refused: it speaks control protocol 99, not 2/,
    );
  });

  it("hello's answer names the engine's version, protocol, capabilities and notes", async () => {
    const repo = await newRepo();
    const engine = await inProcessEngine(repo);
    const before = Date.now();
    const c = await connect(repo, 'test-hello');
    const info = c.info as HelloData;
    expect(info).toMatchObject({
      engine: 'ao-console',
      version: AO_CONSOLE_VERSION,
      protocol: PROTOCOL_VERSION,
      pid: process.pid,
      sessionId: engine.supervisor.sessionId,
      repoRoot: repo.dir,
    });
    expect(AO_CONSOLE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.capabilities).toEqual([...CAPABILITIES]);
    expect(info.capabilities).toEqual(expect.arrayContaining(['subscribe', 'watch', 'attach', 'engine']));
    expect(Array.isArray(info.notes)).toBe(true);
    expect(info.startedAt).toBeLessThanOrEqual(before);
    expect(engine.server.clients).toBe(1);
  });

  it("hello's notes say what the engine recovered after one was killed", async () => {
    const repo = await newRepo();
    spawnedIn.add(repo);
    const { conn } = await ensureEngine(pathsOf(repo), {
      client: 'first',
      env: { ...process.env, ...env(repo) },
      timeoutMs: 30_000,
    });
    conns.push(conn);
    expect(conn.info?.notes).toEqual([]);
    await conn.request('new', { name: 'victim', profile: 'demo', task: 'ask, then create file v.txt' });
    await conn.request('wait', { lane: 'victim', state: 'waiting-input', timeoutMs: 60_000 });
    const pid = conn.info!.pid;
    const lost = new Promise((resolve) => conn.onClose(resolve));
    process.kill(pid, 'SIGKILL');
    expect(await lost).toMatchObject({ kind: 'lost' });
    // gone, not a zombie: the lock counts a zombie as its owner still running (kill(pid, 0) succeeds)
    await waitFor(() => !pidAlive(pid), 'the killed engine to be reaped', 10_000);

    await inProcessEngine(repo);
    const c = await connect(repo, 'second');
    expect(c.info?.notes.join('\n')).toMatch(
      new RegExp(`session \\S+ \\(pid ${pid}\\) had crashed: 1 lane\\(s\\) recovered`),
    );
    expect(c.info?.pid).toBe(process.pid);
    expect(storedState(repo, 'victim')).toBe('interrupted');
  }, 90_000);

  it('EngineConnection: an engine of another protocol gives ProtocolMismatchError naming both versions', async () => {
    // an engine of protocol 1 does not know hello: it answers bad-request
    const old = await fakeEngine((req, sock) =>
      sock.write(
        `${JSON.stringify({ ok: false, error: `bad request: verb: no verb ${String(req.verb)}`, code: 'bad-request' })}\n`,
      ),
    );
    const e1 = await EngineConnection.connect(old, 'test').catch((err: unknown) => err);
    expect(e1).toBeInstanceOf(ProtocolMismatchError);
    expect((e1 as Error).message).toMatch(/speaks control protocol 1 .*this client speaks protocol 2/);
    expect((e1 as Error).message).toContain('`ao-console engine stop`');

    // a newer engine refuses this client's protocol and closes
    const newer = await fakeEngine((req, sock) => {
      sock.end(
        `${JSON.stringify({
          id: req.id,
          ok: false,
          code: 'protocol-mismatch',
          error: protocolMismatchMessage({
            engineProtocol: 3,
            engineVersion: '9.0.0',
            clientProtocol: Number(req.protocol),
            clientVersion: String(req.version),
          }),
        })}\n`,
      );
    });
    const e2 = await EngineConnection.connect(newer, 'test').catch((err: unknown) => err);
    expect(e2).toBeInstanceOf(ProtocolMismatchError);
    expect((e2 as Error).message).toContain('the engine speaks control protocol 3 (ao-console 9.0.0)');
    expect((e2 as Error).message).toContain(`this client speaks protocol 2 (ao-console ${AO_CONSOLE_VERSION})`);

    // an engine that says hello with another protocol number
    const odd = await fakeEngine((req, sock) =>
      sock.write(
        `${JSON.stringify({ id: req.id, ok: true, data: { engine: 'ao-console', version: '7.0.0', protocol: 99, capabilities: [], notes: [] } })}\n`,
      ),
    );
    const e3 = await EngineConnection.connect(odd, 'test').catch((err: unknown) => err);
    expect(e3).toBeInstanceOf(ProtocolMismatchError);
    expect((e3 as Error).message).toContain('control protocol 99 (ao-console 7.0.0)');

    // the CLI says so and exits 1
    const repo = await newRepo();
    const r = await runCli(['engine', 'status'], { cwd: repo.dir, env: { ...ENV, AO_STATE_DIR: newer } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the engine speaks control protocol 3');
  });
});

// ------------------------------------------------------------------ 2. engine-status

describe('engine-status', () => {
  it('answers pid, version, protocol, startedAt, repo, socket, log, clients and lanes by state; the CLI prints it', async () => {
    const repo = await newRepo();
    const before = Date.now();
    const engine = await inProcessEngine(repo, { idleExitMinutes: 7 });
    const a = await connect(repo, 'status-a');
    await engine.supervisor.newLane({ name: 'asker', profile: 'demo', task: 'ask, then create file asked.txt' });
    await laneIn(engine, 'asker', ['waiting-input']);
    const s = await a.request<EngineStatusData>('engine-status');
    expect(s).toEqual({
      pid: process.pid,
      version: AO_CONSOLE_VERSION,
      protocol: PROTOCOL_VERSION,
      startedAt: expect.any(Number) as number,
      repo: repo.dir,
      stateDir: repo.stateDir,
      socket: socketFile(repo.stateDir),
      log: engineLogPath(repo.stateDir),
      sessionId: engine.supervisor.sessionId,
      clients: 1,
      lanes: { 'waiting-input': 1 },
      alive: 1,
      idleExitMinutes: 7,
      mode: 'foreground',
    });
    expect(s.startedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(s.startedAt).toBeLessThanOrEqual(Date.now());

    const b = await connect(repo, 'status-b');
    expect((await b.request<EngineStatusData>('engine-status')).clients).toBe(2);
    b.close();
    await waitFor(async () => (await a.request<EngineStatusData>('engine-status')).clients === 1, 'b to be gone');

    const json = await runCli(['engine', 'status', '--json'], { cwd: repo.dir, env: env(repo) });
    expect(json.code, json.stderr).toBe(0);
    const cli = JSON.parse(json.stdout) as EngineStatusData;
    expect(cli).toMatchObject({
      pid: process.pid,
      protocol: PROTOCOL_VERSION,
      repo: repo.dir,
      socket: socketFile(repo.stateDir),
      clients: 2, // a, and the CLI itself
      lanes: { 'waiting-input': 1 },
    });
    const human = await runCli(['engine', 'status'], { cwd: repo.dir, env: env(repo) });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`running (pid ${process.pid}, ao-console ${AO_CONSOLE_VERSION}, protocol 2`);
    expect(human.stdout).toMatch(/^lanes +1 waiting-input \(1 with a running agent\)$/m);
  });

  it('engine status and engine stop exit 3 when no engine runs', async () => {
    const repo = await newRepo();
    for (const args of [
      ['engine', 'status'],
      ['engine', 'status', '--json'],
      ['engine', 'stop', '--yes'],
    ]) {
      const r = await runCli(args, { cwd: repo.dir, env: env(repo) });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toContain('no engine runs for this repo');
    }
    expect(existsSync(lockFile(repo.stateDir))).toBe(false); // nothing was started
  });
});

// ------------------------------------------------------------------ 3. screens

describe('screens', () => {
  it('a watching client gets the full screen first, then only the rows that changed', async () => {
    const repo = await newRepo();
    const engine = await inProcessEngine(repo);
    await engine.supervisor.newLane({ name: 'shell', profile: 'sh', task: '' });
    await laneIn(engine, 'shell', ['running', 'idle', 'waiting-input']);
    const c = await connect(repo, 'watcher');
    const pushes = collect(c);
    await c.request('watch', { lanes: ['shell'] });
    const first = await waitFor(() => pushes.find((p) => p.push === 'screen'), 'the first screen push', 10_000);
    expect(first).toMatchObject({ push: 'screen', lane: 'shell', full: true, size: { cols: 80, rows: 24 } });
    expect((first as ScreenFullPush).rows).toHaveLength(24);

    engine.supervisor.send('shell', 'echo screen-$((6*7))-done\r');
    const model = await waitFor(
      () => {
        const m = screenOf(pushes, 'shell');
        return m.text().includes('screen-42-done') ? m : null;
      },
      'the echo to show in the pushed screen',
      20_000,
    );
    expect(model.fulls).toBe(1);
    expect(model.diffs.length).toBeGreaterThan(0);
    for (const d of model.diffs) {
      expect(d.full).toBe(false);
      expect(d.changed.length).toBeLessThan(24); // rows, not the whole screen again
      for (const [i] of d.changed) expect(i).toBeLessThan(d.length);
    }
    // what the client built from the pushes is the lane's screen
    await engine.supervisor.syncScreen('shell');
    await waitFor(
      () => {
        const m = screenOf(pushes, 'shell');
        const want = engine.supervisor.screenText('shell').map((r) => r.trimEnd());
        return JSON.stringify(m.rows?.slice(0, want.length)) === JSON.stringify(want) || null;
      },
      'the pushed screen to equal the lane screen',
      10_000,
    );

    // unwatched: no more screen pushes
    await c.request('watch', { lanes: [] });
    const n = pushes.length;
    engine.supervisor.send('shell', 'echo after-unwatch\r');
    await waitFor(
      () => engine.supervisor.screenText('shell').some((r) => r.includes('after-unwatch') && !r.includes('echo')),
      'the echo on the lane',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(pushes.slice(n).filter((p) => p.push === 'screen')).toEqual([]);
  });

  it('a client that never reads slows neither another client nor the recording, and is cut off with the reason logged', async () => {
    const repo = await newRepo();
    const engine = await inProcessEngine(repo);
    await engine.supervisor.newLane({ name: 'flood', profile: 'sh', task: '' });
    await laneIn(engine, 'flood', ['running', 'idle', 'waiting-input']);

    const { payload, payloadFile } = floodPayload(repo, 16);

    // the stuck client: says hello, watches and attaches, then never reads again
    const stuck = await RawClient.open(engine.server.socketPath);
    stuck.send(
      { id: 1, verb: 'hello', protocol: PROTOCOL_VERSION, client: 'stuck' },
      { id: 2, verb: 'subscribe' },
      { id: 3, verb: 'watch', lanes: ['flood'] },
      { id: 4, verb: 'attach', lane: 'flood' },
    );
    for (const id of [1, 2, 3, 4]) expect(await stuck.response(id)).toMatchObject({ ok: true });
    stuck.socket.pause();

    // the good client reads everything
    const good = await connect(repo, 'good');
    const pushes = collect(good);
    await good.request('subscribe');
    await good.request('watch', { lanes: ['flood'] });
    await good.request('attach', { lane: 'flood' });

    engine.supervisor.send('flood', `exec sh ${EXACT_WRITER} ${payloadFile}\r`);
    await laneIn(engine, 'flood', ['stopped', 'failed'], 90_000);
    expect(engine.supervisor.getLane('flood')?.state).toBe('stopped');

    // the stuck client was cut off, and the log says why
    await waitFor(
      () => /client \d+ \(stuck\) cut off: \d+ MiB unsent \(it stopped reading\)/.test(readLogSafe(repo)),
      'the cut-off line in engine.log',
      30_000,
    );
    const cut = /client \d+ \(stuck\) cut off: (\d+) MiB unsent/.exec(readLogSafe(repo));
    expect(Number(cut?.[1])).toBeGreaterThanOrEqual(8);
    stuck.socket.resume();
    await waitFor(() => stuck.closed, 'the stuck connection to be closed', 10_000);
    expect(engine.server.clients).toBe(1);

    // the good client got every byte of the flood and the screen at its end
    const output = await waitFor(
      () => {
        const all = pushes
          .filter((p): p is Extract<EnginePush, { push: 'output' }> => p.push === 'output')
          .map((p) => p.data)
          .join('');
        return all.endsWith('FLOOD-END') ? all : null;
      },
      'the whole flood as output pushes',
      30_000,
    );
    expect(output.endsWith(payload.toString())).toBe(true);
    await waitFor(
      () => screenOf(pushes, 'flood').text().includes('FLOOD-END'),
      'FLOOD-END on the pushed screen',
      20_000,
    );
    expect(pushes.some((p) => p.push === 'event' && p.event.type === 'lane-state' && p.event.to === 'stopped')).toBe(
      true,
    );

    // the recording holds every byte
    const rec = await waitFor(
      () => {
        const r = recorded(repo, 'flood');
        return r.length >= payload.length && r.subarray(r.length - payload.length).equals(payload) ? r : null;
      },
      'the recording to hold the whole flood',
      30_000,
    );
    expect(rec.length).toBe(engine.supervisor.getLane('flood')?.outputBytes);
  }, 120_000);

  it('a client that reads late is skipped while congested, then gets the latest screen and every output byte', async () => {
    const repo = await newRepo();
    const engine = await inProcessEngine(repo);
    await engine.supervisor.newLane({ name: 'flood', profile: 'sh', task: '' });
    await laneIn(engine, 'flood', ['running', 'idle', 'waiting-input']);
    const { payload, payloadFile } = floodPayload(repo, 4); // past the screen bound, short of the cut-off

    const slow = await RawClient.open(engine.server.socketPath);
    slow.send(
      { id: 1, verb: 'hello', protocol: PROTOCOL_VERSION, client: 'slow' },
      { id: 2, verb: 'watch', lanes: ['flood'] },
      { id: 3, verb: 'attach', lane: 'flood' },
    );
    for (const id of [1, 2, 3]) expect(await slow.response(id)).toMatchObject({ ok: true });
    slow.socket.pause();

    engine.supervisor.send('flood', `exec sh ${EXACT_WRITER} ${payloadFile}\r`);
    await laneIn(engine, 'flood', ['stopped', 'failed'], 90_000);
    await engine.supervisor.syncScreen('flood');
    const finalScreen = engine.supervisor.screenText('flood').map((r) => r.trimEnd());
    expect(finalScreen.join('\n')).toContain('FLOOD-END');

    slow.socket.resume();
    const pushes = () => slow.lines.filter((l) => 'push' in l) as unknown as EnginePush[];
    await waitFor(
      () => {
        const out = pushes()
          .filter((p): p is Extract<EnginePush, { push: 'output' }> => p.push === 'output')
          .map((p) => p.data)
          .join('');
        return out.endsWith('FLOOD-END') ? out : null;
      },
      'every output byte at the slow client',
      30_000,
    );
    await waitFor(
      () => {
        const rows = screenOf(pushes(), 'flood').rows;
        return JSON.stringify(rows?.slice(0, finalScreen.length)) === JSON.stringify(finalScreen) || null;
      },
      'the latest screen at the slow client',
      20_000,
    );
    const output = pushes()
      .filter((p): p is Extract<EnginePush, { push: 'output' }> => p.push === 'output')
      .map((p) => p.data)
      .join('');
    expect(output.endsWith(payload.toString())).toBe(true);
    expect(slow.closed).toBe(false); // not cut off
    expect(readLogSafe(repo)).not.toMatch(/cut off/);
    expect(engine.server.clients).toBe(1);
  }, 120_000);
});

/** `mib` MiB of text lines ending with FLOOD-END, in a file next to the repo (exactWriter writes it raw). */
function floodPayload(repo: TempRepo, mib: number): { payload: Buffer; payloadFile: string } {
  const lines: string[] = [];
  for (let i = 0; lines.join('').length < 64 * 1024; i++) lines.push(`flood line ${i} ${'='.repeat(60)}\r\n`);
  const block = lines.join('');
  const payload = Buffer.from(`${block.repeat(Math.ceil((mib * 1024 * 1024) / block.length))}\r\nFLOOD-END`);
  const payloadFile = path.join(path.dirname(repo.dir), `${path.basename(repo.dir)}-payload`);
  tempDirs.push(payloadFile);
  writeFileSync(payloadFile, payload);
  return { payload, payloadFile };
}

function readLogSafe(repo: TempRepo): string {
  try {
    return readFileSync(engineLogPath(repo.stateDir), 'utf8');
  } catch {
    return '';
  }
}

// ------------------------------------------------------------------ 4. clients come and go

describe('clients come and go', () => {
  it("a client connecting or leaving changes no lane's state", async () => {
    const repo = await newRepo();
    const engine = await inProcessEngine(repo);
    await engine.supervisor.newLane({ name: 'asker', profile: 'demo', task: 'ask, then create file asked.txt' });
    await laneIn(engine, 'asker', ['waiting-input']);
    const events: SupervisorEvent[] = [];
    const off = engine.supervisor.on((ev) => {
      if (ev.type === 'lane-state') events.push(ev);
    });
    try {
      // a dashboard: hello, subscribe, watch, attach, resize to its own size; then it goes away abruptly
      const a = await connect(repo, 'dashboard-a');
      await a.request('subscribe');
      await a.request('watch', { lanes: ['asker'] });
      await a.request('attach', { lane: 'asker' });
      // a one-shot client waiting on the lane, and another dashboard closing cleanly
      const waiter = await RawClient.open(engine.server.socketPath);
      waiter.send({ id: 1, verb: 'wait', lane: 'asker', state: 'merged' });
      const b = await connect(repo, 'dashboard-b');
      await b.request('watch', { lanes: ['asker'] });
      await new Promise((r) => setTimeout(r, 300));
      a.close();
      waiter.socket.destroy();
      b.close();
      await waitFor(() => engine.server.connections === 0, 'every connection to be gone', 10_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(events).toEqual([]);
      expect(engine.supervisor.getLane('asker')).toMatchObject({ state: 'waiting-input', alive: true });

      // the lane still goes on: its question answered, it finishes its work
      engine.supervisor.send('asker', 'y\r');
      await laneIn(engine, 'asker', ['awaiting-approval'], 90_000);
      expect(events.map((e) => (e.type === 'lane-state' ? e.to : ''))).toContain('awaiting-approval');
    } finally {
      off();
    }
  }, 120_000);
});

describe('past-outcomes', () => {
  it("answers how the lanes of the engine's earlier sessions ended since a time, not its own session's", async () => {
    const repo = await newRepo();
    const first = await inProcessEngine(repo);
    await first.supervisor.newLane({ name: 'before', profile: 'sh', task: '' });
    await first.supervisor.remove('before');
    await first.stop('test: the next session');
    engines.splice(engines.indexOf(first), 1);

    const second = await inProcessEngine(repo);
    await second.supervisor.newLane({ name: 'mine', profile: 'sh', task: '' });
    await second.supervisor.remove('mine');
    const c = await connect(repo, 'test');
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    expect(await c.request('past-outcomes', { since: midnight.getTime() })).toEqual([{ outcome: 'discarded', n: 1 }]);
    expect(await c.request('past-outcomes', { since: Date.now() + 60_000 })).toEqual([]);
    await expect(c.request('past-outcomes', { since: -1 })).rejects.toThrow(/since/);
  }, 120_000);
});

// ------------------------------------------------------------------ 5. one engine per repo

describe('one engine per repo', () => {
  it('two ensureEngine() at once start exactly one engine', async () => {
    const repo = await newRepo();
    spawnedIn.add(repo);
    const opts = { client: 'racer', env: { ...process.env, ...env(repo) }, timeoutMs: 30_000 };
    const [a, b] = await Promise.all([ensureEngine(pathsOf(repo), opts), ensureEngine(pathsOf(repo), opts)]);
    conns.push(a.conn, b.conn);
    const sa = await a.conn.request<EngineStatusData>('engine-status');
    const sb = await b.conn.request<EngineStatusData>('engine-status');
    expect(sa.pid).toBe(sb.pid);
    expect(sa.pid).not.toBe(process.pid);
    expect(sa.mode).toBe('background');
    expect(sb.clients).toBe(2);
    expect([a.started, b.started].filter(Boolean)).toHaveLength(1); // the one whose spawn won
    expect(enginePid(repo)).toBe(sa.pid);
    // the losing spawn exits (lock held); one serve process is left, the one that answers
    const left = await waitFor(
      () => {
        const pids = serveProcesses(repo);
        return pids.length === 1 ? pids : null;
      },
      `one serve process (now ${serveProcesses(repo).join(', ')})`,
      20_000,
    );
    expect(left).toEqual([sa.pid]);
    expect(readFileSync(engineLogPath(repo.stateDir), 'utf8')).toMatch(/another ao-console \(pid \d+/);
  }, 90_000);

  it('ensureEngine waits for an engine that holds the lock and is still starting (slow recovery)', async () => {
    const repo = await newRepo();
    spawnedIn.add(repo);
    ensureStateDir(repo.stateDir);
    // an engine that took the lock and is not listening yet (a big store being checked, say)
    const starting = acquireLock(repo.stateDir);
    let released = false;
    try {
      const ensured = ensureEngine(pathsOf(repo), {
        client: 'patient',
        env: { ...process.env, ...env(repo) },
        timeoutMs: 30_000,
      });
      let settled = false;
      void ensured.then(
        () => (settled = true),
        () => (settled = true),
      );
      // our spawn finds the lock held and exits 1; the caller keeps waiting for the lock's owner
      await waitFor(() => /another ao-console \(pid \d+/.test(readLogSafe(repo)), 'the spawn to lose the lock', 20_000);
      await new Promise((r) => setTimeout(r, 5000));
      expect(settled).toBe(false);
      starting.release();
      released = true;
      const engine = await inProcessEngine(repo);
      const { conn, started } = await ensured;
      conns.push(conn);
      expect(started).toBe(false);
      expect((await conn.request<EngineStatusData>('engine-status')).pid).toBe(process.pid);
      expect(engine.server.clients).toBe(1);
    } finally {
      if (!released) starting.release();
    }
  }, 90_000);

  it('a stale lock (dead pid) and a stale socket file are taken over', async () => {
    const repo = await newRepo();
    ensureStateDir(repo.stateDir);
    const dead = deadPid();
    expect(alive(dead)).toBe(false);
    writeFileSync(
      lockFile(repo.stateDir),
      `${JSON.stringify({ pid: dead, startTime: '1', startedAt: Date.now() - 60_000 })}\n`,
    );
    await staleSocket(socketFile(repo.stateDir));
    const engine = await inProcessEngine(repo);
    expect(readLock(lockFile(repo.stateDir))?.pid).toBe(process.pid);
    const c = await connect(repo, 'after-takeover');
    expect((await c.request<EngineStatusData>('engine-status')).pid).toBe(process.pid);
    expect(engine.lock.owner.pid).toBe(process.pid);
  });

  it('a live engine is never stolen: a second startEngine throws LockHeldError, a second serve exits 1', async () => {
    const repo = await newRepo();
    const engine = await inProcessEngine(repo);
    const lockBefore = readFileSync(lockFile(repo.stateDir), 'utf8');
    const err = await inProcessEngine(repo).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockHeldError);
    expect((err as LockHeldError).owner.pid).toBe(process.pid);
    expect((err as Error).message).toContain(`another ao-console (pid ${process.pid}`);

    const serve = await runCli(['serve', '--background'], { cwd: repo.dir, env: env(repo), timeoutMs: 60_000 });
    expect(serve.code).toBe(1);
    expect(readLogSafe(repo) + serve.stderr).toContain(`another ao-console (pid ${process.pid}`);

    // the first engine is untouched
    expect(readFileSync(lockFile(repo.stateDir), 'utf8')).toBe(lockBefore);
    expect(lstatSync(socketFile(repo.stateDir)).isSocket()).toBe(true);
    const c = await connect(repo, 'still-here');
    expect((await c.request<EngineStatusData>('engine-status')).pid).toBe(process.pid);
    expect(engine.server.clients).toBe(1);
  }, 90_000);
});

// ------------------------------------------------------------------ 6. idle exit

describe('idle exit', () => {
  it('stops by itself with no client and no running agent', async () => {
    const repo = await newRepo();
    const engine = await inProcessEngine(repo, { idleExitMinutes: 0.005, idleCheckMs: 100 });
    const cause = await Promise.race([
      engine.stopped,
      new Promise<string>((r) => setTimeout(() => r('still running after 30 s'), 30_000)),
    ]);
    expect(cause).toMatch(/^idle for 0\.005 min$/);
    expect(existsSync(lockFile(repo.stateDir))).toBe(false);
    expect(existsSync(socketFile(repo.stateDir))).toBe(false);
    expect(readLogSafe(repo)).toContain('stopping (idle for 0.005 min)');
  });

  it('does not stop while a client is connected or an agent runs', async () => {
    const repo = await newRepo();
    const engine = await inProcessEngine(repo, { idleExitMinutes: 0.02, idleCheckMs: 100 }); // 1.2 s
    let stoppedBy: string | null = null;
    void engine.stopped.then((c) => (stoppedBy = c));
    const c = await connect(repo, 'keeps-it');
    await new Promise((r) => setTimeout(r, 4000));
    expect(stoppedBy).toBeNull();

    await engine.supervisor.newLane({ name: 'asker', profile: 'demo', task: 'ask, then create file asked.txt' });
    await laneIn(engine, 'asker', ['waiting-input']);
    c.close();
    await waitFor(() => engine.server.connections === 0, 'the client to be gone', 10_000);
    await new Promise((r) => setTimeout(r, 4000));
    expect(stoppedBy).toBeNull();
    expect(engine.supervisor.getLane('asker')?.alive).toBe(true);

    await engine.supervisor.stop('asker');
    expect(engine.supervisor.getLane('asker')?.alive).toBe(false);
    await waitFor(() => stoppedBy, 'the idle engine to stop', 30_000);
    expect(stoppedBy).toMatch(/idle/);
  }, 60_000);
  it('does not stop while a lane is still working without an agent (its gates run)', async () => {
    const repo = await newRepo();
    await writeFile(
      path.join(repo.dir, '.ao', 'config.json'),
      JSON.stringify({ gates: [{ name: 'slow', shell: 'sleep 5', timeoutSec: 120 }] }),
    );
    await git(['add', '-A'], { cwd: repo.dir });
    await git(['commit', '-q', '-m', 'a slow gate'], { cwd: repo.dir });
    await trustRepo(repo.dir);
    const engine = await inProcessEngine(repo, { idleExitMinutes: 0.01, idleCheckMs: 100 }); // 0.6 s
    let stoppedBy: string | null = null;
    void engine.stopped.then((c) => (stoppedBy = c));
    // the demo agent writes, commits and exits; the lane is handed off and its gate runs
    await engine.supervisor.newLane({ name: 'gated', profile: 'demo', task: 'create file gated.txt' });
    await laneIn(engine, 'gated', ['gating', 'awaiting-approval', 'failed', 'interrupted'], 60_000);
    expect(stoppedBy).toBeNull();
    const lane = await laneIn(engine, 'gated', ['awaiting-approval', 'failed', 'interrupted'], 60_000);
    expect(stoppedBy).toBeNull();
    expect(lane.state).toBe('awaiting-approval'); // not interrupted by an idle exit mid-gate
    expect(lane.gateSummary).toBe('1/1 pass'); // the gate ran to its end
    await waitFor(() => stoppedBy, 'the idle engine to stop once the gates are done', 30_000);
    expect(stoppedBy).toMatch(/idle/);
  }, 90_000);
});

// ------------------------------------------------------------------ 7. the log

describe('engine.log', () => {
  it('is rotated to engine.log.1 past the bound, mode 0600', async () => {
    const dir = ensureStateDir(await mkdtemp(path.join(tmpdir(), 'ao-log-')));
    tempDirs.push(dir);
    const file = engineLogPath(dir);
    expect(rotateEngineLog(dir, 100)).toBe(false); // no log yet

    const log = engineLogger(dir, 4096);
    for (let i = 0; i < 20; i++) log(`line ${i} ${'x'.repeat(100)}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z line 0 x+\n/);
    for (let i = 20; i < 200; i++) log(`line ${i} ${'x'.repeat(100)}`);
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(statSync(`${file}.1`).mode & 0o777).toBe(0o600);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // never much past the bound (checked every few lines, not on every one)
    expect(statSync(file).size).toBeLessThanOrEqual(1.5 * 4096);
    expect(statSync(`${file}.1`).size).toBeGreaterThan(4096);
    expect(statSync(`${file}.1`).size).toBeLessThanOrEqual(1.5 * 4096);
    const rotated = readFileSync(`${file}.1`, 'utf8');
    const now = readFileSync(file, 'utf8');
    expect(now).toContain('line 199 ');
    const lastRotated = Number(/line (\d+) x+\n$/.exec(rotated)?.[1]);
    expect(now.startsWith(`${/^\S+/.exec(now)?.[0]} line ${lastRotated + 1} `)).toBe(true); // no line lost between them

    // rotateEngineLog: under the bound nothing moves; over it the log becomes engine.log.1
    expect(rotateEngineLog(dir, 1_000_000)).toBe(false);
    const size = statSync(file).size;
    expect(rotateEngineLog(dir, 10)).toBe(true);
    expect(existsSync(file)).toBe(false);
    expect(statSync(`${file}.1`).size).toBe(size);
    log('after rotation');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // a logger opened on a log already past the bound rotates it on its first line
    writeFileSync(file, 'y'.repeat(5000), { mode: 0o600 });
    engineLogger(dir, 4096)('first line');
    expect(readFileSync(file, 'utf8')).toMatch(/^\S+ first line\n$/);
    expect(statSync(`${file}.1`).size).toBe(5000);
  });
});

// ------------------------------------------------------------------ 8. engine-stop

describe('engine-stop', () => {
  it('says bye to every client, stops the lanes, ends the process; engine stop --yes returns once it is gone', async () => {
    const repo = await newRepo();
    spawnedIn.add(repo);
    const { conn: a } = await ensureEngine(pathsOf(repo), {
      client: 'dash-a',
      env: { ...process.env, ...env(repo) },
      timeoutMs: 30_000,
    });
    conns.push(a);
    const b = await connect(repo, 'dash-b');
    const pid = (await a.request<EngineStatusData>('engine-status')).pid;
    expect(alive(pid)).toBe(true);
    await a.request('new', { name: 'asker', profile: 'demo', task: 'ask, then create file asked.txt' });
    await a.request('wait', { lane: 'asker', state: 'waiting-input', timeoutMs: 60_000 });
    const tokens = procTokens(repo);
    expect(laneProcesses(repo, tokens).length).toBeGreaterThan(0);

    // a one-shot client (no hello) gets no bye
    const oneShot = await RawClient.open(socketFile(repo.stateDir));
    oneShot.send({ id: 1, verb: 'status' });
    await oneShot.response(1);

    const closes = [a, b].map((c) => new Promise((resolve) => c.onClose(resolve)));
    const pushes = [collect(a), collect(b)];
    const stop = await runCli(['engine', 'stop', '--yes'], { cwd: repo.dir, env: env(repo), timeoutMs: 90_000 });
    expect(stop.code, stop.stderr).toBe(0);
    expect(alive(pid)).toBe(false); // it returned only once the engine was gone
    expect(stop.stdout).toContain(`engine stopped (pid ${pid}; 1 lane stopped)`);

    for (const [i, closed] of closes.entries()) {
      expect(await closed).toEqual({ kind: 'bye', reason: 'stopped by ao-console engine stop' });
      expect(pushes[i]).toContainEqual({ push: 'bye', reason: 'stopped by ao-console engine stop' });
    }
    await waitFor(() => oneShot.closed, 'the one-shot connection to end', 10_000);
    expect(oneShot.lines.some((l) => l.push === 'bye')).toBe(false);

    expect(storedState(repo, 'asker')).toBe('interrupted');
    expect(laneProcesses(repo, tokens)).toEqual([]);
    expect(existsSync(lockFile(repo.stateDir))).toBe(false);
    expect(existsSync(socketFile(repo.stateDir))).toBe(false);
    const log = readLogSafe(repo);
    expect(log).toContain('stopping (stopped by ao-console engine stop); 1 lanes with a running agent');
    expect(log).toMatch(/stopped\n$/);
  }, 120_000);

  it('a client that says hello while the engine is stopping is told bye too', async () => {
    const repo = await newRepo();
    const engine = await inProcessEngine(repo);
    // an agent that ignores SIGTERM: stopping the engine takes the reaper's grace (seconds)
    await engine.supervisor.newLane({ name: 'stubborn', profile: 'demo', task: 'hang on create file h.txt' });
    await laneIn(engine, 'stubborn', ['running', 'idle', 'waiting-input']);
    await waitFor(() => engine.supervisor.getLane('stubborn')?.alive, 'the agent to run');
    const early = await connect(repo, 'early');
    const earlyClosed = new Promise((resolve) => early.onClose(resolve));
    const stopping = engine.stop('stopped by the test');
    const late = await connect(repo, 'late'); // the engine still listens while its lanes stop
    const lateClosed = new Promise((resolve) => late.onClose(resolve));
    await stopping;
    expect(await earlyClosed).toEqual({ kind: 'bye', reason: 'stopped by the test' });
    expect(await lateClosed).toEqual({ kind: 'bye', reason: 'stopped by the test' });
    expect(storedState(repo, 'stubborn')).toBe('interrupted');
  }, 60_000);

  it('in process: engine-stop answers, says bye, and stopped resolves with who stopped it', async () => {
    const repo = await newRepo();
    const engine = await inProcessEngine(repo);
    const a = await connect(repo, 'dash-a');
    const b = await connect(repo, 'dash-b');
    const closed = new Promise((resolve) => b.onClose(resolve));
    expect(await a.request('engine-stop', { by: 'the test' })).toEqual({ lanes: 0 });
    expect(await engine.stopped).toBe('stopped by the test');
    expect(await closed).toEqual({ kind: 'bye', reason: 'stopped by the test' });
    expect(existsSync(lockFile(repo.stateDir))).toBe(false);
  });
});
