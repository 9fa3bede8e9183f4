/**
 * The whole recording path of the engine (pty, exit shim, recorder worker, SQLite): what an
 * agent writes right before it exits is all in the database, byte for byte, binary included;
 * and the agent's environment is the allowlist, not the console's.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';
import { decodeChunk, readAll } from '../../lanes/store/output.js';
import { openReplayDb } from '../../lanes/recording/reader.js';

const writer = fileURLToPath(new URL('../fixtures/exactWriter.sh', import.meta.url));
let repo: TempRepo;
let sup: Supervisor;

beforeAll(async () => {
  repo = await createTempRepo();
  await mkdir(path.join(repo.dir, '.ao', 'profiles'), { recursive: true });
  const profile = (command: string, args: string[], extra: object = {}) =>
    JSON.stringify({
      description: 'test',
      command,
      args,
      taskInput: 'none',
      handoffOnExit: false,
      patterns: { busy: [], waitingInput: [] },
      ...extra,
    });
  await writeFile(
    path.join(repo.dir, '.ao', 'profiles', 'writer.json'),
    profile('/bin/sh', [writer, '{task}'], { taskInput: 'arg' }),
  );
  await writeFile(
    path.join(repo.dir, '.ao', 'profiles', 'envdump.json'),
    profile('/bin/sh', ['-c', 'stty raw -echo; env; printf END-OF-ENV'], { envPassthrough: ['PATH', 'ALLOWED_*'] }),
  );
  await writeFile(
    path.join(repo.dir, '.ao', 'profiles', 'pauser.json'),
    profile(
      '/bin/sh',
      [
        '-c',
        'stty raw -echo || exit 90; printf first; sleep 0.4; printf second; sleep 0.4; exec cat -- "$1"',
        'pauser',
        '{task}',
      ],
      { taskInput: 'arg' },
    ),
  );
  await writeFile(path.join(repo.dir, '.ao', 'config.json'), JSON.stringify({ maxConcurrentLanes: 8 }));
  sup = await createSupervisor({
    repoRoot: repo.dir,
    stateDir: repo.stateDir,
    cols: 80,
    rows: 24,
    tickMs: 100,
    env: { ...process.env, AO_TEST_SECRET: 'hunter2-never-passes', ALLOWED_ONE: 'yes' },
  });
});
afterAll(async () => {
  await sup.shutdown('test over');
  await repo.cleanup();
});

function recorded(lane: string): Buffer {
  const db = new Database(path.join(repo.stateDir, 'ao.db'), { readonly: true });
  const rows = db
    .prepare('SELECT data, enc FROM output_chunks WHERE lane_id = (SELECT id FROM lanes WHERE name = ?) ORDER BY seq')
    .all(lane) as { data: Buffer; enc: number }[];
  db.close();
  return Buffer.concat(rows.map((r) => decodeChunk(r.enc, r.data)));
}

it('records every byte an agent writes right before it exits, in every run', async () => {
  const runs = 6;
  const payloads: Buffer[] = [];
  for (let i = 0; i < runs; i++) {
    // Several MB of random bytes (not valid UTF-8), no trailing newline.
    const payload = randomBytes(2 * 1024 * 1024 + 777 * i);
    payloads.push(payload);
    const file = path.join(repo.dir, '..', `${path.basename(repo.dir)}-payload-${i}`);
    await writeFile(file, payload);
    await sup.newLane({ name: `exact-${i}`, profile: 'writer', task: file });
  }
  for (let i = 0; i < runs; i++) {
    await waitFor(() => sup.getLane(`exact-${i}`)?.state === 'stopped', `exact-${i} to exit`, 60_000);
  }
  await sup.flushRecording();
  for (let i = 0; i < runs; i++) {
    const got = recorded(`exact-${i}`);
    expect(got.length, `run ${i}`).toBe(payloads[i].length);
    expect(got.equals(payloads[i]), `run ${i} bytes`).toBe(true);
    expect(sup.getLane(`exact-${i}`)!.exitCode).toBe(0);
  }
});

it('has the whole recording committed when the lane is seen stopped (no flush asked for)', async () => {
  const payload = randomBytes(8 * 1024 * 1024);
  const file = path.join(repo.dir, '..', `${path.basename(repo.dir)}-seen-stopped`);
  await writeFile(file, payload);
  let atStop: Buffer | null = null;
  const off = sup.on((ev) => {
    // read in the event itself, as a client reads the store on hearing of the state
    if (ev.type === 'lane-state' && ev.lane === 'seen' && ev.to === 'stopped') atStop = recorded('seen');
  });
  try {
    await sup.newLane({ name: 'seen', profile: 'writer', task: file });
    await waitFor(() => atStop, 'seen to stop', 60_000);
  } finally {
    off();
  }
  expect(atStop!.length).toBe(payload.length);
  expect(atStop!.equals(payload)).toBe(true);
});

it('records a burst in chunks of many pty reads, and output after a pause as a chunk of its own', async () => {
  const payload = randomBytes(2 * 1024 * 1024);
  const file = path.join(repo.dir, '..', `${path.basename(repo.dir)}-burst`);
  await writeFile(file, payload);
  await sup.newLane({ name: 'burst', profile: 'pauser', task: file });
  await waitFor(() => sup.getLane('burst')?.state === 'stopped', 'burst to exit', 60_000);
  await sup.flushRecording();
  const db = openReplayDb(path.join(repo.stateDir, 'ao.db'));
  const rows = [...readAll(db, sup.getLane('burst')!.id)];
  db.close();
  const chunks = rows.map((r) => r.data);
  expect(chunks[0].toString()).toBe('first');
  expect(chunks[1].toString()).toBe('second');
  expect(rows[1].tMs - rows[0].tMs).toBeGreaterThanOrEqual(300);
  expect(Buffer.concat(chunks.slice(2)).equals(payload)).toBe(true);
  // a pty read is at most 4 KiB: 512 of them, gathered into a few dozen chunks at most
  expect(chunks.length - 2).toBeLessThan(64);
});

it('gives the agent the allowlisted environment only', async () => {
  await sup.newLane({ name: 'env', profile: 'envdump', task: '' });
  await waitFor(() => sup.getLane('env')?.state === 'stopped', 'env lane to exit');
  await sup.flushRecording();
  const env = recorded('env').toString('utf8');
  expect(env).toContain('END-OF-ENV');
  expect(env).not.toContain('hunter2-never-passes');
  expect(env).toContain('ALLOWED_ONE=yes');
  expect(env).toContain('AO_LANE=env');
  expect(env).toMatch(/AO_SESSION=[0-9a-f-]{36}/);
  const names = env
    .split(/\r?\n/)
    .map((l) => l.split('=')[0])
    .filter((n) => /^[A-Z_][A-Z0-9_]*$/.test(n));
  const allowed = /^(PATH|HOME|TERM|LANG|LC_.*|USER|SHELL|COLORTERM|TERM_PROGRAM|ALLOWED_.*|AO_.*|PWD|SHLVL|OLDPWD|_)$/;
  expect(names.filter((n) => !allowed.test(n))).toEqual([]);
});
