/**
 * Recorded lane output and replay keyframes. Writes normally go through the recorder worker
 * (lanes/recording/recorderWorker.ts), which commits with `createOutputWriter`; reads are plain
 * queries, each an index range scan (docs/data-model.md).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { writeTransaction, type Db } from './open.js';

export interface OutputChunk {
  laneId: number;
  /** 0, 1, 2, ... per lane, in the order the pty produced them */
  seq: number;
  /** ms since the lane's `startedAt` */
  tMs: number;
  data: Buffer;
}

/** A serialized emulator state, taken after chunk `seq` was applied. */
export interface Keyframe {
  laneId: number;
  seq: number;
  tMs: number;
  cols: number;
  rows: number;
  data: string;
}

export interface OutputTotals {
  chunks: number;
  bytes: number;
  /** t_ms of the first and last chunk; null when there is none */
  firstMs: number | null;
  lastMs: number | null;
  /** highest seq recorded; -1 when there is none */
  lastSeq: number;
}

export const INSERT_CHUNK_SQL =
  'INSERT INTO output_chunks (lane_id, seq, t_ms, data, enc, raw_len) VALUES (?, ?, ?, ?, ?, ?)';

/**
 * How a chunk's bytes are stored (`output_chunks.enc`): 0 as they are, 1 raw deflate (RFC 1951).
 * A waiting agent redraws the same frame with a few changed cells many times a second (a 1.7 KB
 * spinner frame deflates to ~250 bytes), so the recording of a day of waiting agents is a fraction
 * of its output (issue "Cheaper per lane than tmux", disk). The exact bytes come back on read.
 */
export const ENC_RAW = 0;
export const ENC_DEFLATE = 1;
/**
 * The recorder deflates the chunks of a batch unless its lanes wrote faster than this: lanes that
 * wait and redraw (a few KB a second each; 100 of them ~2 MiB/s) are stored at a fraction of their
 * output, while a flood (tens of MiB/s) is stored as it is, so compressing never slows the lanes'
 * ingest on a busy machine. Deflating at this rate costs ~3% of a core.
 */
export const COMPRESS_MAX_BYTES_PER_S = 4 * 1024 * 1024;
/** A batch this small is deflated whatever its rate. */
const COMPRESS_ANY_BYTES = 64 * 1024;

/** Whether a batch of `bytes` gathered over `spanMs` is stored deflated (see COMPRESS_MAX_BYTES_PER_S). */
export function compressBatch(bytes: number, spanMs: number): boolean {
  return bytes <= COMPRESS_ANY_BYTES || bytes <= (COMPRESS_MAX_BYTES_PER_S * Math.max(spanMs, 0)) / 1000;
}
/** Smaller chunks are stored as they are (a deflate stream has a few bytes of overhead). */
const MIN_COMPRESS_BYTES = 96;
/**
 * Fast settings: a 4 KiB window and little memory make each call ~12 µs for a spinner frame (the
 * default settings allocate 256 KiB per call: ~90 µs), at the same size for chunks of this kind.
 */
const DEFLATE_OPTIONS = { level: 1, windowBits: 12, memLevel: 4 } as const;
/** A deflated chunk is kept when it is at most this share of the raw bytes. */
const KEEP_DEFLATED_RATIO = 0.75;
/**
 * zlib's output buffer for a chunk of `bytes`: what a kept result can need (zlib's default is
 * 16 KiB a call, which the result then holds on to: a spinner frame's ~250 deflated bytes kept
 * 16 KiB of garbage each, 14-16 MiB of ArrayBuffers waiting for a collection in the recorder
 * worker; sized this way, ~1 MiB). A bigger result spills into more buffers and is not kept.
 */
export function deflateBufferBytes(bytes: number): number {
  return Math.min(Math.max(64, Math.ceil(bytes * KEEP_DEFLATED_RATIO)), 64 * 1024);
}

/** The stored form of a chunk: deflated when that saves a quarter or more, else as it is. */
export function encodeChunk(data: Uint8Array): { enc: number; data: Uint8Array; rawLen: number | null } {
  if (data.byteLength >= MIN_COMPRESS_BYTES) {
    const packed = deflateRawSync(data, { ...DEFLATE_OPTIONS, chunkSize: deflateBufferBytes(data.byteLength) });
    if (packed.byteLength <= data.byteLength * KEEP_DEFLATED_RATIO)
      return { enc: ENC_DEFLATE, data: packed, rawLen: data.byteLength };
  }
  return { enc: ENC_RAW, data, rawLen: null };
}

