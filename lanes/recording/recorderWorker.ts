/**
 * The recorder's worker thread: owns its own SQLite connection, commits each batch the main
 * thread posts in one BEGIN IMMEDIATE transaction, and runs the WAL checkpoints, so neither a
 * commit nor a checkpoint ever stalls the console's main thread. See lanes/recording/recorder.ts.
 *
 * This file must run as compiled JS (dist/lanes/recorderWorker.js): worker threads load plain
 * JS. Under vitest the recorder loads the built copy, so build before testing (`npm test` does).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDb, type Db } from '../store/open.js';
import { ADD_OUTPUT_BYTES_SQL, INSERT_CHUNK_SQL, INSERT_KEYFRAME_SQL } from '../store/output.js';

export interface WorkerConfig {
  dbFile: string;
  /** run a passive checkpoint at least this often (ms) while anything was written */
  checkpointMs: number;
  /** and as soon as this many bytes were committed since the last one */
  checkpointBytes: number;
}

export interface KeyframeItem {
  laneId: number;
  seq: number;
  tMs: number;
  cols: number;
  rows: number;
  data: string;
}

/** One batch: chunk i is `data[start_i, end[i])`, start_i = end[i-1] (0 for the first). */
export interface BatchMessage {
  type: 'batch';
  id: number;
  lane: number[];
  seq: number[];
  tMs: number[];
  end: number[];
  /** transferred, not copied */
  data: ArrayBuffer;
  keyframes: KeyframeItem[];
}
export type ToWorker = BatchMessage | { type: 'close' };

export type FromWorker =
  /** the batch is committed (rows in `rejected` were refused by a constraint and skipped) */
  | { type: 'committed'; id: number; rejected: string[] }
  /** the batch's transaction failed after retries: its rows are not in the database */
  | { type: 'failed'; id: number; message: string; stack?: string }
  /** something else went wrong in the worker (opening the db, a checkpoint) */
  | { type: 'error'; message: string; stack?: string; fatal: boolean };

const RETRY_DELAYS_MS = [100, 1000];

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const isConstraint = (err: unknown): boolean =>
  String((err as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT');

function errorFields(err: unknown): { message: string; stack?: string } {
  return err instanceof Error ? { message: err.message, stack: err.stack } : { message: String(err) };
}

function run(port: NonNullable<typeof parentPort>, config: WorkerConfig): void {
  const send = (msg: FromWorker) => port.postMessage(msg);
  let db: Db;
  try {
    db = openDb(config.dbFile);
  } catch (err) {
    send({ type: 'error', fatal: true, ...errorFields(err) });
    port.close();
    return;
  }
  const insertChunk = db.prepare(INSERT_CHUNK_SQL);
  const insertKeyframe = db.prepare(INSERT_KEYFRAME_SQL);
  const addBytes = db.prepare(ADD_OUTPUT_BYTES_SQL);

  const commit = db.transaction((b: BatchMessage): string[] => {
    const rejected: string[] = [];
    const bytesByLane = new Map<number, number>();
    let start = 0;
    for (let i = 0; i < b.lane.length; i++) {
      const end = b.end[i];
      try {
        insertChunk.run(b.lane[i], b.seq[i], b.tMs[i], Buffer.from(b.data, start, end - start));
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
        insertKeyframe.run(k.laneId, k.seq, k.tMs, k.cols, k.rows, k.data);
      } catch (err) {
        if (!isConstraint(err)) throw err;
        rejected.push(`keyframe lane ${k.laneId} seq ${k.seq}: ${(err as Error).message}`);
      }
    }
    for (const [laneId, n] of bytesByLane) addBytes.run(n, laneId);
    return rejected;
  });

  let lastCheckpoint = Date.now();
  let bytesSinceCheckpoint = 0;
  const checkpoint = () => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (err) {
      send({ type: 'error', fatal: false, ...errorFields(err) });
    }
    lastCheckpoint = Date.now();
    bytesSinceCheckpoint = 0;
  };
  // Also checkpoints what other connections (the main thread's events and lane rows) wrote.
  const timer = setInterval(checkpoint, config.checkpointMs);

  const onBatch = (b: BatchMessage) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const rejected = commit.immediate(b);
        send({ type: 'committed', id: b.id, rejected });
        break;
      } catch (err) {
        if (attempt >= RETRY_DELAYS_MS.length) {
          send({ type: 'failed', id: b.id, ...errorFields(err) });
          break;
        }
        sleepSync(RETRY_DELAYS_MS[attempt]);
      }
    }
    bytesSinceCheckpoint += b.end.length > 0 ? b.end[b.end.length - 1] : 0;
    if (bytesSinceCheckpoint >= config.checkpointBytes || Date.now() - lastCheckpoint >= config.checkpointMs) {
      checkpoint();
    }
  };

  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'batch') {
      onBatch(msg);
    } else if (msg.type === 'close') {
      clearInterval(timer);
      checkpoint();
      db.close();
      port.close();
    }
  });
}

if (parentPort) run(parentPort, workerData as WorkerConfig);
