/**
 * The engine's notifications (lanes/notify/notifier.ts), with real processes only: a real engine
 * in a temp git repo, the demo agent on a real pty, `notify.command` a real node script.
 *
 * - a lane that asks a question (waiting-input) runs the hook once with the JSON payload on its
 *   stdin, in the repo root; answering it leads to awaiting approval, which runs it again;
 * - a lane a client is attached to (ControlServer.attachedLanes) is skipped;
 * - a hook that hangs (and leaves a child in its group) is killed with its group after 10 s,
 *   logged, and the lane goes on meanwhile;
 * - a hook that fails is a line in the engine's log, nothing else.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RepoPaths } from '../../lanes/config/paths.js';
import { startEngine, type Engine } from '../../lanes/engine/engine.js';
import { pidAlive } from '../../lanes/process/procStat.js';
import type { NotifyPayload } from '../../lanes/notify/rules.js';
import { EngineConnection } from '../../src/control/engineConnection.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { trustRepo, useTempTrustFile } from '../helpers/trust.js';
import { waitFor } from '../helpers/waitFor.js';

// The hook is the repo's command: allowed in these tests (test/helpers/trust.ts), except where not.
useTempTrustFile();
const conns: EngineConnection[] = [];
const engines: Engine[] = [];
const repos: TempRepo[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  for (const e of engines.splice(0)) await e.stop('test over');
  for (const r of repos.splice(0)) await r.cleanup();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Writes what it reads on stdin, with its cwd and pid, as one JSON line appended to argv[2]. */
const RECORDER = `
import { appendFileSync } from 'node:fs';
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  appendFileSync(process.argv[2], JSON.stringify({ cwd: process.cwd(), pid: process.pid, input }) + '\\n');
});
`;

/** Starts a child (same process group), writes both pids to argv[2], and never exits. */
const HANGER = `
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
appendFileSync(process.argv[2], JSON.stringify({ pids: [process.pid, child.pid] }) + '\\n');
setInterval(() => {}, 1e6);
`;

/** A temp repo whose config has `notify(dir)` (dir: a temp dir with recorder.mjs and hanger.mjs), and its engine. */
async function setup(
  notify: (dir: string) => Record<string, unknown>,
  trusted = true,
): Promise<{ repo: TempRepo; engine: Engine; log: string[]; dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ao-notify-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'recorder.mjs'), RECORDER);
  await writeFile(path.join(dir, 'hanger.mjs'), HANGER);
  const repo = await createTempRepo();
  repos.push(repo);
  await mkdir(path.join(repo.dir, '.ao'), { recursive: true });
  await writeFile(path.join(repo.dir, '.ao', 'config.json'), JSON.stringify({ notify: notify(dir) }));
  if (trusted) await trustRepo(repo.dir);
  const log: string[] = [];
  const paths: RepoPaths = { root: repo.dir, commonDir: path.join(repo.dir, '.git'), stateDir: repo.stateDir };
  const engine = await startEngine({
    repo: paths,
    cols: 80,
    rows: 24,
    env: { ...process.env, AO_DEMO_SPEED: '0', AO_DEMO_ORPHAN_SECS: '120' },
    mode: 'foreground',
    log: (line) => log.push(line),
    idleExitMinutes: 0,
  });
  engines.push(engine);
  return { repo, engine, log, dir };
}

async function laneIn(engine: Engine, name: string, states: string[]): Promise<void> {
  await waitFor(
    () => states.includes(engine.supervisor.getLane(name)?.state ?? ''),
    `lane ${name} to be ${states.join(' or ')} (it is ${engine.supervisor.getLane(name)?.state})`,
    60_000,
  );
}

