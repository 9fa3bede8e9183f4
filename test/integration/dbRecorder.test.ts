import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { integrityCheck, openDb, type Db } from '../../lanes/store/open.js';
import { createSession } from '../../lanes/store/sessions.js';
import { getLane, insertLane } from '../../lanes/store/lanes.js';
import { outputTotals, readAll } from '../../lanes/store/output.js';
import { Recorder, RecorderError, recorderWorkerUrl, type RecorderStall } from '../../lanes/recording/recorder.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// The worker runs compiled JS: the recorder under vitest loads it from dist/, which
// test/globalSetup.ts builds from the current sources before any test runs.
const built = path.join(root, 'dist/lanes/recording/recorderWorker.js');

let dir: string;
let file: string;
let db: Db;
const recorders: Recorder[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ao-rec-'));
  file = path.join(dir, 'ao.db');
  db = openDb(file);
  createSession(db, { id: 's', repo: '/r' });
});
afterEach(async () => {
  for (const r of recorders.splice(0)) await r.close().catch(() => undefined);
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function lanes(n: number): number[] {
  return Array.from(
    { length: n },
    (_, i) =>
      insertLane(db, {
        name: `l${i}`,
        sessionId: 's',
        profile: 'demo',
        task: 't',
        branch: `ao/l${i}`,
        base: 'main',
        worktree: '/tmp/wt',
        cols: 80,
        rows: 24,
      }).id,
  );
}

function recorder(opts: Parameters<typeof Recorder.open>[1] = {}): { rec: Recorder; errors: RecorderError[] } {
  const errors: RecorderError[] = [];
  const rec = Recorder.open(file, { onError: (e) => errors.push(e), ...opts });
  recorders.push(rec);
  return { rec, errors };
}

/** Deterministic chunk content; small ones come from Node's buffer pool, big ones do not. */
function chunk(lane: number, seq: number): Buffer {
  const text = `<${lane}:${seq}>`.padEnd(8 + ((seq * 7 + lane) % 300), String.fromCharCode(97 + (seq % 26)));
  return seq % 3 === 0 ? Buffer.from(text) : Buffer.concat([Buffer.alloc(0), Buffer.from(text)]);
}

describe('Recorder', () => {
  it('finds the built worker from the source and the sibling from the build', () => {
    expect(fileURLToPath(recorderWorkerUrl(pathToFileURL(path.join(root, 'lanes/recording/recorder.ts')).href))).toBe(
      built,
    );
    expect(
      fileURLToPath(recorderWorkerUrl(pathToFileURL(path.join(root, 'dist/lanes/recording/recorder.js')).href)),
    ).toBe(built);
  });

  it('commits 50k chunks of several lanes, in order; append never waits for SQLite', async () => {
    const ids = lanes(4);
    const { rec, errors } = recorder();
    const N = 50_000;
    const bytes = new Map<number, number>(ids.map((id) => [id, 0]));
    const seqs = new Map<number, number>(ids.map((id) => [id, 0]));
    // Another connection holds the write lock for the whole append loop: the worker's commits
    // wait on it (busy_timeout), append must not.
    db.exec('BEGIN IMMEDIATE');
    try {
      for (let i = 0; i < N; i++) {
        const lane = ids[i % ids.length];
        const seq = seqs.get(lane)!;
        seqs.set(lane, seq + 1);
        const data = chunk(lane, seq);
        bytes.set(lane, bytes.get(lane)! + data.length);
        rec.append(lane, seq, seq * 2, data);
      }
      expect(rec.backlogBytes).toBe([...bytes.values()].reduce((a, b) => a + b, 0)); // nothing committed yet
    } finally {
      db.exec('COMMIT');
    }
    await rec.flush();
    expect(rec.backlogBytes).toBe(0);
    expect(errors).toEqual([]);

    const reader = openDb(file);
    try {
      for (const lane of ids) {
        let expected = 0;
        const wrong: number[] = [];
        for (const c of readAll(reader, lane)) {
          if (c.seq !== expected || c.tMs !== expected * 2 || !c.data.equals(chunk(lane, expected)))
            wrong.push(expected);
          expected++;
        }
        expect(wrong).toEqual([]);
        expect(expected).toBe(N / ids.length);
        expect(outputTotals(reader, lane).bytes).toBe(bytes.get(lane));
        expect(getLane(reader, lane)?.outputBytes).toBe(bytes.get(lane));
      }
    } finally {
      reader.close();
    }
  });

  it('copies on append: the caller may reuse its buffer, and it is never detached', async () => {
    const [lane] = lanes(1);
    const { rec } = recorder();
    const buf = Buffer.from('hello world');
    rec.append(lane, 0, 0, buf);
    buf.fill(0x21);
    await rec.flush();
    expect(buf.byteLength).toBe(11);
    expect([...readAll(db, lane)][0].data.toString()).toBe('hello world');
  });

  it('records a chunk given as its parts as one chunk, their bytes in order, and counts them once', async () => {
    const [lane] = lanes(1);
    const { rec } = recorder();
    const parts = [Buffer.from('one '), Buffer.alloc(0), Buffer.from('two '), Buffer.from('three')];
    rec.append(lane, 0, 0, parts);
    rec.append(lane, 1, 5, Buffer.from('!'));
    parts[0].fill(0x21);
    await rec.flush();
    expect([...readAll(db, lane)].map((c) => [c.seq, c.data.toString()])).toEqual([
      [0, 'one two three'],
      [1, '!'],
    ]);
    expect(outputTotals(db, lane)).toMatchObject({ chunks: 2, bytes: 14 });
  });

  it('lets a reader connection read while it writes (WAL), and a long read never blocks a commit', async () => {
    const [lane] = lanes(1);
    const { rec } = recorder();
    for (let seq = 0; seq < 1000; seq++) rec.append(lane, seq, seq, Buffer.from(`x${seq}`));
    await rec.flush();
    expect(outputTotals(db, lane).chunks).toBe(1000);

    const iter = readAll(db, lane); // holds a read transaction until finished
    expect(iter.next().value?.seq).toBe(0);
    for (let seq = 1000; seq < 2000; seq++) rec.append(lane, seq, seq, Buffer.from(`x${seq}`));
    await rec.flush(); // would time out if the open read blocked the writer
    let seen = 1;
    for (;;) {
      const r = iter.next();
      if (r.done) break;
      seen++;
    }
    expect(seen).toBe(1000); // the reader's snapshot
    expect(outputTotals(db, lane).chunks).toBe(2000); // a new read sees the new rows
  });

  it('close() flushes what was appended, then refuses more', async () => {
    const [lane] = lanes(1);
    const { rec } = recorder({ batchMs: 10_000 });
    for (let seq = 0; seq < 10; seq++) rec.append(lane, seq, seq, Buffer.from('y'));
    rec.keyframe({ laneId: lane, seq: 9, tMs: 9, cols: 80, rows: 24, data: 'state' });
    await rec.close();
    expect(outputTotals(db, lane).chunks).toBe(10);
    expect(db.prepare('SELECT data FROM keyframes WHERE lane_id = ?').pluck().get(lane)).toBe('state');
    expect(() => rec.append(lane, 10, 10, Buffer.from('z'))).toThrow(/closed/);
  });

  it('deflates the chunks of lanes that write slowly and stores a flood as it is, bytes exact either way', async () => {
    const [slow, flood] = lanes(2);
    // a spinner-like frame: compressible, 1.7 KB
    const frame = (n: number) => Buffer.from(`\x1b[1;1H${'\u2819'} Thinking (${n})\x1b[3;1H${'\u2500'.repeat(500)}`);
    // slow: 200 frames over ~1 s (340 KB at ~340 KB/s, over the size any batch is deflated at)
    const { rec } = recorder({ batchMs: 10_000, batchChunks: 100_000, batchBytes: 64 * 1024 * 1024 });
    for (let seq = 0; seq < 200; seq++) {
      rec.append(slow, seq, seq * 5, frame(seq));
      await new Promise((r) => setTimeout(r, 5));
    }
    await rec.flush();
    // flood: the same frames as fast as they come (hundreds of MiB/s)
    for (let seq = 0; seq < 200; seq++) rec.append(flood, seq, 0, frame(seq));
    await rec.flush();
    const encs = (lane: number) =>
      db.prepare('SELECT enc, count(*) AS n FROM output_chunks WHERE lane_id = ? GROUP BY enc').all(lane);
    expect(encs(slow)).toEqual([{ enc: 1, n: 200 }]);
    expect(encs(flood)).toEqual([{ enc: 0, n: 200 }]);
    for (const lane of [slow, flood]) {
      expect([...readAll(db, lane)].map((c) => c.data.toString())).toEqual(
        Array.from({ length: 200 }, (_, i) => frame(i).toString()),
      );
    }
  });

  it('never drops data when behind: append says to pause, onDrain says to resume', async () => {
    const [lane] = lanes(1);
    let drained = 0;
    const { rec } = recorder({ highWaterBytes: 256 * 1024, onDrain: () => drained++ });
    const big = Buffer.alloc(64 * 1024, 1);
    const results: boolean[] = [];
    for (let seq = 0; seq < 64; seq++) results.push(rec.append(lane, seq, seq, big));
    expect(results).toContain(false);
    expect(rec.backlogBytes).toBeGreaterThan(256 * 1024);
    await rec.flush();
    expect(drained).toBe(1);
    expect(outputTotals(db, lane)).toMatchObject({ chunks: 64, bytes: 64 * 64 * 1024 });
  });

  it('reports refused rows (duplicate seq, unknown lane) and keeps the rest of the batch', async () => {
    const [lane] = lanes(1);
    const { rec, errors } = recorder();
    rec.append(lane, 0, 0, Buffer.from('a'));
    rec.append(lane, 0, 1, Buffer.from('dup'));
    rec.append(9999, 0, 1, Buffer.from('nobody'));
    rec.append(lane, 1, 2, Buffer.from('b'));
    await rec.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0].fatal).toBe(false);
    expect(errors[0].message).toMatch(/2 item\(s\) refused.*lane \d+ seq 0: UNIQUE.*lane 9999 seq 0: FOREIGN KEY/);
    expect([...readAll(db, lane)].map((c) => c.data.toString())).toEqual(['a', 'b']);
    expect(getLane(db, lane)?.outputBytes).toBe(2);
  });

  it('surfaces a worker crash: onError, flush rejects, append throws', async () => {
    const [lane] = lanes(1);
    const bad = path.join(dir, 'badWorker.mjs');
    writeFileSync(bad, "throw new Error('boom in worker');\n");
    const { rec, errors } = recorder({ workerUrl: pathToFileURL(bad) });
    rec.append(lane, 0, 0, Buffer.from('a'));
    await expect(rec.flush()).rejects.toThrow(/boom in worker/);
    expect(errors.map((e) => e.fatal)).toEqual([true]);
    expect(() => rec.append(lane, 1, 1, Buffer.from('b'))).toThrow(/boom in worker/);
  });

  it('checkpoints the WAL from the worker, so it does not grow with the recording', async () => {
    const [lane] = lanes(1);
    const { rec } = recorder({ checkpointBytes: 1024 * 1024 });
    const big = Buffer.alloc(32 * 1024, 7);
    for (let seq = 0; seq < 640; seq++) {
      rec.append(lane, seq, seq, big); // 20 MiB in all
      if (seq % 32 === 31) await rec.flush();
    }
    await rec.flush();
    expect(statSync(`${file}-wal`).size).toBeLessThan(8 * 1024 * 1024);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0); // not the main thread's doing
  });

  it('a kill -9 while recording never corrupts the database nor leaves a gap', async () => {
    const ids = lanes(3);
    db.close();
    const child = path.join(dir, 'recordForever.mjs');
    writeFileSync(
      child,
      `import { Recorder } from ${JSON.stringify(pathToFileURL(path.join(root, 'dist/lanes/recording/recorder.js')).href)};
const rec = Recorder.open(process.argv[2], { onError: (e) => { console.error(e.message); process.exit(3); } });
const ids = ${JSON.stringify(ids)};
let seq = 0;
const data = Buffer.alloc(1024, 65);
async function loop() {
  for (;;) {
    for (let i = 0; i < 200; i++, seq++) for (const id of ids) rec.append(id, seq, seq, data);
    await rec.flush();
    process.stdout.write('committed ' + seq + '\\n');
  }
}
loop();
`,
    );
    for (let attempt = 0; attempt < 3; attempt++) {
      const proc = spawn(process.execPath, [child, file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let committed = 0;
      let stderr = '';
      proc.stderr.on('data', (d) => (stderr += d));
      await new Promise<void>((resolve, reject) => {
        const target = 600 + attempt * 400;
        proc.stdout.on('data', (d: Buffer) => {
          const m = /committed (\d+)\n$/.exec(d.toString());
          if (m) committed = Number(m[1]);
          if (committed >= target) resolve();
        });
        proc.on('exit', (code) => reject(new Error(`recording child exited (${code}): ${stderr}`)));
      });
      proc.kill('SIGKILL');
      await new Promise((resolve) => proc.on('exit', resolve));

      const after = openDb(file);
      try {
        expect(integrityCheck(after)).toEqual([]);
        for (const id of ids) {
          const totals = outputTotals(after, id);
          expect(totals.chunks).toBeGreaterThanOrEqual(committed); // every acknowledged chunk is there
          expect(totals.lastSeq).toBe(totals.chunks - 1); // and nothing is missing before the last
          expect(getLane(after, id)?.outputBytes).toBe(totals.bytes);
        }
        // the next run continues after what is there
        after.prepare('DELETE FROM output_chunks').run();
        after.prepare('UPDATE lanes SET output_bytes = 0').run();
      } finally {
        after.close();
      }
    }
    db = openDb(file);
  });
});

/**
 * A full disk, for real: the store on a 3 MB tmpfs (mounting needs root; skipped otherwise), the
 * rest of it filled by a file. The recorder stalls and says so (file, code, lanes), `append` asks
 * the lanes to pause, `flush` rejects; once space is freed it resumes and every chunk is there,
 * in order, no gap.
 */
const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;

describe.skipIf(!canMount)('Recorder on a full disk (ENOSPC on a small tmpfs)', () => {
  let mnt: string;
  let mounted = false;
  beforeEach(() => {
    mnt = mkdtempSync(path.join(tmpdir(), 'ao-full-'));
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt]).status === 0;
  });
  afterEach(() => {
    if (mounted) spawnSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  it('stalls without losing anything, names the file and the lanes, and resumes when space is freed', async (ctx) => {
    if (!mounted) return ctx.skip();
    const full = path.join(mnt, 'ao.db');
    const main = openDb(full);
    createSession(main, { id: 's', repo: '/r' });
    const laneId = insertLane(main, {
      name: 'flood',
      sessionId: 's',
      profile: 'demo',
      task: 't',
      branch: 'ao/flood',
      base: 'main',
      worktree: '/tmp/wt',
      cols: 80,
      rows: 24,
    }).id;
    const stalls: (RecorderStall | null)[] = [];
    let drained = 0;
    const rec = Recorder.open(full, {
      retryMs: 100,
      onStall: (s) => stalls.push(s),
      onDrain: () => drained++,
      onError: (e) => {
        throw e;
      },
    });
    recorders.push(rec);
    // Fill what is left of the disk.
    const filler = path.join(mnt, 'filler');
    const fd = openSync(filler, 'w');
    try {
      for (;;) writeSync(fd, Buffer.alloc(64 * 1024, 1));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }
    const data = (seq: number) => Buffer.from(`chunk ${seq} `.padEnd(16 * 1024, 'z'));
    let seq = 0;
    let refused = false;
    const deadline = Date.now() + 20_000;
    while (stalls.length === 0 && Date.now() < deadline) {
      if (rec.append(laneId, seq, seq, data(seq)) === false) refused = true;
      seq++;
      if (seq % 16 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(stalls[0]).toMatchObject({ file: full, code: 'SQLITE_FULL', laneIds: [laneId], retrying: true });
    expect(rec.append(laneId, seq, seq, data(seq))).toBe(false); // every lane is asked to pause
    seq++;
    refused = true;
    expect(refused).toBe(true);
    await expect(rec.flush()).rejects.toThrow(`recording cannot be written to ${full}`);
    rmSync(filler);
    await vi.waitFor(() => expect(stalls.at(-1)).toBeNull(), { timeout: 10_000, interval: 50 });
    await rec.flush();
    expect(drained).toBeGreaterThan(0);
    const totals = outputTotals(main, laneId);
    expect(totals.chunks).toBe(seq);
    expect(totals.lastSeq).toBe(seq - 1); // nothing missing
    main.close();
    await rec.close();
  });
});