/** The exact bytes of a stored chunk; throws naming the chunk when they cannot be decoded. */
export function decodeChunk(enc: number, data: Buffer, where = 'chunk'): Buffer {
  if (enc === ENC_RAW) return data;
  if (enc === ENC_DEFLATE) {
    try {
      return inflateRawSync(data);
    } catch (err) {
      throw new Error(`${where}: stored compressed, cannot be decoded: ${(err as Error).message}`);
    }
  }
  throw new Error(`${where}: unknown encoding ${enc}`);
}

/** SQL for a chunk's original size, whatever its encoding. */
export const CHUNK_BYTES_SQL = 'coalesce(raw_len, length(data))';
export const ADD_OUTPUT_BYTES_SQL = 'UPDATE lanes SET output_bytes = output_bytes + ? WHERE id = ?';
export const INSERT_KEYFRAME_SQL =
  'INSERT INTO keyframes (lane_id, seq, t_ms, cols, rows, data) VALUES (?, ?, ?, ?, ?, ?)';
/** Chunks with seq >= fromSeq, in seq order: a range of output_chunks_seq. */
export const READ_FROM_SEQ_SQL = `SELECT lane_id, seq, t_ms, data, enc FROM output_chunks
  WHERE lane_id = ? AND seq >= ? ORDER BY seq`;
/** The latest keyframe at or before a time: one step down keyframes_time. */
export const KEYFRAME_AT_SQL = `SELECT * FROM keyframes
  WHERE lane_id = ? AND t_ms <= ? ORDER BY t_ms DESC, seq DESC LIMIT 1`;

/** A keyframe without its data: what a replay indexes (lanes/recording/reader.ts). */
export interface KeyframeMeta {
  seq: number;
  tMs: number;
  cols: number;
  rows: number;
  /** taken on a fresh emulator: a new run of the agent starts there */
  reset: boolean;
}

/** A chunk without its bytes: seq, time and size. */
export interface ChunkMeta {
  seq: number;
  tMs: number;
  bytes: number;
}

/** The recorder's batch: chunk i is `data[start_i, end[i])`, start_i = end[i-1] (0 for the first). */
export interface OutputBatch {
  lane: number[];
  seq: number[];
  tMs: number[];
  end: number[];
  data: ArrayBuffer;
  keyframes: Keyframe[];
  /** ms from the batch's first item to its sealing: with its bytes, the lanes' rate (compressBatch) */
  spanMs: number;
}

/** A lane's recording that gc may drop: closed lanes with chunks. */
export interface RecordingTotals {
  laneId: number;
  lane: string;
  closedAt: number;
  chunks: number;
  bytes: number;
}

interface ChunkRecord {
  lane_id: number;
  seq: number;
  t_ms: number;
  data: Buffer;
  enc: number;
}
interface KeyframeRecord {
  lane_id: number;
  seq: number;
  t_ms: number;
  cols: number;
  rows: number;
  data: string;
}

const toChunk = (r: ChunkRecord): OutputChunk => ({
  laneId: r.lane_id,
  seq: r.seq,
  tMs: r.t_ms,
  data: decodeChunk(r.enc, r.data, `lane ${r.lane_id} output chunk ${r.seq}`),
});
const toKeyframe = (r: KeyframeRecord): Keyframe => ({
  laneId: r.lane_id,
  seq: r.seq,
  tMs: r.t_ms,
  cols: r.cols,
  rows: r.rows,
  data: r.data,
});

/**
 * Every chunk of a lane from `fromSeq` on, in seq order, read lazily. The iterator holds a
 * read transaction open until it finishes or is returned early (break): WAL lets the recorder
 * keep writing meanwhile, but checkpoints cannot pass it, so do not park it.
 */
export function* readAll(db: Db, laneId: number, fromSeq = 0): IterableIterator<OutputChunk> {
  for (const r of db.prepare(READ_FROM_SEQ_SQL).iterate(laneId, fromSeq) as IterableIterator<ChunkRecord>) {
    yield toChunk(r);
  }
}

/** The highest seq a lane recorded, -1 when none: one step down output_chunks_seq. */
export const LAST_SEQ_SQL = 'SELECT coalesce(max(seq), -1) AS seq FROM output_chunks WHERE lane_id = ?';

export function lastSeq(db: Db, laneId: number): number {
  return (db.prepare(LAST_SEQ_SQL).get(laneId) as { seq: number }).seq;
}

