/**
 * MultiSupervisor (src/control/multiSupervisor.ts) over two REAL engines: two temp repos, each
 * with its engine (`serve --background` through ensureEngine, the demo agent as the lanes'
 * agent), real sockets.
 *
 * - the lanes of both listed with their engine's prefix, in key order; a new lane in each; the
 *   events of each come out prefixed; a review and an approval routed by the prefix land on the
 *   right repo's base branch;
 * - one engine killed (SIGKILL): its member is `disconnected` with the reason and when it is tried
 *   again, its last lanes stay listed, actions on them are refused with code `disconnected`; the
 *   other engine still works; the engine started again: the member reconnects by itself;
 * - an engine stopped (`engine stop`, bye): a local member is `stopped`, its lanes leave the list;
 * - a member whose first connect fails is `disconnected` with the reason and retried;
 * - shutdown() stops every retry and closes every connection: no lane is stopped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoPaths } from '../../lanes/config/paths.js';
import { git } from '../../lanes/git/git.js';
import { ActionError, type SupervisorEvent } from '../../lanes/supervisor/api.js';
import { EngineConnection } from '../../src/control/engineConnection.js';
import { ensureEngine } from '../../src/control/engineStart.js';
import { MultiSupervisor, prefixEvent, type MemberSpec } from '../../src/control/multiSupervisor.js';
import { splitLaneName } from '../../src/state/memberNames.js';
import { listRows, memberStateText } from '../../components/LaneList.js';
import type { LaneSnapshot } from '../../lanes/lane/types.js';
import type { MemberStatus } from '../../src/control/multiSupervisor.js';
import { runCli } from '../helpers/cliBin.js';
import { alive, enginePid, stopEverything } from '../helpers/laneProcs.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';

const ENV = { AO_DEMO_SPEED: '0', AO_DEMO_ORPHAN_SECS: '120' };
/** short waits between attempts, so a reconnect is seen in a test's time */
const BACKOFF = [300, 600, 1200];

let registry: string;
let env: NodeJS.ProcessEnv;
const repos: TempRepo[] = [];
const multis: MultiSupervisor[] = [];

const pathsOf = (repo: TempRepo): RepoPaths => ({
  root: repo.dir,
  commonDir: path.join(repo.dir, '.git'),
  stateDir: repo.stateDir,
});

/** Starts the repo's engine (a detached `serve --background`); resolves once it answers. */
async function startEngine(repo: TempRepo): Promise<number> {
  const { conn } = await ensureEngine(pathsOf(repo), { client: 'test', env });
  const pid = conn.info!.pid;
  conn.close();
  return pid;
}

function member(key: string, repo: TempRepo): MemberSpec {
  return {
    key,
    title: repo.dir,
    remote: false,
    stateDir: repo.stateDir,
    connect: () => EngineConnection.connect(repo.stateDir, 'test'),
  };
}

async function onMain(repo: TempRepo, file: string): Promise<boolean> {
  const r = await git(['ls-tree', '--name-only', 'main', '--', file], { cwd: repo.dir });
  return r.stdout.trim() === file;
}

beforeAll(async () => {
  registry = await mkdtemp(path.join(tmpdir(), 'ao-registry-'));
  env = { ...process.env, ...ENV, AO_ENGINE_REGISTRY: registry };
  delete env.AO_STATE_DIR;
});

afterAll(async () => {
  for (const m of multis.splice(0)) m.disconnect();
  for (const r of repos.splice(0)) {
    await stopEverything(r, { ...ENV, AO_ENGINE_REGISTRY: registry });
    await r.cleanup();
  }
  await rm(registry, { recursive: true, force: true });
});

describe('lane names and events', () => {
  it('splits key/lane at the first slash and prefixes every event that names a lane', () => {
    expect(splitLaneName('alpha/hello')).toEqual({ key: 'alpha', lane: 'hello' });
    expect(splitLaneName('hello')).toBeNull();
    expect(splitLaneName('/hello')).toBeNull();
    const events: SupervisorEvent[] = [
      { type: 'lane-created', lane: 'x' },
      { type: 'lane-state', lane: 'x', from: 'running', to: 'idle', cause: 'c' },
      { type: 'lane-exit', lane: 'x', code: 0, signal: null },
      { type: 'budget', lane: 'x', state: 'running', level: 'warning', message: 'm' },
      { type: 'error', lane: 'x', message: 'm' },
      { type: 'notice', lane: 'x', message: 'm' },
      { type: 'queue', lane: 'x', message: 'm' },
      { type: 'learning', lane: 'x', text: 't' },
    ];
    for (const ev of events) expect(prefixEvent('k', ev)).toMatchObject({ lane: 'k/x' });
    const decision = prefixEvent('k', {
      type: 'decision',
      decision: { lane: 'x', action: 'approve', override: false, by: 'me', at: 1 },
    });
    expect(decision).toMatchObject({ decision: { lane: 'k/x' } });
    // a message that names no lane says which engine it is from
    expect(prefixEvent('k', { type: 'queue', message: 'paused' })).toEqual({ type: 'queue', message: 'k: paused' });
  });
});

