/**
 * Hostile output through the whole engine (real pty, the emulator worker, the recorder, SQLite):
 * an agent prints huge repeat counts, endless strings, a long line and invalid UTF-8, each
 * followed by a marker line; the lane's screen shows every marker while the agent runs (the
 * emulator is not wedged), the recording holds the exact bytes, and replay and export of that
 * recording finish and show its end.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { getLaneByName } from '../../lanes/store/lanes.js';
import { openReplayDb } from '../../lanes/recording/reader.js';
import { exportText } from '../../src/replay/export.js';
import { ReplayPlayer } from '../../src/replay/player.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';
import { decodeChunk } from '../../lanes/store/output.js';

const fixture = fileURLToPath(new URL('../fixtures/hostile.mjs', import.meta.url));
/** how many hostile outputs test/fixtures/hostile.mjs prints */
const COUNT = 12;
let repo: TempRepo;
let sup: Supervisor;

beforeAll(async () => {
  repo = await createTempRepo();
  await mkdir(path.join(repo.dir, '.ao', 'profiles'), { recursive: true });
  await writeFile(
    path.join(repo.dir, '.ao', 'profiles', 'hostile.json'),
    JSON.stringify({
      description: 'hostile output',
      command: process.execPath,
      args: [fixture, '{task}', '8'],
      taskInput: 'arg',
      handoffOnExit: false,
      patterns: { busy: [], waitingInput: [] },
    }),
  );
  sup = await createSupervisor({ repoRoot: repo.dir, stateDir: repo.stateDir, cols: 100, rows: 30, tickMs: 100 });
});
afterAll(async () => {
  await sup.shutdown('test over');
  await repo.cleanup();
});

const screen = () => sup.screenText('hostile').join('\n');

it('keeps the lane screen live through hostile output, records it exactly, and replays and exports it', async () => {
  const copy = path.join(repo.dir, '..', `${path.basename(repo.dir)}-hostile-copy`);
  await sup.newLane({ name: 'hostile', profile: 'hostile', task: copy });
  for (let i = 0; i < COUNT; i++) {
    // The marker was written after the hostile output: the emulator got through it.
    await waitFor(() => screen().includes(`AFTER-${i}`), `AFTER-${i} on the screen (screen: ${screen().slice(-200)})`);
    sup.send('hostile', 'n');
  }
  await waitFor(() => screen().includes('HOSTILE-DONE'), 'HOSTILE-DONE on the screen');
  await sup.stop('hostile');
  await sup.flushRecording();

  const written = readFileSync(copy);
  const db = new Database(path.join(repo.stateDir, 'ao.db'), { readonly: true });
  const rows = db
    .prepare('SELECT data, enc FROM output_chunks WHERE lane_id = (SELECT id FROM lanes WHERE name = ?) ORDER BY seq')
    .all('hostile') as { data: Buffer; enc: number }[];
  db.close();
  const recorded = Buffer.concat(rows.map((r) => decodeChunk(r.enc, r.data)));
  expect(recorded.length).toBe(written.length);
  expect(recorded.equals(written)).toBe(true);

  const rdb = openReplayDb(path.join(repo.stateDir, 'ao.db'));
  try {
    const laneId = getLaneByName(rdb, 'hostile')!.id;
    let text = '';
    await exportText(rdb, laneId, (s) => void (text += s));
    // (the start is past the export's scrollback: the long line alone is 84k rows)
    expect(text.trimEnd().split('\n').slice(-3)).toEqual(['AFTER-11', '', 'HOSTILE-DONE']);
    const player = new ReplayPlayer(rdb, laneId);
    try {
      await player.seek(player.durationMs);
      expect(player.screenText().join('\n')).toContain('HOSTILE-DONE');
    } finally {
      player.dispose();
    }
  } finally {
    rdb.close();
  }
});
