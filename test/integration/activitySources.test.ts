/**
 * A lane's state from the agent, not only its screen (lanes/lane/activitySources.ts): a real pty
 * program (test/fixtures/stateSources.mjs) sets its window title and writes a status file, an
 * agent hook reports through the supervisor, and each state change is stored with the source
 * that made it (lane_events.data.source) and shown by the replay's timeline.
 */
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { RECENT_MS } from '../../lanes/lane/activitySources.js';
import { listEvents, stateSource, type LaneEventRow } from '../../lanes/store/events.js';
import { buildMarks } from '../../src/replay/timeline.js';
import type { LaneState } from '../../lanes/lane/types.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'stateSources.mjs');

describe('state sources: hook, status file, title, screen', () => {
  let repo: TempRepo;
  let home: string;
  let sup: Supervisor;

  beforeEach(async () => {
    repo = await createTempRepo();
    home = await realpath(await mkdtemp(path.join(tmpdir(), 'ao-sources-')));
    await mkdir(path.join(repo.dir, '.ao', 'profiles'), { recursive: true });
    await writeFile(
      path.join(repo.dir, '.ao', 'profiles', 'sources.json'),
      JSON.stringify({
        name: 'sources',
        command: '{node}',
        args: [fixture],
        taskInput: 'none',
        envPassthrough: ['PATH', 'HOME'],
        idleMs: 500,
        titlePatterns: { busy: ['^AO busy'], waitingInput: ['^AO ask'], idle: ['^AO ready'] },
        statusFile: {
          path: '{home}/status/{pid}.json',
          values: { busy: 'busy', idle: 'idle', waiting: 'waiting-input' },
        },
      }),
    );
    sup = await createSupervisor({
      repoRoot: repo.dir,
      stateDir: repo.stateDir,
      cols: 80,
      rows: 24,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
      tickMs: 100,
      stopGraceMs: 1000,
    });
  });
  afterEach(async () => {
    await sup.shutdown('test over');
    await repo.cleanup();
    await rm(home, { recursive: true, force: true });
  });

  const state = () => sup.getLane('src')?.state;
  const events = (): LaneEventRow[] => {
    const db = new Database(path.join(repo.stateDir, 'ao.db'), { readonly: true });
    try {
      const id = (db.prepare('SELECT id FROM lanes WHERE name = ?').get('src') as { id: number }).id;
      return listEvents(db as never, id, { kind: 'state' });
    } finally {
      db.close();
    }
  };
  /** waits for the lane to be in `s` through a change made by `source`; returns that event */
  const reach = async (s: LaneState, source: string): Promise<LaneEventRow> =>
    waitFor(
      () => {
        const last = events().at(-1);
        return last && last.toState === s && stateSource(last) === source && state() === s ? last : null;
      },
      `src to be ${s} by the ${source}`,
      15_000,
    );

  it('records which source moved the lane, a more trusted source holding against a less trusted one', async () => {
    await sup.newLane({ name: 'src', profile: 'sources', task: '' });
    const pid = Number(
      (await waitFor(() => /pid (\d+)/.exec(sup.screenText('src').join('\n')), 'the agent prints its pid'))[1],
    );
    const statusFile = path.join(home, 'status', `${pid}.json`);

    // The screen: quiet, no pattern: idle.
    const idle = await reach('idle', 'screen');
    expect(idle.cause).toBe('screen reads idle');

    // The title asks (the screen still reads idle: nothing drawn).
    sup.send('src', 'title AO ask\r');
    const asked = await reach('waiting-input', 'title');
    expect(asked.cause).toBe('title reads waiting-input: "AO ask"');
    await sup.syncScreen('src');
    expect(sup.screenText('src').join('\n')).not.toMatch(/AO ask/);

    // The status file says busy: more trusted than the title, which still asks.
    await writeFile(statusFile, JSON.stringify({ status: 'busy' }));
    const busy = await reach('running', 'status-file');
    expect(busy.cause).toBe('status file reads busy: status=busy');

    // A hook reports waiting; the status file turns idle at once after it. The hook, more
    // trusted and recent, holds until RECENT_MS after it spoke; then the status file, which
    // spoke last, wins.
    sup.reportWaiting('src', 'test hook');
    const hooked = events().at(-1)!;
    expect(hooked.toState).toBe('waiting-input');
    expect(stateSource(hooked)).toBe('hook');
    await writeFile(statusFile, JSON.stringify({ status: 'idle' }));
    const after = await reach('idle', 'status-file');
    expect(after.cause).toBe('status file reads idle: status=idle');
    // never before the hook's window closed (a lower bound: the precedence rule, not a speed)
    expect(after.at).toBeGreaterThanOrEqual(hooked.at + RECENT_MS - 50);
    const between = events().filter((e) => e.id > hooked.id && e.id < after.id);
    expect(between).toEqual([]);

    // The title, set after everything else, is the freshest news (its escape sequence is output,
    // so the screen may read busy for a moment first).
    sup.send('src', 'title AO ready\r');
    await reach('idle', 'title');

    // The replay's timeline shows each change's source.
    const all = events();
    const labels = buildMarks(
      all,
      [],
      (e) => e.tMs ?? 0,
      (at) => at,
    )
      .filter((m) => m.kind === 'state')
      .map((m) => m.label);
    expect(labels).toEqual(
      expect.arrayContaining([
        'idle [screen] (screen reads idle)',
        'waiting-input [title] (title reads waiting-input: "AO ask")',
        'running [status-file] (status file reads busy: status=busy)',
        'waiting-input [hook] (test hook: waiting for input)',
        'idle [status-file] (status file reads idle: status=idle)',
        'idle [title] (title reads idle: "AO ready")',
      ]),
    );
  }, 60_000);
});