const lines = (file: string): Record<string, unknown>[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

describe('engine notifications: the notify hook', () => {
  it('an untrusted hook never runs: skipped with a line in the log saying how to allow it', async () => {
    const { engine, dir, log } = await setup(
      (d) => ({ command: [process.execPath, path.join(d, 'recorder.mjs'), path.join(d, 'out.jsonl')] }),
      false,
    );
    await engine.supervisor.newLane({ name: 'asker', profile: 'demo', task: 'ask, then create file x.txt' });
    await laneIn(engine, 'asker', ['waiting-input']);
    await waitFor(
      () => log.find((l) => /notify: hook .* skipped: .*ao-console trust/.test(l)),
      'the skip in the log',
      30_000,
    );
    expect(existsSync(path.join(dir, 'out.jsonl'))).toBe(false);
  });

  it('runs the hook with the JSON payload on stdin, in the repo root, once per notification', async () => {
    const { repo, engine, dir } = await setup((d) => ({
      command: [process.execPath, path.join(d, 'recorder.mjs'), path.join(d, 'out.jsonl')],
    }));
    const out = path.join(dir, 'out.jsonl');

    await engine.supervisor.newLane({ name: 'asker', profile: 'demo', task: 'ask, then create file x.txt' });
    await laneIn(engine, 'asker', ['waiting-input']);
    const first = await waitFor(() => lines(out)[0], 'the hook to run for waiting-input', 30_000);
    expect(first.cwd).toBe(repo.dir);
    const payload = JSON.parse(first.input as string) as NotifyPayload;
    expect((first.input as string).endsWith('}\n')).toBe(true);
    expect(Object.keys(payload).sort()).toEqual(['event', 'lane', 'reason', 'repo', 'state', 'time']);
    expect(payload).toMatchObject({ event: 'waiting-input', lane: 'asker', state: 'waiting-input', repo: repo.dir });
    expect(typeof payload.reason).toBe('string');
    expect(new Date(payload.time).toISOString()).toBe(payload.time);
    expect(Math.abs(Date.parse(payload.time) - Date.now())).toBeLessThan(120_000);

    // answered: the agent writes the file, exits, the gates run, the lane awaits approval
    engine.supervisor.send('asker', 'y\r');
    await laneIn(engine, 'asker', ['awaiting-approval']);
    await waitFor(() => lines(out).length >= 2, 'the hook to run for awaiting-approval', 30_000);
    const events = lines(out).map((l) => (JSON.parse(l.input as string) as NotifyPayload).event);
    expect(events).toEqual(['waiting-input', 'awaiting-approval']);
  });

  it('a lane a client is attached to is skipped', async () => {
    const { engine, dir, repo } = await setup((d) => ({
      command: [process.execPath, path.join(d, 'recorder.mjs'), path.join(d, 'out.jsonl')],
    }));
    const out = path.join(dir, 'out.jsonl');
    await engine.supervisor.newLane({ name: 'asker', profile: 'demo', task: 'ask, then create file x.txt' });
    await laneIn(engine, 'asker', ['waiting-input']);
    await waitFor(() => lines(out).length === 1, 'the hook to run for waiting-input', 30_000);

    const c = await EngineConnection.connect(repo.stateDir, 'notify-test');
    conns.push(c);
    await c.request('attach', { lane: 'asker' });
    expect([...engine.server.attachedLanes()]).toEqual(['asker']);
    engine.supervisor.send('asker', 'y\r');
    await laneIn(engine, 'asker', ['awaiting-approval']);
    await new Promise((r) => setTimeout(r, 3000));
    expect(lines(out).map((l) => (JSON.parse(l.input as string) as NotifyPayload).event)).toEqual(['waiting-input']);
  });

  it('a hook that hangs is killed with its process group after 10 s, logged; the lane goes on meanwhile', async () => {
    const { engine, log, dir } = await setup((d) => ({
      command: [process.execPath, path.join(d, 'hanger.mjs'), path.join(d, 'pids.jsonl')],
      events: ['waiting-input'],
    }));
    const pidsFile = path.join(dir, 'pids.jsonl');

    await engine.supervisor.newLane({ name: 'asker', profile: 'demo', task: 'ask, then create file x.txt' });
    await laneIn(engine, 'asker', ['waiting-input']);
    const started = await waitFor(() => lines(pidsFile)[0], 'the hanging hook to start', 30_000);
    const pids = started.pids as number[];
    expect(pids).toHaveLength(2);

    // the lane is not held up by the hook
    engine.supervisor.send('asker', 'y\r');
    await laneIn(engine, 'asker', ['awaiting-approval']);
    expect(existsSync(path.join(engine.supervisor.getLane('asker')!.worktree ?? '', 'x.txt'))).toBe(true);

    await waitFor(() => log.some((l) => /notify: hook .* killed after 10 s/.test(l)), 'the kill to be logged', 40_000);
    await waitFor(() => pids.every((p) => !pidAlive(p)), 'the hook and its child to be gone', 10_000);
    expect(engine.supervisor.getLane('asker')?.state).toBe('awaiting-approval');
    expect(engine.supervisor.listLanes().map((l) => l.name)).toEqual(['asker']); // the engine goes on
  });

  it('a hook that fails or cannot start is a line in the log, nothing else', async () => {
    const { engine, log, repo } = await setup(() => ({ command: ['/nonexistent/ao-notify-hook'] }));
    await engine.supervisor.newLane({ name: 'asker', profile: 'demo', task: 'ask, then create file x.txt' });
    await laneIn(engine, 'asker', ['waiting-input']);
    await waitFor(
      () => log.find((l) => /notify: hook .* could not start/.test(l)),
      'the start failure in the log',
      30_000,
    );

    await writeFile(
      path.join(repo.dir, '.ao', 'config.json'),
      JSON.stringify({
        notify: { command: [process.execPath, '-e', 'process.stderr.write("nope"); process.exit(3)'] },
      }),
    );
    await trustRepo(repo.dir);
    engine.supervisor.send('asker', 'y\r');
    await laneIn(engine, 'asker', ['awaiting-approval']);
    await waitFor(() => log.find((l) => /notify: hook .* exit 3: nope/.test(l)), 'the failure in the log', 30_000);
    expect(engine.supervisor.getLane('asker')?.state).toBe('awaiting-approval');
  });
});