describe('the grouped lane list', () => {
  const lane = (name: string) => ({ name }) as LaneSnapshot;
  const m = (key: string, state: MemberStatus['state'], extra: Partial<MemberStatus> = {}): MemberStatus => ({
    key,
    title: `/r/${key}`,
    remote: false,
    state,
    lanes: 0,
    ...extra,
  });

  it('puts each engine header before its lanes; lanes of an engine not connected are stale', () => {
    const rows = listRows(
      [lane('a/x'), lane('a/y'), lane('b/z')],
      [m('a', 'connected'), m('b', 'disconnected'), m('c', 'stopped')],
    );
    expect(
      rows.map((r) => (r.kind === 'member' ? `[${r.member.key}]` : `${r.lane.name}${r.stale ? '~' : ''}`)),
    ).toEqual(['[a]', 'a/x', 'a/y', '[b]', 'b/z~', '[c]']);
    // one engine's dashboard: the lanes as they are, no header
    expect(listRows([lane('x')], undefined).map((r) => r.kind)).toEqual(['lane']);
  });

  it('says how an engine stands, and when a disconnected one is tried again', () => {
    expect(memberStateText(m('a', 'disconnected', { reason: 'the engine is gone', retryAt: 10_500 }), 7_000)).toBe(
      'disconnected — retrying in 4s: the engine is gone',
    );
    expect(memberStateText(m('a', 'connecting'), 0)).toBe('connecting…');
    expect(memberStateText(m('a', 'stopped', { reason: 'stopped by x' }), 0)).toBe('stopped: stopped by x');
  });
});

