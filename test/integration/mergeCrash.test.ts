/**
 * A merge is crash-safe: a real engine (`ao-console serve`) approving a real lane (the demo agent)
 * is killed with SIGKILL — its whole process group, as a power loss would — at chosen instants of
 * the merge, and the next start finds either the base unmoved and the checkout untouched (the lane
 * back in awaiting-approval with its verdicts) or the base moved and HEAD, index and files
 * matching it (the lane merged, with its closure). The instants: pause points of the engine
 * (lanes/git/pausePoint.ts, AO_TEST_PAUSE_AT), and inside git's own checkout update, held by a
 * smudge filter that blocks. Also: doctor names what a kill left and --repair finishes it; a late
 * failure (a held index lock, a refusing reference-transaction hook) leaves the lane in review
 * with the reason and nothing half-done.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitOut } from '../../lanes/git/git.js';
import { intentsDir } from '../../lanes/git/mergeIntent.js';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { openDb } from '../../lanes/store/open.js';
import { getLaneByName } from '../../lanes/store/lanes.js';
import { getClosure, latestVerdicts } from '../../lanes/store/review.js';
import { findLaneProcesses } from '../../lanes/process/reaper.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { commitFile, createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';

const ENV = { AO_DEMO_SPEED: '0', NO_COLOR: '1' };

let repo: TempRepo | undefined;
let serve: ChildProcess | undefined;
let sup: Supervisor | undefined;
let pauseDir: string | undefined;
const tokens: string[] = [];

afterEach(async () => {
  if (serve?.pid && serve.exitCode === null) {
    try {
      process.kill(-serve.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await sup?.shutdown('test over');
  sup = undefined;
  for (const t of tokens.splice(0)) for (const pid of findLaneProcesses(t)) process.kill(pid, 'SIGKILL');
  await repo?.cleanup();
  if (pauseDir) rmSync(pauseDir, { recursive: true, force: true });
});

const g = (...args: string[]) => gitOut(args, repo!.dir);
const ctl = (...args: string[]) => runCli(['ctl', ...args], { cwd: repo!.dir, env: ENV, timeoutMs: 120_000 });

/** Starts `serve` in its own process group (so a kill takes git and its filters too) and waits until ready. */
async function startServe(extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd: repo!.dir,
    env: { ...process.env, ...ENV, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', () => {});
  await waitFor(() => out.includes('"type":"ready"'), 'serve ready');
  return child;
}

/** A lane of the demo agent that created `file`, handed off and awaiting approval. */
async function laneInReview(name: string, file: string): Promise<void> {
  const created = await ctl('new', '--name', name, '--profile', 'demo', '--task', `create file ${file} for the merge`);
  expect(created.code, created.stderr).toBe(0);
  const waited = await ctl('wait', name, '--state', 'awaiting-approval', '--timeout', '90');
  expect(waited.code, waited.stdout + waited.stderr).toBe(0);
  const db = openDb(path.join(repo!.stateDir, 'ao.db'), { readonly: true });
  tokens.push(getLaneByName(db, name)!.procToken!);
  db.close();
}

async function killGroup(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
}

/** The next start: a console's supervisor, which runs recovery before it shows any lane. */
async function restart(): Promise<Supervisor> {
  sup = await createSupervisor({
    repoRoot: repo!.dir,
    stateDir: repo!.stateDir,
    cols: 80,
    rows: 24,
    env: { ...process.env, ...ENV },
    stopGraceMs: 500,
  });
  return sup;
}

function laneRecord(name: string) {
  const db = openDb(path.join(repo!.stateDir, 'ao.db'), { readonly: true });
  try {
    const lane = getLaneByName(db, name)!;
    return { lane, closure: getClosure(db, lane.id), verdicts: latestVerdicts(db, lane.id) };
  } finally {
    db.close();
  }
}

const intents = () => (existsSync(intentsDir(repo!.stateDir)) ? readdirSync(intentsDir(repo!.stateDir)) : []);

/** Kills the engine at `point` of approving lane m1, and returns main's commit before. */
async function killAt(point: string, extraEnv: Record<string, string> = {}): Promise<{ old: string }> {
  pauseDir = mkdtempSync(path.join(tmpdir(), 'ao-pause-'));
  serve = await startServe({ AO_TEST_PAUSE_AT: point, AO_TEST_PAUSE_DIR: pauseDir, ...extraEnv });
  await laneInReview('m1', 'feature.txt');
  const old = await g('rev-parse', 'main');
  const approving = ctl('approve', 'm1', '--wait');
  await waitFor(
    () => existsSync(path.join(pauseDir!, `${point.replace(/[^\w.-]/g, '_')}.paused`)),
    `paused at ${point}`,
  );
  await killGroup(serve);
  const answer = await approving;
  expect(answer.code).not.toBe(0); // the engine died before it answered
  return { old };
}

async function expectRolledBack(old: string): Promise<void> {
  expect(await g('rev-parse', 'main')).toBe(old);
  expect(await g('rev-parse', 'HEAD')).toBe(old);
  expect(await g('status', '--porcelain')).toBe('');
  expect(existsSync(path.join(repo!.dir, 'feature.txt'))).toBe(false);
  expect(sup!.getLane('m1')?.state).toBe('awaiting-approval');
  const { verdicts, closure } = laneRecord('m1');
  expect(verdicts.length).toBeGreaterThan(0);
  expect(closure).toBeUndefined();
  expect(intents()).toEqual([]);
  // and it can be approved now, for real
  await sup!.approve('m1', { wait: true });
  expect(laneRecord('m1').lane.state).toBe('merged');
  expect(await g('status', '--porcelain')).toBe('');
}

async function expectMerged(old: string, file = 'feature.txt'): Promise<void> {
  const tip = await g('rev-parse', 'main');
  expect(tip).not.toBe(old);
  expect((await g('rev-list', '--parents', '-n', '1', tip)).split(' ')[1]).toBe(old);
  expect(await g('rev-parse', 'HEAD')).toBe(tip);
  expect(await g('status', '--porcelain')).toBe('');
  expect(await g('diff', '--cached', '--name-only', 'HEAD')).toBe('');
  expect(existsSync(path.join(repo!.dir, file))).toBe(true);
  const { lane, closure } = laneRecord('m1');
  expect(lane.state).toBe('merged');
  expect(lane.closedAt).not.toBeNull();
  expect(closure?.outcome).toBe('merged');
  expect(sup?.getLane('m1')).toBeUndefined(); // closed: not among the open lanes
  expect(intents()).toEqual([]);
}

describe('kill -9 during a merge', () => {
  it('before the ref moves (intent written): rolled back, checkout untouched, lane awaiting approval', async () => {
    repo = await createTempRepo();
    const { old } = await killAt('merge:after-intent');
    expect(intents()).toHaveLength(1);
    await restart();
    expect(sup!.recoveryNotes.join('\n')).toMatch(/had not moved main; nothing was merged/);
    await expectRolledBack(old);
  });

  it('right after the ref moved: the checkout is finished and the lane is merged, not interrupted', async () => {
    repo = await createTempRepo();
    const { old } = await killAt('merge:after-ref');
    // the state the issue saw: HEAD on the merge, index and files of the old commit
    expect(await g('rev-parse', 'main')).not.toBe(old);
    expect(await g('status', '--porcelain')).not.toBe('');
    await restart();
    expect(sup!.recoveryNotes.join('\n')).toMatch(/moved the checkout/);
    await expectMerged(old);
  });

  it('after the checkout was updated, before the lane was recorded merged: merged with its closure', async () => {
    repo = await createTempRepo();
    const { old } = await killAt('merge:after-checkout');
    expect(await g('status', '--porcelain')).toBe('');
    expect(laneRecord('m1').lane.state).toBe('merging');
    await restart();
    await expectMerged(old);
  });

  it("during git's own checkout update (files half written, index.lock left): finished, status clean", async () => {
    repo = await createTempRepo({
      files: { 'README.md': '# r\n', '.gitattributes': 'z-*.txt filter=slow\n' },
    });
    pauseDir = mkdtempSync(path.join(tmpdir(), 'ao-pause-'));
    const smudge = path.join(pauseDir, 'smudge.sh');
    // blocks while `block` exists: git is then inside read-tree, holding the index lock
    writeFileSync(
      smudge,
      `#!/bin/sh\nif [ -e '${pauseDir}/block' ]; then touch '${pauseDir}/checkout.paused'; sleep 120; fi\nexec cat\n`,
    );
    chmodSync(smudge, 0o755);
    await g('config', 'filter.slow.smudge', smudge);
    await g('config', 'filter.slow.clean', 'cat');
    serve = await startServe();
    await laneInReview('m1', 'z-slow.txt');
    const old = await g('rev-parse', 'main');
    writeFileSync(path.join(pauseDir, 'block'), '');
    const approving = ctl('approve', 'm1', '--wait');
    await waitFor(() => existsSync(path.join(pauseDir!, 'checkout.paused')), 'git inside the checkout update');
    await killGroup(serve);
    await approving;
    rmSync(path.join(pauseDir, 'block'));
    expect(await g('rev-parse', 'main')).not.toBe(old);
    expect(existsSync(path.join(repo.dir, '.git', 'index.lock'))).toBe(true);
    await restart();
    expect(sup!.recoveryNotes.join('\n')).toMatch(/removed the killed merge's index.lock/);
    expect(existsSync(path.join(repo.dir, '.git', 'index.lock'))).toBe(false);
    await expectMerged(old, 'z-slow.txt');
  });
});

describe('doctor after a kill', () => {
  const doctor = (...args: string[]) => runCli(['doctor', ...args], { cwd: repo!.dir, env: ENV, timeoutMs: 60_000 });

  it('names the merge a kill left (exit 1), --repair finishes it and says what it did (then exit 0)', async () => {
    repo = await createTempRepo();
    const { old } = await killAt('merge:after-ref');
    const before = await doctor();
    expect(before.code, before.stdout).toBe(1);
    expect(before.stdout).toMatch(/FAIL {2}merges: lane m1: .*behind/);
    const repaired = await doctor('--repair');
    expect(repaired.stdout).toMatch(/merges: lane m1: moved the checkout/);
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0);
    const after = await doctor();
    expect(after.code, after.stdout).toBe(0);
    expect(after.stdout).toMatch(/ok {4}merges: no merge left unfinished/);
    await expectMerged(old);
  });

  it('finds a checkout left behind with no intent at all (from the reflog) and repairs it', async () => {
    repo = await createTempRepo();
    const old = await g('rev-parse', 'main');
    await g('switch', '-q', '-c', 'ao/x');
    await commitFile(repo.dir, 'x.txt', 'x\n', 'x');
    await g('switch', '-q', 'main');
    const tree = await g('merge-tree', '--write-tree', old, 'ao/x');
    const next = await g('commit-tree', '-p', old, '-p', 'ao/x', '-m', 'merge', tree);
    await g('update-ref', '-m', 'ao-console: merge ao/x into main', 'refs/heads/main', next, old);
    const before = await doctor();
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(/FAIL {2}merged checkout: HEAD of .* is the console's merge/);
    const repaired = await doctor('--repair');
    expect(repaired.code, repaired.stdout).toBe(0);
    expect(repaired.stdout).toMatch(/moved the checkout at/);
    expect(await g('status', '--porcelain')).toBe('');
    expect((await doctor()).code).toBe(0);
  });
});

describe('a merge that fails late', () => {
  it('a held index lock, then a refusing reference-transaction hook: the lane stays in review with the reason, nothing half-done', async () => {
    repo = await createTempRepo();
    serve = await startServe();
    await laneInReview('m1', 'feature.txt');
    const old = await g('rev-parse', 'main');
    const lock = path.join(repo.dir, '.git', 'index.lock');
    writeFileSync(lock, '');
    const locked = await ctl('approve', 'm1', '--wait');
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(/merge of lane "m1" failed: the index of the base's checkout is locked/);
    rmSync(lock);
    const hook = path.join(repo.dir, '.git', 'hooks', 'reference-transaction');
    mkdirSync(path.dirname(hook), { recursive: true });
    writeFileSync(
      hook,
      '#!/bin/sh\n[ "$1" = prepared ] || exit 0\nwhile read o n ref; do [ "$ref" = refs/heads/main ] && { echo "main is frozen" >&2; exit 1; }; done\nexit 0\n',
    );
    chmodSync(hook, 0o755);
    const refused = await ctl('approve', 'm1', '--wait');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/git refused to move main \(.*main is frozen/);
    // nothing half-done
    expect(await g('rev-parse', 'main')).toBe(old);
    expect(await g('status', '--porcelain')).toBe('');
    expect(intents()).toEqual([]);
    const status = await ctl('status', '--json');
    expect(status.stdout).toMatch(/"name":\s*"m1"[^}]*"state":\s*"awaiting-approval"/);
    rmSync(hook);
    const shown = await runCli(['show', 'm1'], { cwd: repo.dir, env: ENV });
    expect(shown.stdout).toMatch(/failed merges \(nothing changed\):\n.*index of the base's checkout is locked/);
    expect(shown.stdout).toMatch(/main is frozen/);
    // once the cause is gone, the same lane merges
    expect((await ctl('approve', 'm1', '--wait')).code).toBe(0);
    expect(await g('status', '--porcelain')).toBe('');
  });
});