/** A lane's chunk count, size and time span: reads every row of the lane (tests). */
export function outputTotals(db: Db, laneId: number): OutputTotals {
  const r = db
    .prepare(
      `SELECT count(*) AS chunks, coalesce(sum(${CHUNK_BYTES_SQL}), 0) AS bytes,
              min(t_ms) AS firstMs, max(t_ms) AS lastMs, coalesce(max(seq), -1) AS lastSeq
       FROM output_chunks WHERE lane_id = ?`,
    )
    .get(laneId) as OutputTotals;
  return { ...r };
}

/** Inserts chunks on this connection in one transaction (tests, imports; the console uses the recorder). */
export function insertChunks(db: Db, chunks: readonly OutputChunk[]): void {
  const insert = db.prepare(INSERT_CHUNK_SQL);
  const addBytes = db.prepare(ADD_OUTPUT_BYTES_SQL);
  writeTransaction(db, () => {
    const bytes = new Map<number, number>();
    for (const c of chunks) {
      const stored = encodeChunk(c.data);
      insert.run(c.laneId, c.seq, c.tMs, stored.data, stored.enc, stored.rawLen);
      bytes.set(c.laneId, (bytes.get(c.laneId) ?? 0) + c.data.byteLength);
    }
    for (const [laneId, n] of bytes) addBytes.run(n, laneId);
  });
}

