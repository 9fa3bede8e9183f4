/**
 * Replay and export against real recordings: the demo agent driven through the real supervisor
 * (real pty, real SQLite, the recorder worker), then read back the way `ao-console replay` and
 * `ao-console export` read it: a read-only connection, possibly while the console still writes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import type { LaneState } from '../../lanes/lane/types.js';
import { getLaneByName } from '../../lanes/store/lanes.js';
import { outputTotals, readAll } from '../../lanes/store/output.js';
import { exportCast, exportJson, exportText } from '../../src/replay/export.js';
import { ReplayPlayer } from '../../src/replay/player.js';
import { openReplayDb } from '../../lanes/recording/reader.js';
import { resolveReplayTarget } from '../../src/replay/service.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';

const env = { ...process.env, AO_DEMO_SPEED: '0' };

describe('replay of demo lanes', () => {
  let repo: TempRepo;
  let sup: Supervisor | null;

  beforeEach(async () => {
    repo = await createTempRepo();
    sup = await createSupervisor({
      repoRoot: repo.dir,
      stateDir: repo.stateDir,
      cols: 100,
      rows: 30,
      env,
      tickMs: 100,
      stopGraceMs: 1000,
    });
  });
  afterEach(async () => {
    await sup?.shutdown('test over');
    await repo.cleanup();
  });

  const dbPath = () => path.join(repo.stateDir, 'ao.db');
  const reach = (lane: string, s: LaneState) =>
    waitFor(() => sup!.getLane(lane)?.state === s, `${lane} to be ${s} (is ${sup!.getLane(lane)?.state})`);

  it('reaches the live final screen, and an event shows the screen of that moment', async () => {
    await sup!.newLane({ name: 'hello', profile: 'demo', task: 'ask create file hello.txt' });
    await reach('hello', 'waiting-input');
    await sup!.syncScreen('hello'); // nobody draws the lane: its screen as of now
    const atQuestion = sup!.screenText('hello');
    expect(atQuestion.join('\n')).toContain('[y/n]');
    sup!.send('hello', 'y\r');
    await reach('hello', 'awaiting-approval');
    await sup!.approve('hello', { wait: true });
    await sup!.syncScreen('hello');
    const finalScreen = sup!.screenText('hello');
    await sup!.shutdown('done');
    sup = null;

    const db = openReplayDb(dbPath());
    const target = resolveReplayTarget(db); // no argument: the latest session
    expect(target.lanes.map((l) => l.name)).toEqual(['hello']);
    const player = new ReplayPlayer(db, target.laneId);
    expect(player.recording.keyframes.length).toBeGreaterThan(0); // the start keyframe at least
    await player.seek(player.durationMs);
    expect(player.screenText()).toEqual(finalScreen);

    const waiting = player.marks.find((m) => m.kind === 'state' && m.label.startsWith('waiting-input'));
    expect(waiting).toBeDefined();
    await player.seekLane(waiting!.tMs);
    expect(player.screenText()).toEqual(atQuestion);
    // the timeline carries the handoff, every verdict and the decision
    const kinds = new Set(player.marks.map((m) => m.kind));
    for (const k of ['handoff', 'verdict', 'decision', 'merge']) expect(kinds, k).toContain(k);
    expect(player.marks.find((m) => m.kind === 'decision')?.label).toMatch(/^approve/);

    const json = exportJson(db, target.laneId) as {
      closure: { outcome: string };
      verdicts: unknown[];
      events: unknown[];
    };
    expect(json.closure.outcome).toBe('merged');
    expect(json.verdicts.length).toBeGreaterThan(0);
    let text = '';
    await exportText(db, target.laneId, (s) => void (text += s));
    for (const line of finalScreen.filter((l) => l.trim())) expect(text).toContain(line);
    player.dispose();
    db.close();
  });

  it('exports a cast that asciinema accepts, printing exactly the recorded bytes', async () => {
    await sup!.newLane({ name: 'cast', profile: 'demo', task: 'create file cast.txt' });
    await reach('cast', 'awaiting-approval');
    await sup!.shutdown('done');
    sup = null;
    const db = openReplayDb(dbPath());
    const lane = getLaneByName(db, 'cast')!;
    const recorded = Buffer.concat([...readAll(db, lane.id)].map((c) => c.data));
    let cast = '';
    await exportCast(db, lane.id, (s) => void (cast += s));
    db.close();
    const [header, ...events] = cast
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(header).toMatchObject({ version: 2, width: 100, height: 30 });
    expect((header as { timestamp: number }).timestamp).toBeGreaterThan(1_600_000_000);
    expect(events.some((e) => (e as unknown[])[1] === 'm')).toBe(true);
    const file = path.join(repo.dir, '..', `${path.basename(repo.dir)}.cast`);
    const out = `${file}.out`;
    writeFileSync(file, cast);
    // asciinema cat wants a terminal on /dev/tty: give it one with script(1), stdout to a file
    const r = spawnSync('script', ['-qec', `asciinema cat '${file}' > '${out}'`, '/dev/null'], {
      env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', PYTHONIOENCODING: 'utf-8' },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(readFileSync(out).equals(recorded)).toBe(true);
  });

  it('replays a lane while it is still running, and follows it as it grows', async () => {
    await sup!.newLane({ name: 'live', profile: 'demo', task: 'ask create file live.txt' });
    await reach('live', 'waiting-input');
    await waitFor(() => {
      const db = openReplayDb(dbPath());
      try {
        return getLaneByName(db, 'live')!.outputBytes > 0;
      } finally {
        db.close();
      }
    }, 'recorded output');
    await new Promise((r) => setTimeout(r, 300)); // the recorder commits every 50 ms
    const db = openReplayDb(dbPath());
    const player = new ReplayPlayer(db, getLaneByName(db, 'live')!.id);
    await player.seek(player.durationMs);
    await sup!.syncScreen('live');
    expect(player.screenText()).toEqual(sup!.screenText('live'));
    const before = player.durationMs;
    sup!.send('live', 'y\r');
    await reach('live', 'awaiting-approval');
    await new Promise((r) => setTimeout(r, 300));
    expect(player.refresh()).toBe(true);
    expect(player.durationMs).toBeGreaterThan(before);
    await player.seek(player.durationMs);
    await sup!.syncScreen('live');
    expect(player.screenText()).toEqual(sup!.screenText('live'));
    player.dispose();
    db.close();
  });
});

describe('replay of an interrupted session', () => {
  it('replays a console killed mid-lane up to where it stopped', async () => {
    const repo = await createTempRepo();
    const ENV = { AO_DEMO_SPEED: '0', NO_COLOR: '1' };
    const child = spawn(process.execPath, [CLI, 'serve', '--cols', '100', '--rows', '30'], {
      cwd: repo.dir,
      env: { ...process.env, ...ENV },
    });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => out.includes('"type":"ready"'), 'serve ready');
      const ctl = (...args: string[]) => runCli(['ctl', ...args], { cwd: repo.dir, env: ENV, timeoutMs: 60_000 });
      expect((await ctl('new', '--name', 'cut', '--profile', 'demo', '--task', 'ask create file cut.txt')).code).toBe(
        0,
      );
      expect((await ctl('wait', 'cut', '--state', 'waiting-input', '--timeout', '60')).code).toBe(0);
      const screen = (await ctl('screen', 'cut')).stdout;
      // the recorder commits every 250 ms (later on a loaded machine): kill once what the lane
      // wrote is in the store, as a crash at that instant would find it
      const written = (
        JSON.parse((await ctl('status', '--json')).stdout) as { lanes: { name: string; outputBytes: number }[] }
      ).lanes.find((l) => l.name === 'cut')!.outputBytes;
      expect(written).toBeGreaterThan(0);
      await waitFor(() => {
        const db = openReplayDb(path.join(repo.stateDir, 'ao.db'));
        try {
          const lane = getLaneByName(db, 'cut');
          return lane !== undefined && outputTotals(db, lane.id).bytes >= written;
        } finally {
          db.close();
        }
      }, "the lane's output committed");
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));

      const db = openReplayDb(path.join(repo.stateDir, 'ao.db'));
      const target = resolveReplayTarget(db);
      expect(db.prepare('SELECT ended_at FROM sessions WHERE id = ?').get(target.session.id)).toEqual({
        ended_at: null,
      });
      const player = new ReplayPlayer(db, target.laneId);
      await player.seek(player.durationMs);
      const text = player.screenText().join('\n');
      expect(text).toContain('[y/n]');
      expect(text.trimEnd()).toBe(
        screen
          .replace(/\n+$/, '')
          .split('\n')
          .map((l) => l.replace(/ +$/, ''))
          .join('\n')
          .trimEnd(),
      );
      player.dispose();
      db.close();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await repo.cleanup();
    }
  });
});
