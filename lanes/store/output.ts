/**
 * Recorded lane output and replay keyframes. Writes normally go through the recorder worker
 * (lanes/recording/recorder.ts), which uses the statements below; reads are plain queries, each an
 * index range scan (docs/data-model.md).
 */
import type { Db } from './open.js';

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

export const INSERT_CHUNK_SQL = 'INSERT INTO output_chunks (lane_id, seq, t_ms, data) VALUES (?, ?, ?, ?)';
export const ADD_OUTPUT_BYTES_SQL = 'UPDATE lanes SET output_bytes = output_bytes + ? WHERE id = ?';
export const INSERT_KEYFRAME_SQL =
  'INSERT INTO keyframes (lane_id, seq, t_ms, cols, rows, data) VALUES (?, ?, ?, ?, ?, ?)';
/** Chunks with fromMs <= t_ms < toMs: a range of output_chunks_time. */
export const READ_WINDOW_SQL = `SELECT lane_id, seq, t_ms, data FROM output_chunks
  WHERE lane_id = ? AND t_ms >= ? AND t_ms < ? ORDER BY t_ms, seq`;
/** Chunks with seq >= fromSeq, in seq order: a range of output_chunks_seq. */
export const READ_FROM_SEQ_SQL = `SELECT lane_id, seq, t_ms, data FROM output_chunks
  WHERE lane_id = ? AND seq >= ? ORDER BY seq`;
/** The latest keyframe at or before a time: one step down keyframes_time. */
export const KEYFRAME_AT_SQL = `SELECT * FROM keyframes
  WHERE lane_id = ? AND t_ms <= ? ORDER BY t_ms DESC, seq DESC LIMIT 1`;

interface ChunkRecord {
  lane_id: number;
  seq: number;
  t_ms: number;
  data: Buffer;
}
interface KeyframeRecord {
  lane_id: number;
  seq: number;
  t_ms: number;
  cols: number;
  rows: number;
  data: string;
}

const toChunk = (r: ChunkRecord): OutputChunk => ({ laneId: r.lane_id, seq: r.seq, tMs: r.t_ms, data: r.data });
const toKeyframe = (r: KeyframeRecord): Keyframe => ({
  laneId: r.lane_id,
  seq: r.seq,
  tMs: r.t_ms,
  cols: r.cols,
  rows: r.rows,
  data: r.data,
});

/** The chunks of a lane with fromMs <= tMs < toMs, in order. */
export function readWindow(db: Db, laneId: number, fromMs: number, toMs: number): OutputChunk[] {
  return (db.prepare(READ_WINDOW_SQL).all(laneId, fromMs, toMs) as ChunkRecord[]).map(toChunk);
}

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

export function outputTotals(db: Db, laneId: number): OutputTotals {
  const r = db
    .prepare(
      `SELECT count(*) AS chunks, coalesce(sum(length(data)), 0) AS bytes,
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
  db.transaction(() => {
    const bytes = new Map<number, number>();
    for (const c of chunks) {
      insert.run(c.laneId, c.seq, c.tMs, c.data);
      bytes.set(c.laneId, (bytes.get(c.laneId) ?? 0) + c.data.byteLength);
    }
    for (const [laneId, n] of bytes) addBytes.run(n, laneId);
  }).immediate();
}

export function insertKeyframe(db: Db, k: Keyframe): void {
  db.prepare(INSERT_KEYFRAME_SQL).run(k.laneId, k.seq, k.tMs, k.cols, k.rows, k.data);
}

/** The latest keyframe of a lane taken at or before `tMs`, to seek a replay from. */
export function keyframeAtOrBefore(db: Db, laneId: number, tMs: number): Keyframe | undefined {
  const r = db.prepare(KEYFRAME_AT_SQL).get(laneId, tMs) as KeyframeRecord | undefined;
  return r && toKeyframe(r);
}
