/**
 * The recorder's worker thread: owns its own SQLite connection, commits each batch the main
 * thread posts in one BEGIN IMMEDIATE transaction (the writer of lanes/store/output.ts), retries
 * a failed one, and runs the WAL checkpoints, so neither a commit nor a checkpoint ever stalls
 * the console's main thread. See lanes/recording/recorder.ts.
 *
 * This file must run as compiled JS (dist/lanes/recording/recorderWorker.js): worker threads load
 * plain JS. Under vitest the recorder loads the built copy, which test/globalSetup.ts builds
 * from the current sources before any test runs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { checkpointWal, openDb, type Db } from '../store/open.js';
import { createOutputWriter, type OutputBatch } from '../store/output.js';

export interface WorkerConfig {
  dbFile: string;
  /** run a passive checkpoint at least this often (ms) while anything was written */
  checkpointMs: number;
  /** and as soon as this many bytes were committed since the last one */
  checkpointBytes: number;
}

/** One batch of chunks and keyframes (see OutputBatch), with the id the reply names. */
export interface BatchMessage extends OutputBatch {
  type: 'batch';
  id: number;
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
  const writer = createOutputWriter(db);

  let lastCheckpoint = Date.now();
  let bytesSinceCheckpoint = 0;
  const checkpoint = () => {
    try {
      checkpointWal(db);
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
        const rejected = writer.commit(b);
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
