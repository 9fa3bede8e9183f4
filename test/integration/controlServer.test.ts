/**
 * The control socket against a real unix socket: permissions, the JSON-lines protocol with
 * every verb, wait semantics, the short-path fallback, stale sockets, and the `ctl` binary's
 * exit codes. The supervisor is a fake implementing SupervisorApi, so only the protocol is
 * under test here (test/e2e drives the real engine).
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ActionError,
  type NewLaneRequest,
  type RejectMode,
  type ReviewInfo,
  type SupervisorApi,
  type SupervisorEvent,
} from '../../lanes/supervisor/api.js';
import type { LaneSnapshot, LaneState, StyledRow } from '../../lanes/lane/types.js';
import { NoConsoleError, sendRequest } from '../../src/control/client.js';
import { startControlServer, socketPathFile, type ControlServer } from '../../lanes/control/server.js';
import { ensureStateDir, socketFile } from '../../lanes/config/paths.js';
import { runCli } from '../helpers/cliBin.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

class FakeSupervisor implements SupervisorApi {
  readonly sessionId = 'session-1';
  readonly repoRoot = '/repo';
  readonly lanes = new Map<string, LaneSnapshot>();
  readonly sent: [string, string][] = [];
  readonly synced: string[] = [];
  readonly calls: unknown[][] = [];
  private readonly emitter = new EventEmitter();

  constructor() {
    this.add('l1', 'waiting-input');
  }
  add(name: string, state: LaneState): LaneSnapshot {
    const lane: LaneSnapshot = {
      id: this.lanes.size + 1,
      name,
      sessionId: this.sessionId,
      profile: 'demo',
      task: 'ask first',
      branch: `ao/${name}`,
      base: 'main',
      worktree: `/state/worktrees/${name}`,
      state,
      stateSince: Date.now(),
      createdAt: Date.now(),
      exitCode: null,
      exitSignal: null,
      reworkCount: 0,
      outputBytes: 0,
      outputRate: 0,
      lastLine: '',
      gateSummary: '',
      empty: false,
      cols: 120,
      rows: 40,
    };
    this.lanes.set(name, lane);
    return lane;
  }
  setState(name: string, to: LaneState): void {
    const lane = this.must(name);
    const from = lane.state;
    lane.state = to;
    this.emit({ type: 'lane-state', lane: name, from, to, cause: 'test' });
  }
  private must(name: string): LaneSnapshot {
    const lane = this.lanes.get(name);
    if (!lane) throw new ActionError(`no lane named ${name}`, 'not-found');
    return lane;
  }
  private emit(ev: SupervisorEvent): void {
    this.emitter.emit('event', ev);
  }
  listenerCount(): number {
    return this.emitter.listenerCount('event');
  }
  listLanes() {
    return [...this.lanes.values()];
  }
  getLane(name: string) {
    return this.lanes.get(name);
  }
  async newLane(req: NewLaneRequest) {
    if (!/^[a-z0-9]/.test(req.name))
      throw new ActionError(`invalid lane name ${JSON.stringify(req.name)}`, 'bad-input');
    if (this.lanes.has(req.name)) throw new ActionError(`a lane named ${req.name} exists`, 'conflict');
    this.calls.push(['new', req]);
    return this.add(req.name, 'starting');
  }
  send(name: string, data: string) {
    this.must(name);
    this.sent.push([name, data]);
  }
  async syncScreen(name: string) {
    this.must(name);
    this.synced.push(name);
  }
  screenText(name: string) {
    this.must(name);
    return ['demo agent', 'Create hello.txt? [y/n]'];
  }
  screenAnsi(name: string) {
    this.must(name);
    return ['\x1b[1mdemo agent\x1b[0m', 'Create hello.txt? [y/n]'];
  }
  screenStyled(): StyledRow[] {
    return [];
  }
  cursor() {
    return { x: 23, y: 1, visible: true };
  }
  resize() {}
  attach() {
    return () => {};
  }
  async handoff(name: string) {
    this.must(name);
    this.setState(name, 'gating');
  }
  async rerunGates() {}
  async review(): Promise<ReviewInfo> {
    throw new Error('not used');
  }
  async approve(name: string, opts?: { override?: boolean; by?: string }) {
    const lane = this.must(name);
    if (lane.state !== 'awaiting-approval')
      throw new ActionError(`lane ${name} is ${lane.state}, not awaiting approval`, 'bad-state');
    this.calls.push(['approve', name, opts]);
    this.setState(name, 'merged');
  }
  async reject(name: string, opts: { reason: string; mode: RejectMode; by?: string }) {
    this.must(name);
    this.calls.push(['reject', name, opts]);
    this.setState(name, opts.mode === 'rework' ? 'running' : 'discarded');
  }
  async stop(name: string) {
    this.must(name);
    this.setState(name, 'stopped');
  }
  async remove(name: string) {
    const lane = this.must(name);
    // as the rules say: not while a merge runs, and a lane that is over has nothing to remove
    if (lane.state === 'merging')
      throw new ActionError(`lane "${name}" is merging; a merge is in progress; it finishes in seconds`, 'bad-state');
    if (lane.state === 'merged' || lane.state === 'discarded')
      throw new ActionError(`lane "${name}" is ${lane.state}; only a lane that is … can be removed`, 'bad-state');
    this.calls.push(['remove', name]);
    this.setState(name, 'discarded');
  }
  async resume(name: string) {
    this.must(name);
    this.setState(name, 'starting');
  }
  async addLearning(text: string, lane?: string) {
    this.calls.push(['learn', text, lane]);
  }
  on(listener: (event: SupervisorEvent) => void) {
    this.emitter.on('event', listener);
    return () => void this.emitter.off('event', listener);
  }
  async shutdown() {}
}

let stateDir: string;
let sup: FakeSupervisor;
let server: ControlServer;

beforeEach(async () => {
  stateDir = ensureStateDir(mkdtempSync(path.join(tmpdir(), 'ao-ctl-')));
  sup = new FakeSupervisor();
  server = await startControlServer(sup, socketFile(stateDir));
});
afterEach(async () => {
  await server.close();
  rmSync(stateDir, { recursive: true, force: true });
});

/** Writes raw lines on one connection and collects `count` response lines. */
function rawExchange(socketPath: string, lines: string[], count: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    let buf = '';
    sock.on('connect', () => sock.write(lines.map((l) => `${l}\n`).join('')));
    sock.on('data', (d) => {
      buf += d.toString();
      const got = buf.split('\n').filter(Boolean);
      if (got.length >= count) {
        sock.destroy();
        resolve(got.map((l) => JSON.parse(l)));
      }
    });
    sock.on('error', reject);
  });
}

