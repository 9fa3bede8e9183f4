/**
 * The recorder's worker thread: owns its own SQLite connection, commits each batch the main
 * thread posts in one BEGIN IMMEDIATE transaction (the writer of lanes/store/output.ts), retries
 * a failed one, and runs the WAL checkpoints, so neither a commit nor a checkpoint ever stalls
 * the console's main thread. See lanes/recording/recorder.ts.
 *
 * When the file cannot be written (disk full, read-only, an I/O error) the worker stalls: it
 * keeps the batch and every later one, in order, says so once ('stalled'), and tries again every
 * `retryMs` until a write works ('resumed'). Nothing is dropped; only a close while stalled gives
 * up, and says what it could not write ('failed'). A damaged file (SQLITE_CORRUPT) is not retried:
 * a damaged database is never written into.
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
  /** while stalled, try the waiting batch again this often (ms) */
  retryMs: number;
}

/** One batch of chunks and keyframes (see OutputBatch), with the id the reply names. */
export interface BatchMessage extends OutputBatch {
  type: 'batch';
  id: number;
}
export type ToWorker = BatchMessage | { type: 'close' };

export type FromWorker =
  /** the batch is committed (rows in `rejected` were refused by a constraint and skipped); its
   * buffer comes back, transferred, for the recorder to fill again */
  | { type: 'committed'; id: number; rejected: string[]; buffer: ArrayBuffer }
  /** the batch's transaction failed after retries: its rows are not in the database */
  | { type: 'failed'; id: number; message: string; stack?: string }
  /**
   * the database cannot be written (code: SQLITE_FULL, SQLITE_READONLY…): batch `id` and the
   * ones after it wait in the worker, in order; `retrying` is false for a damaged file
   */
  | { type: 'stalled'; id: number; message: string; code: string; lanes: number[]; retrying: boolean }
  /** writes work again after a stall: the waiting batches follow as 'committed' */
  | { type: 'resumed'; stalledMs: number }
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
    // The engine checked the file (quick_check) when it opened it just before starting the recorder.
    db = openDb(config.dbFile, { check: false });
  } catch (err) {
    send({ type: 'error', fatal: true, ...errorFields(err) });
    port.close();
    return;
  }
  const writer = createOutputWriter(db);

  let lastCheckpoint = Date.now();
  let bytesSinceCheckpoint = 0;
  /** Batches not yet committed, in order: more than one only while stalled. */
  const queue: BatchMessage[] = [];
  let stalledSince: number | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  /** the stall is a damaged file: never written again */
  let damaged = false;
  const checkpoint = () => {
    if (stalledSince !== null) return; // nothing new is committed; a checkpoint would fail the same way
    try {
      checkpointWal(db);
    } catch (err) {
      // A checkpoint that cannot write (disk full, read-only) loses nothing: the rows stay in the
      // WAL and the next checkpoint tries again; a failing commit is what stalls the lanes.
      if (!isStorageError(err)) send({ type: 'error', fatal: false, ...errorFields(err) });
    }
    lastCheckpoint = Date.now();
    bytesSinceCheckpoint = 0;
  };
  // Also checkpoints what other connections (the main thread's events and lane rows) wrote.
  const timer = setInterval(checkpoint, config.checkpointMs);

  /** Commits one batch (with the short retries for a busy database); returns the error when it could not. */
  const commitOne = (b: BatchMessage): unknown => {
    for (let attempt = 0; ; attempt++) {
      try {
        const rejected = writer.commit(b);
        // better-sqlite3 copied every row's bytes: the buffer goes back to be filled again
        port.postMessage({ type: 'committed', id: b.id, rejected, buffer: b.data } satisfies FromWorker, [b.data]);
        bytesSinceCheckpoint += b.end.length > 0 ? b.end[b.end.length - 1] : 0;
        return null;
      } catch (err) {
        if (isStorageError(err) || isCorrupt(err) || attempt >= RETRY_DELAYS_MS.length) return err;
        sleepSync(RETRY_DELAYS_MS[attempt]);
      }
    }
  };

  const drain = () => {
    while (queue.length > 0) {
      const b = queue[0];
      const err = commitOne(b);
      if (err === null) {
        queue.shift();
        if (stalledSince !== null) {
          send({ type: 'resumed', stalledMs: Date.now() - stalledSince });
          stalledSince = null;
        }
        continue;
      }
      if (isStorageError(err) || isCorrupt(err)) {
        const retrying = !isCorrupt(err);
        damaged ||= !retrying;
        if (stalledSince === null) {
          stalledSince = Date.now();
          const lanes = [...new Set(queue.flatMap((q) => q.lane.concat(q.keyframes.map((k) => k.laneId))))];
          send({ type: 'stalled', id: b.id, code: codeOf(err), lanes, retrying, ...errorFields(err) });
        }
        if (retrying) retryTimer ??= setTimeout(() => ((retryTimer = null), drain()), config.retryMs);
        return;
      }
      queue.shift();
      send({ type: 'failed', id: b.id, ...errorFields(err) });
    }
    if (bytesSinceCheckpoint >= config.checkpointBytes || Date.now() - lastCheckpoint >= config.checkpointMs) {
      checkpoint();
    }
  };

  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'batch') {
      queue.push(msg);
      if (stalledSince === null) drain();
      else if (damaged) return; // waits for close
    } else if (msg.type === 'close') {
      clearInterval(timer);
      if (retryTimer) clearTimeout(retryTimer);
      // One last try; what still cannot be written is reported lost, batch by batch.
      if (stalledSince !== null && queue.length > 0 && !damaged) drain();
      const lost = queue.splice(0);
      if (lost.length > 0) {
        const lanes = [...new Set(lost.flatMap((b) => b.lane.concat(b.keyframes.map((k) => k.laneId))))];
        const chunks = lost.reduce((n, b) => n + b.end.length, 0);
        const bytes = lost.reduce((n, b) => n + (b.end.length ? b.end[b.end.length - 1] : 0), 0);
        send({
          type: 'failed',
          id: lost[0].id,
          message: `the recorder closed while ${config.dbFile} did not take writes: ${chunks} chunk(s) (${bytes} bytes) of lane id(s) ${lanes.join(', ')} are not recorded`,
        });
      }
      if (stalledSince === null) checkpoint();
      db.close();
      port.close();
    }
  });
}

function codeOf(err: unknown): string {
  return (err as { code?: string }).code ?? '';
}

/** The file cannot take writes now: disk full, read-only, an I/O error, gone. Worth retrying. */
function isStorageError(err: unknown): boolean {
  const code = codeOf(err);
  return ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PERM'].some(
    (c) => code === c || code.startsWith(`${c}_`),
  );
}

function isCorrupt(err: unknown): boolean {
  const code = codeOf(err);
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

if (parentPort) run(parentPort, workerData as WorkerConfig);
