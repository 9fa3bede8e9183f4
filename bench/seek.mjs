#!/usr/bin/env node
// Seek benchmark for replay (docs/replay.md): builds a 100 MB lane recording in a temp database
// the way the console records one (chunks + keyframes taken in the emulator's write callback by
// the keyframe policy), then seeks a replay player to random moments, in random order, and
// reports p50 / p95 / max against the 150 ms target. Runs on dist/: `npm run build` first.
// Usage: node bench/seek.mjs [--mb 100] [--seeks 60]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const dist = new URL('../dist/', import.meta.url);
const load = (p) => import(new URL(p, dist).href);
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const MB = arg('mb', 100);
const SEEKS = arg('seeks', 60);
const TARGET_MS = 150;

const { openDb } = await load('lanes/store/open.js');
const { insertChunks, insertKeyframe } = await load('lanes/store/output.js');
const { createSession } = await load('lanes/store/sessions.js');
const { insertLane } = await load('lanes/store/lanes.js');
const { LaneTerminal } = await load('lanes/terminal/laneTerminal.js');
const { KeyframePolicy, captureKeyframe } = await load('lanes/recording/keyframes.js');
const { ReplayPlayer } = await load('src/replay/player.js');

function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const dir = mkdtempSync(path.join(tmpdir(), 'ao-seek-bench-'));
try {
  const db = openDb(path.join(dir, 'ao.db'));
  const session = createSession(db, { repo: dir });
  const lane = insertLane(db, {
    name: 'bench',
    sessionId: session.id,
    profile: 'shell',
    task: 'seek bench',
    branch: 'ao/bench',
    base: 'main',
    worktree: dir,
    cols: 120,
    rows: 40,
  });
  db.prepare('UPDATE lanes SET started_at = ? WHERE id = ?').run(Date.now(), lane.id);

  // Agent-like output: coloured log lines, progress redraws, a full-screen repaint now and then.
  const rand = rng(1);
  const words = [
    'compiling',
    'src/index.ts',
    'PASS',
    'FAIL',
    'test',
    '✓',
    'warning:',
    'lane',
    'gate',
    '日本語',
    'héllo',
  ];
  const chunkOf = (size) => {
    let s = '';
    while (s.length < size) {
      const r = rand();
      if (r < 0.02) s += '\x1b[H\x1b[2J';
      else if (r < 0.1) s += `\x1b[3${1 + Math.floor(rand() * 6)}m`;
      else if (r < 0.15) s += '\x1b[0m';
      else if (r < 0.2) s += '\r\x1b[2K';
      else if (r < 0.35) s += '\r\n';
      else s += `${words[Math.floor(rand() * words.length)]} `;
    }
    return Buffer.from(s, 'utf8');
  };

  const t0 = performance.now();
  const live = new LaneTerminal({ cols: 120, rows: 40 });
  const KF_KIB = arg('kf-kib', 0);
  const policy = new KeyframePolicy(KF_KIB ? { everyBytes: KF_KIB * 1024 } : {});
  const total = MB * 1024 * 1024;
  let bytes = 0;
  let seq = 0;
  let batch = [];
  const keyframes = [];
  const times = [];
  let waiting = [];
  while (bytes < total) {
    const data = chunkOf(4096);
    const s = seq++;
    const t = s * 4; // 4 ms apart: about 100 s of lane time for 100 MB
    batch.push({ laneId: lane.id, seq: s, tMs: t, data });
    times.push(t);
    bytes += data.length;
    const due = policy.note(t, data.length);
    waiting.push(
      new Promise((resolve) =>
        live.write(data, () => {
          if (due) keyframes.push({ laneId: lane.id, ...captureKeyframe(live, s, t, due) });
          resolve();
        }),
      ),
    );
    if (batch.length >= 512) {
      await Promise.all(waiting); // flow control: at most ~2 MiB ahead of the parser
      waiting = [];
      insertChunks(db, batch);
      batch = [];
      for (const k of keyframes.splice(0)) insertKeyframe(db, k);
    }
  }
  await Promise.all(waiting);
  insertChunks(db, batch);
  for (const k of keyframes.splice(0)) insertKeyframe(db, k);
  live.dispose();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const kfCount = db.prepare('SELECT count(*) AS n FROM keyframes').get().n;
  const built = performance.now() - t0;
  db.close();

  // Seek on a fresh read-only connection, like `ao-console replay`.
  const ro = openDb(path.join(dir, 'ao.db'), { readonly: true });
  const o0 = performance.now();
  const player = new ReplayPlayer(ro, lane.id, { idleCapMs: 0 });
  const openMs = performance.now() - o0;
  const pick = rng(2);
  const samples = [];
  for (let i = 0; i < SEEKS; i++) {
    const t = times[Math.floor(pick() * times.length)];
    const a = performance.now();
    await player.seekLane(t);
    samples.push(performance.now() - a);
  }
  player.dispose();
  ro.close();
  samples.sort((a, b) => a - b);
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  const result = {
    bench: 'replay seek',
    recordingMB: Math.round(bytes / 1024 / 1024),
    chunks: seq,
    keyframes: kfCount,
    buildSeconds: +(built / 1000).toFixed(1),
    openMs: +openMs.toFixed(1),
    seeks: SEEKS,
    p50Ms: +q(0.5).toFixed(1),
    p95Ms: +q(0.95).toFixed(1),
    maxMs: +samples[samples.length - 1].toFixed(1),
    targetMs: TARGET_MS,
    pass: samples[samples.length - 1] < TARGET_MS,
  };
  console.log(JSON.stringify(result));
  if (!result.pass) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