describe('control socket', () => {
  it('is a socket of mode 0600 in the state dir', () => {
    expect(server.socketPath).toBe(socketFile(stateDir));
    const st = lstatSync(server.socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
  });

  it('answers every verb', async () => {
    const status = await sendRequest(stateDir, { verb: 'status' });
    expect(status).toMatchObject({
      ok: true,
      data: { sessionId: 'session-1', lanes: [{ name: 'l1', state: 'waiting-input' }] },
    });

    expect(await sendRequest(stateDir, { verb: 'screen', lane: 'l1' })).toMatchObject({
      ok: true,
      data: { lane: 'l1', rows: ['demo agent', 'Create hello.txt? [y/n]'], cursor: { x: 23, y: 1 } },
    });
    expect(await sendRequest(stateDir, { verb: 'screen', lane: 'l1', ansi: true })).toMatchObject({
      ok: true,
      data: { rows: ['\x1b[1mdemo agent\x1b[0m', expect.any(String)] },
    });
    expect(sup.synced).toEqual(['l1', 'l1']); // the screen is brought up to date before it is read

    expect(await sendRequest(stateDir, { verb: 'send', lane: 'l1', text: 'y', keys: ['enter'] })).toMatchObject({
      ok: true,
      data: { bytes: 2 },
    });
    await sendRequest(stateDir, { verb: 'send', lane: 'l1', keys: ['esc', 'up', 'ctrl-c', 'ctrl-]'] });
    expect(sup.sent).toEqual([
      ['l1', 'y\r'],
      ['l1', '\x1b\x1b[A\x03\x1d'],
    ]);

    expect(
      await sendRequest(stateDir, { verb: 'new', name: 'l2', profile: 'demo', task: 'do it', base: 'main' }),
    ).toMatchObject({ ok: true, data: { name: 'l2', state: 'starting' } });
    expect(await sendRequest(stateDir, { verb: 'handoff', lane: 'l2' })).toMatchObject({
      ok: true,
      data: { state: 'gating' },
    });
    sup.setState('l2', 'awaiting-approval');
    expect(await sendRequest(stateDir, { verb: 'approve', lane: 'l2', override: true })).toMatchObject({
      ok: true,
      data: { state: 'merged' },
    });
    expect(sup.calls).toContainEqual(['approve', 'l2', { override: true, by: 'control' }]);

    expect(
      await sendRequest(stateDir, { verb: 'reject', lane: 'l1', reason: 'no tests', mode: 'rework' }),
    ).toMatchObject({ ok: true, data: { state: 'running' } });
    expect(sup.calls).toContainEqual(['reject', 'l1', { reason: 'no tests', mode: 'rework', by: 'control' }]);
    expect(await sendRequest(stateDir, { verb: 'stop', lane: 'l1' })).toMatchObject({
      ok: true,
      data: { state: 'stopped' },
    });
    expect(await sendRequest(stateDir, { verb: 'resume', lane: 'l1' })).toMatchObject({
      ok: true,
      data: { state: 'starting' },
    });
    expect(await sendRequest(stateDir, { verb: 'learn', text: 'run npm test first', lane: 'l1' })).toMatchObject({
      ok: true,
    });
    expect(await sendRequest(stateDir, { verb: 'remove', lane: 'l1' })).toMatchObject({
      ok: true,
      data: { name: 'l1', state: 'discarded' },
    });
    expect(sup.calls).toContainEqual(['remove', 'l1']);
    expect(await sendRequest(stateDir, { verb: 'remove', lane: 'l1' })).toMatchObject({ ok: false, code: 'bad-state' });
    expect(await sendRequest(stateDir, { verb: 'remove', lane: '' })).toMatchObject({
      ok: false,
      code: 'bad-request',
      error: 'bad request: lane: lane name is empty',
    });
    expect(sup.calls).toContainEqual(['learn', 'run npm test first', 'l1']);
  });

  it("passes the supervisor's refusals through with their code", async () => {
    expect(await sendRequest(stateDir, { verb: 'approve', lane: 'l1' })).toEqual({
      ok: false,
      error: 'lane l1 is waiting-input, not awaiting approval',
      code: 'bad-state',
    });
    expect(await sendRequest(stateDir, { verb: 'screen', lane: 'ghost' })).toMatchObject({
      ok: false,
      code: 'not-found',
    });
    expect(await sendRequest(stateDir, { verb: 'learn', text: 'x', lane: 'ghost' })).toMatchObject({
      ok: false,
      code: 'not-found',
    });
  });

  it('refuses malformed requests with bad-request and keeps the connection, answering in order with ids', async () => {
    const res = await rawExchange(
      server.socketPath,
      [
        'not json',
        '{"verb":"launch"}',
        '{"id":7,"verb":"reject","lane":"l1","reason":"","mode":"rework"}',
        '{"id":"s","verb":"status"}',
      ],
      4,
    );
    expect(res[0]).toMatchObject({ ok: false, code: 'bad-request', error: 'request is not valid JSON' });
    expect(res[1]).toMatchObject({ ok: false, code: 'bad-request' });
    expect(res[2]).toMatchObject({ id: 7, ok: false, code: 'bad-request', error: expect.stringContaining('reason') });
    expect(res[3]).toMatchObject({ id: 's', ok: true });
  });

  describe('wait', () => {
    it('answers at once when the lane is already in the state', async () => {
      expect(
        await sendRequest(stateDir, { verb: 'wait', lane: 'l1', state: 'waiting-input', timeoutMs: 1000 }),
      ).toMatchObject({ ok: true, data: { state: 'waiting-input' } });
    });

    it('answers when the lane gets there, and stops listening', async () => {
      const pending = sendRequest(stateDir, { verb: 'wait', lane: 'l1', state: 'awaiting-approval', timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 100));
      sup.setState('l1', 'running');
      sup.setState('l1', 'gating');
      sup.setState('l1', 'awaiting-approval');
      expect(await pending).toMatchObject({ ok: true, data: { name: 'l1', state: 'awaiting-approval' } });
      expect(sup.listenerCount()).toBe(0);
    });

    it('times out with code timeout', async () => {
      const t0 = Date.now();
      const res = await sendRequest(stateDir, { verb: 'wait', lane: 'l1', state: 'merged', timeoutMs: 300 });
      expect(res).toMatchObject({
        ok: false,
        code: 'timeout',
        error: expect.stringMatching(/timed out after 0.3s .* \(it is waiting-input\)/),
      });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      expect(sup.listenerCount()).toBe(0);
    });

    it('ends with wait-ended when the lane settles elsewhere', async () => {
      const pending = sendRequest(stateDir, { verb: 'wait', lane: 'l1', state: 'awaiting-approval', timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 100));
      sup.setState('l1', 'failed');
      expect(await pending).toMatchObject({
        ok: false,
        code: 'wait-ended',
        error: 'lane l1 is failed, not awaiting-approval',
      });
    });

    it('stops listening when the client goes away', async () => {
      const sock = net.connect(server.socketPath);
      await new Promise((r) => sock.on('connect', r));
      sock.write('{"verb":"wait","lane":"l1","state":"merged"}\n');
      await new Promise((r) => setTimeout(r, 100));
      expect(sup.listenerCount()).toBe(1);
      sock.destroy();
      await new Promise((r) => setTimeout(r, 100));
      expect(sup.listenerCount()).toBe(0);
    });
  });

  it('removes its socket on close, after which clients get NoConsoleError', async () => {
    await server.close();
    expect(existsSync(socketFile(stateDir))).toBe(false);
    await expect(sendRequest(stateDir, { verb: 'status' })).rejects.toBeInstanceOf(NoConsoleError);
  });

  it('replaces a stale socket file and refuses to take over a live one', async () => {
    await expect(startControlServer(new FakeSupervisor(), socketFile(stateDir))).rejects.toThrow(
      /another console is listening/,
    );
    await server.close();
    // A server killed with SIGKILL leaves its socket file behind.
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [
        '-e',
        `require('net').createServer().listen(${JSON.stringify(socketFile(stateDir))}, () => process.kill(process.pid, 'SIGKILL'))`,
      ]);
      child.on('exit', () => resolve());
    });
    expect(lstatSync(socketFile(stateDir)).isSocket()).toBe(true);
    server = await startControlServer(sup, socketFile(stateDir));
    expect(await sendRequest(stateDir, { verb: 'status' })).toMatchObject({ ok: true });
  });

  it('falls back to a short path when the state dir is too deep for a unix socket path', async () => {
    const deep = ensureStateDir(path.join(stateDir, 'd'.repeat(60), 'e'.repeat(60)));
    const other = await startControlServer(new FakeSupervisor(), socketFile(deep));
    try {
      expect(other.socketPath).not.toBe(socketFile(deep));
      expect(Buffer.byteLength(other.socketPath)).toBeLessThanOrEqual(107);
      expect(lstatSync(other.socketPath).mode & 0o777).toBe(0o600);
      expect(statSync(path.dirname(other.socketPath)).mode & 0o777).toBe(0o700);
      expect(readFileSync(socketPathFile(deep), 'utf8').trim()).toBe(other.socketPath);
      expect(await sendRequest(deep, { verb: 'status' })).toMatchObject({
        ok: true,
        data: { lanes: [{ name: 'l1' }] },
      });
    } finally {
      await other.close();
    }
    expect(existsSync(socketPathFile(deep))).toBe(false);
    expect(existsSync(other.socketPath)).toBe(false);
  });
});