const isConstraint = (err: unknown): boolean =>
  String((err as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT');

export interface OutputWriter {
  /**
   * Commits one batch in one BEGIN IMMEDIATE transaction and adds its bytes to each lane's
   * output_bytes. A row a constraint refuses (duplicate seq, unknown lane) is skipped and named
   * in the result; the rest of the batch stands. Any other error rolls the whole batch back.
   */
  commit(batch: OutputBatch): string[];
}

/** The recorder worker's writer: its statements prepared once on the worker's own connection. */
export function createOutputWriter(db: Db): OutputWriter {
  const insertChunk = db.prepare(INSERT_CHUNK_SQL);
  const insertKf = db.prepare(INSERT_KEYFRAME_SQL);
  const addBytes = db.prepare(ADD_OUTPUT_BYTES_SQL);
  const commit = db.transaction((b: OutputBatch): string[] => {
    const rejected: string[] = [];
    const bytesByLane = new Map<number, number>();
    // a flood's batches are stored as they are: deflating them would slow the lanes' ingest
    const compress = compressBatch(b.end.length > 0 ? b.end[b.end.length - 1] : 0, b.spanMs);
    let start = 0;
    for (let i = 0; i < b.lane.length; i++) {
      const end = b.end[i];
      try {
        const bytes = new Uint8Array(b.data, start, end - start);
        const stored = compress ? encodeChunk(bytes) : { enc: ENC_RAW, data: bytes, rawLen: null };
        insertChunk.run(b.lane[i], b.seq[i], b.tMs[i], stored.data, stored.enc, stored.rawLen);
        bytesByLane.set(b.lane[i], (bytesByLane.get(b.lane[i]) ?? 0) + end - start);
      } catch (err) {
        // A constraint failure rolls back that one statement only; the rest of the batch stands.
        if (!isConstraint(err)) throw err;
        rejected.push(`lane ${b.lane[i]} seq ${b.seq[i]}: ${(err as Error).message}`);
      }
      start = end;
    }
    for (const k of b.keyframes) {
      try {
        insertKf.run(k.laneId, k.seq, k.tMs, k.cols, k.rows, k.data);
      } catch (err) {
        if (!isConstraint(err)) throw err;
        rejected.push(`keyframe lane ${k.laneId} seq ${k.seq}: ${(err as Error).message}`);
      }
    }
    for (const [laneId, n] of bytesByLane) addBytes.run(n, laneId);
    return rejected;
  });
  return { commit: (batch) => commit.immediate(batch) };
}

export function insertKeyframe(db: Db, k: Keyframe): void {
  db.prepare(INSERT_KEYFRAME_SQL).run(k.laneId, k.seq, k.tMs, k.cols, k.rows, k.data);
}

/** The latest keyframe of a lane taken at or before `tMs`, to seek a replay from. */
export function keyframeAtOrBefore(db: Db, laneId: number, tMs: number): Keyframe | undefined {
  const r = db.prepare(KEYFRAME_AT_SQL).get(laneId, tMs) as KeyframeRecord | undefined;
  return r && toKeyframe(r);
}

/** The keyframe of a lane taken after chunk `seq`, with its data. */
export function keyframeAt(db: Db, laneId: number, seq: number): Keyframe | undefined {
  const r = db.prepare('SELECT * FROM keyframes WHERE lane_id = ? AND seq = ?').get(laneId, seq) as
    KeyframeRecord | undefined;
  return r && toKeyframe(r);
}

/** A lane's chunks with seq > afterSeq, in seq order, without their bytes. */
export function chunkIndexSince(db: Db, laneId: number, afterSeq: number): ChunkMeta[] {
  return db
    .prepare(
      `SELECT seq, t_ms AS tMs, ${CHUNK_BYTES_SQL} AS bytes FROM output_chunks WHERE lane_id = ? AND seq > ? ORDER BY seq`,
    )
    .all(laneId, afterSeq) as ChunkMeta[];
}

/**
 * A lane's keyframes with seq > afterSeq, in seq order, without their data; `reset` when the
 * data starts with `resetPrefix` (lanes/recording/keyframes.ts marks a fresh emulator so).
 */
export function keyframeIndexSince(db: Db, laneId: number, afterSeq: number, resetPrefix: string): KeyframeMeta[] {
  return (
    db
      .prepare(
        `SELECT seq, t_ms AS tMs, cols, rows, substr(data, 1, length(?)) = ? AS reset FROM keyframes
         WHERE lane_id = ? AND seq > ? ORDER BY seq`,
      )
      .all(resetPrefix, resetPrefix, laneId, afterSeq) as (Omit<KeyframeMeta, 'reset'> & { reset: number })[]
  ).map((k) => ({ ...k, reset: k.reset === 1 }));
}

/** At most `limit` chunks of a lane with fromSeq <= seq <= toSeq, in seq order (one page of a paged read). */
export function chunkPage(db: Db, laneId: number, fromSeq: number, toSeq: number, limit: number): OutputChunk[] {
  return (
    db
      .prepare(
        'SELECT lane_id, seq, t_ms, data, enc FROM output_chunks WHERE lane_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?',
      )
      .all(laneId, fromSeq, toSeq, limit) as ChunkRecord[]
  ).map(toChunk);
}

/** Closed lanes (closed before `before`, epoch ms) that still have recorded output, with its size. */
export function recordingsClosedBefore(db: Db, before: number): RecordingTotals[] {
  return db
    .prepare(
      `SELECT l.id AS laneId, l.name AS lane, l.closed_at AS closedAt, COUNT(c.seq) AS chunks, COALESCE(SUM(LENGTH(c.data)), 0) AS bytes
       FROM lanes l JOIN output_chunks c ON c.lane_id = l.id
       WHERE l.closed_at IS NOT NULL AND l.closed_at < ? GROUP BY l.id ORDER BY l.id`,
    )
    .all(before) as RecordingTotals[];
}

/** Deletes the recorded output and keyframes of these lanes, in one transaction (the lanes stay). */
/**
 * Closed lanes whose recordings go so that every recording together (open lanes' included, which
 * are never picked) takes at most `maxBytes` as stored: oldest closed first. Keyframes count.
 */
export function recordingsOverBudget(
  db: Db,
  maxBytes: number,
  exclude: ReadonlySet<number> = new Set(),
): RecordingTotals[] {
  const total = db
    .prepare(
      `SELECT (SELECT coalesce(sum(length(data)), 0) FROM output_chunks) + (SELECT coalesce(sum(length(data)), 0) FROM keyframes) AS n`,
    )
    .get() as { n: number };
  let over = total.n - maxBytes;
  const out: RecordingTotals[] = [];
  if (over <= 0) return out;
  const closed = db
    .prepare(
      `SELECT l.id AS laneId, l.name AS lane, l.closed_at AS closedAt, COUNT(c.seq) AS chunks,
              COALESCE(SUM(LENGTH(c.data)), 0) + (SELECT coalesce(sum(length(k.data)), 0) FROM keyframes k WHERE k.lane_id = l.id) AS bytes
       FROM lanes l JOIN output_chunks c ON c.lane_id = l.id
       WHERE l.closed_at IS NOT NULL GROUP BY l.id ORDER BY l.closed_at, l.id`,
    )
    .all() as RecordingTotals[];
  for (const r of closed) {
    if (over <= 0) break;
    if (exclude.has(r.laneId)) continue;
    out.push(r);
    over -= r.bytes;
  }
  return out;
}

export function deleteRecordings(db: Db, laneIds: readonly number[]): void {
  const delChunks = db.prepare('DELETE FROM output_chunks WHERE lane_id = ?');
  const delKeyframes = db.prepare('DELETE FROM keyframes WHERE lane_id = ?');
  writeTransaction(db, () => {
    for (const id of laneIds) {
      delChunks.run(id);
      delKeyframes.run(id);
    }
  });
}