describe('MultiSupervisor over two real engines', () => {
  let a: TempRepo;
  let b: TempRepo;
  let multi: MultiSupervisor;
  const events: SupervisorEvent[] = [];

  beforeAll(async () => {
    a = await createTempRepo();
    b = await createTempRepo();
    repos.push(a, b);
    await Promise.all([startEngine(a), startEngine(b)]);
    // a lane in b before the multi view opens: listed from the start
    const r = await runCli(['ctl', 'new', '--name', 'early', '--profile', 'demo', '--task', 'create file early.txt'], {
      cwd: b.dir,
      env: { ...ENV, AO_ENGINE_REGISTRY: registry },
    });
    expect(r.code, r.stderr).toBe(0);
    multi = await MultiSupervisor.open([member('beta', b), member('alpha', a)], { backoffMs: BACKOFF });
    multis.push(multi);
    multi.on((ev) => events.push(ev));
  }, 120_000);

  it('lists both engines in key order, their lanes prefixed', () => {
    expect(multi.members().map((m) => [m.key, m.state])).toEqual([
      ['alpha', 'connected'],
      ['beta', 'connected'],
    ]);
    expect(multi.listLanes().map((l) => l.name)).toEqual(['beta/early']);
    expect(multi.getLane('beta/early')?.profile).toBe('demo');
    expect(multi.getLane('early')).toBeUndefined();
  });

  it('starts a lane in each engine by its prefix, and their events come out prefixed', async () => {
    const one = await multi.newLane({ name: 'alpha/one', profile: 'demo', task: 'create file one.txt' });
    expect(one.name).toBe('alpha/one');
    // a plain name goes to the first connected engine in key order
    const two = await multi.newLane({ name: 'two', profile: 'demo', task: 'create file two.txt' });
    expect(two.name).toBe('alpha/two');
    const three = await multi.newLane({ name: 'beta/three', profile: 'demo', task: 'create file three.txt' });
    expect(three.name).toBe('beta/three');

    for (const name of ['alpha/one', 'alpha/two', 'beta/three', 'beta/early'])
      await waitFor(() => multi.getLane(name)?.state === 'awaiting-approval', `${name} awaiting approval`, 90_000);
    expect(multi.listLanes().map((l) => l.name)).toEqual(['alpha/one', 'alpha/two', 'beta/early', 'beta/three']);
    expect(multi.members().map((m) => m.lanes)).toEqual([2, 2]);

    const created = events.filter((e) => e.type === 'lane-created').map((e) => (e as { lane: string }).lane);
    expect(created).toEqual(expect.arrayContaining(['alpha/one', 'alpha/two', 'beta/three']));
    const states = events.filter((e) => e.type === 'lane-state').map((e) => (e as { lane: string }).lane);
    expect(states.length).toBeGreaterThan(0);
    expect(states.every((l) => /^(alpha|beta)\//.test(l))).toBe(true);
    expect(events.some((e) => e.type === 'gate-verdict' && e.lane === 'beta/three')).toBe(true);

    // each repo holds only its own lanes' branches: the prefix is the multi view's, not git's
    const branches = (await git(['branch', '--list', 'ao/*'], { cwd: a.dir })).stdout;
    expect(branches).toMatch(/ao\/one/);
    expect(branches).not.toMatch(/three/);
  }, 180_000);

  it('routes review and approve by the prefix: each lane lands on its own repo', async () => {
    const review = await multi.review('beta/three');
    expect(review.lane).toBe('beta/three');
    expect(review.diffStat.map((d) => d.path)).toEqual(['three.txt']);

    await multi.approve('alpha/one', { wait: true });
    await multi.approve('beta/three', { wait: true });
    await waitFor(() => multi.getLane('alpha/one')?.state === 'merged', 'alpha/one merged');
    await waitFor(() => multi.getLane('beta/three')?.state === 'merged', 'beta/three merged');
    expect(await onMain(a, 'one.txt')).toBe(true);
    expect(await onMain(b, 'three.txt')).toBe(true);
    expect(await onMain(a, 'three.txt')).toBe(false);
    expect(await onMain(b, 'one.txt')).toBe(false);
    const decisions = events
      .filter((e) => e.type === 'decision')
      .map((e) => (e as { decision: { lane: string } }).decision.lane);
    expect(decisions).toEqual(expect.arrayContaining(['alpha/one', 'beta/three']));
  }, 120_000);

  it('an engine killed: its member is disconnected, its lanes stay (stale) and refuse actions; the other works', async () => {
    const pid = enginePid(b)!;
    expect(alive(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => multi.members().find((m) => m.key === 'beta')?.state === 'disconnected', 'beta disconnected');
    const beta = multi.members().find((m) => m.key === 'beta')!;
    expect(beta.reason).toMatch(/gone|refused|no engine|ECONNREFUSED|not running/i);
    expect(beta.retryAt).toBeGreaterThan(0);
    // its last lanes are still listed
    expect(multi.listLanes().map((l) => l.name)).toEqual(expect.arrayContaining(['beta/early', 'beta/three']));

    const refused = await multi.approve('beta/early').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ActionError);
    expect((refused as ActionError).code).toBe('disconnected');
    expect((refused as ActionError).message).toMatch(
      /^beta is (disconnected \(.+\); lanes there keep running; retrying in \d+s|connecting)/,
    );
    expect(() => multi.send('beta/early', 'x')).toThrow(/beta is/);

    // the other engine still answers
    expect(multi.members().find((m) => m.key === 'alpha')?.state).toBe('connected');
    await multi.approve('alpha/two', { wait: true });
    expect(await onMain(a, 'two.txt')).toBe(true);
    // a plain new lane goes to the connected one
    const four = await multi.newLane({ name: 'four', profile: 'demo', task: 'create file four.txt' });
    expect(four.name).toBe('alpha/four');
  }, 120_000);

  it('the engine started again: the member reconnects by itself and its lanes are live', async () => {
    await startEngine(b);
    await waitFor(
      () => multi.members().find((m) => m.key === 'beta')?.state === 'connected',
      'beta connected again',
      60_000,
    );
    const beta = multi.members().find((m) => m.key === 'beta')!;
    expect(beta.reason).toBeUndefined();
    expect(beta.retryAt).toBeUndefined();
    // the restarted engine found early awaiting approval still; approving it now works
    await waitFor(() => multi.getLane('beta/early')?.state === 'awaiting-approval', 'beta/early listed again');
    await multi.approve('beta/early', { wait: true });
    expect(await onMain(b, 'early.txt')).toBe(true);
  }, 120_000);

  it('an engine stopped (bye): its local member is stopped and its lanes leave the list', async () => {
    const r = await runCli(['engine', 'stop', '--yes'], {
      cwd: a.dir,
      env: { ...ENV, AO_ENGINE_REGISTRY: registry },
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    await waitFor(() => multi.members().find((m) => m.key === 'alpha')?.state === 'stopped', 'alpha stopped');
    expect(multi.listLanes().every((l) => l.name.startsWith('beta/'))).toBe(true);
    expect(multi.members().find((m) => m.key === 'alpha')?.lanes).toBe(0);
    expect(events.some((e) => e.type === 'notice' && /^alpha: /.test(e.message))).toBe(true);
    // it is not retried: still stopped a while later (past the first two waits)
    await new Promise((res) => setTimeout(res, BACKOFF[0] + BACKOFF[1]));
    expect(multi.members().find((m) => m.key === 'alpha')?.state).toBe('stopped');
    // until asked to
    await startEngine(a);
    await multi.reconnectNow('alpha');
    expect(multi.members().find((m) => m.key === 'alpha')?.state).toBe('connected');
  }, 120_000);

  it('shutdown closes every connection and stops retrying; the lanes keep running', async () => {
    const other = await MultiSupervisor.open([member('beta', b)], { backoffMs: BACKOFF });
    multis.push(other);
    expect(other.members()[0].state).toBe('connected');
    await other.shutdown();
    // the engine is untouched: still answers another client with its lanes
    const conn = await EngineConnection.connect(b.stateDir, 'test');
    const { lanes } = await conn.request<{ lanes: { name: string }[] }>('subscribe');
    conn.close();
    expect(lanes.map((l) => l.name)).toContain('early');
    expect(alive(enginePid(b)!)).toBe(true);
  });
});

describe('a member whose first connect fails', () => {
  it('is disconnected with the reason and tried again with backoff until its engine runs', async () => {
    const repo = await createTempRepo();
    repos.push(repo);
    let attempts = 0;
    const spec: MemberSpec = {
      ...member('gamma', repo),
      connect: () => {
        attempts++;
        return EngineConnection.connect(repo.stateDir, 'test');
      },
    };
    const multi = await MultiSupervisor.open([spec], { backoffMs: BACKOFF });
    multis.push(multi);
    const first = multi.members()[0];
    expect(first.state).toBe('disconnected');
    expect(first.reason).toMatch(/^no engine runs for this repo/);
    expect(multi.listLanes()).toEqual([]);
    await expect(multi.newLane({ name: 'x', profile: 'demo', task: 't' })).rejects.toMatchObject({
      code: 'disconnected',
    });
    await waitFor(() => attempts >= 3, 'two more attempts', 10_000);
    await startEngine(repo);
    await waitFor(() => multi.members()[0].state === 'connected', 'gamma connected', 30_000);
    // a key with a slash is refused: lane names are key/lane
    await expect(multi.addMember({ ...spec, key: 'a/b' })).rejects.toThrow(/no '\/'/);
    await expect(multi.addMember(spec)).rejects.toThrow(/taken/);
    multi.disconnect();
    const count = attempts;
    await new Promise((res) => setTimeout(res, BACKOFF[0] * 2));
    expect(attempts).toBe(count);
  }, 90_000);
});

describe('a member whose engine accepts but never answers', () => {
  it('fails the attempt after the connect timeout, so the view opens; it is tried again and connects once answered', async () => {
    // a real unix socket that takes connections and says nothing (an engine stopped with SIGSTOP)
    const dir = await mkdtemp(path.join(tmpdir(), 'ao-mute-'));
    const socket = path.join(dir, 'ao.sock');
    const held: net.Socket[] = [];
    const mute = net.createServer((c) => held.push(c));
    await new Promise<void>((res) => mute.listen(socket, res));
    const repo = await createTempRepo();
    repos.push(repo);
    let answer = false;
    const spec: MemberSpec = {
      ...member('mute', repo),
      connect: () => EngineConnection.connect(answer ? repo.stateDir : dir, 'test'),
    };
    const multi = await MultiSupervisor.open([spec], { backoffMs: BACKOFF, connectTimeoutMs: 500 });
    multis.push(multi);
    expect(multi.members()[0]).toMatchObject({ state: 'disconnected', reason: 'no answer within 0.5 s' });
    await startEngine(repo);
    answer = true;
    await waitFor(() => multi.members()[0].state === 'connected', 'mute connected once its engine answers', 30_000);
    for (const c of held) c.destroy();
    await new Promise<void>((res) => mute.close(() => res()));
    await rm(dir, { recursive: true, force: true });
  }, 90_000);
});