describe('ctl binary against a console', () => {
  let repo: TempRepo;
  beforeAll(async () => {
    repo = await createTempRepo();
  });
  afterAll(() => repo.cleanup());
  const ctl = (...args: string[]) => runCli(['ctl', ...args], { cwd: repo.dir, env: { AO_STATE_DIR: stateDir } });

  it('status --json prints the data; the table otherwise', async () => {
    const json = await ctl('status', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ lanes: [{ name: 'l1', state: 'waiting-input' }] });
    const human = await ctl('status');
    expect(human.stdout).toMatch(/^LANE +STATE +PROFILE/m);
    expect(human.stdout).toMatch(/^l1 +waiting-input +demo/m);
  });

  it('screen prints the rows; send types text and keys in order', async () => {
    expect((await ctl('screen', 'l1')).stdout).toBe('demo agent\nCreate hello.txt? [y/n]\n');
    const sent = await ctl('send', 'l1', 'y', '--key', 'tab', '--key', 'ctrl-c', '--enter');
    expect(sent.code).toBe(0);
    expect(sup.sent).toEqual([['l1', 'y\t\x03\r']]);
  });

  it('wait exits 0 on reaching the state and 4 on timeout', async () => {
    const ok = await ctl('wait', 'l1', '--state', 'waiting-input', '--timeout', '5');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/lane l1 is waiting-input/);
    const late = await ctl('wait', 'l1', '--state', 'merged', '--timeout', '0.3');
    expect(late.stderr).toMatch(/timed out after 0.3s waiting for lane l1 to be merged/);
    expect(late.code).toBe(4);
  });

  it('a refused action exits 1 with the reason; --json also prints the error object', async () => {
    const r = await ctl('approve', 'l1', '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lane l1 is waiting-input, not awaiting approval/);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'bad-state' });
    expect((await ctl('stop', 'ghost')).code).toBe(1);
  });

  it('a bad lane name for new exits 2; new without --name names the lane from the task', async () => {
    const bad = await ctl('new', '--name', '-x', '--profile', 'demo', '--task', 't');
    expect(bad.code).toBe(2);
    const made = await ctl('new', '--profile', 'demo', '--task', 'Ask before writing hello.txt', '--json');
    expect(made.code).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ name: 'ask-before-writing-hello' });
    const again = await ctl('new', '--profile', 'demo', '--task', 'Ask before writing hello.txt', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ name: 'ask-before-writing-hello-2' });
  });

  it('remove: exit 0 when removed, 1 when refused or unknown, 2 without a lane, 3 with no console', async () => {
    sup.add('going', 'gating');
    sup.add('landing', 'merging');
    const ok = await ctl('remove', 'going');
    expect(ok).toMatchObject({ code: 0, stdout: 'removed: lane going is discarded\n' });
    expect(sup.calls).toContainEqual(['remove', 'going']);
    const refused = await ctl('remove', 'landing');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/a merge is in progress; it finishes in seconds/);
    expect((await ctl('remove', 'ghost')).code).toBe(1);
    const json = await ctl('remove', 'going', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, code: 'bad-state' });
    expect((await ctl('remove')).code).toBe(2);
    await server.close();
    expect((await ctl('remove', 'going')).code).toBe(3);
    server = await startControlServer(sup, socketFile(stateDir));
  });

  it('reject, handoff, resume and learn reach the supervisor', async () => {
    expect((await ctl('reject', 'l1', '--reason', 'add a test', '--discard')).stdout).toMatch(
      /rejected: lane l1 is discarded/,
    );
    expect(sup.calls).toContainEqual(['reject', 'l1', { reason: 'add a test', mode: 'discard', by: 'control' }]);
    expect((await ctl('resume', 'l1')).code).toBe(0);
    expect((await ctl('handoff', 'l1')).stdout).toMatch(/handed off: lane l1 is gating/);
    expect((await ctl('learn', 'tests live in test/', '--lane', 'l1')).code).toBe(0);
    expect(sup.calls).toContainEqual(['learn', 'tests live in test/', 'l1']);
  });
});
