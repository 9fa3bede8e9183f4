/**
 * Records lane output to SQLite off the input path. `append` only copies the bytes into the
 * batch being built; full or 50 ms old batches go to a worker thread (lanes/recording/recorderWorker.ts)
 * with its own connection, which commits each in one transaction and runs the WAL checkpoints.
 *
 * Nothing appended is ever dropped: when the worker falls behind, batches wait here and
 * `backlogBytes` grows; `append` returns false past the high-water mark (like a stream's
 * `write`), and `onDrain` says when to resume the pty.
 *
 * When the file cannot be written (disk full, read-only) the worker stalls and keeps retrying
 * (see recorderWorker.ts): `onStall` reports it with the file and the lanes, `append` returns
 * false at once (every lane pauses its pty: the agents block on output, nothing is lost), and
 * `flush` rejects until writes work again; then `onStall(null)` and `onDrain` resume them.
 *
 * (Over 400 lines: batching, flow control, stalls and closing are one state machine around one
 * worker; the batch buffer itself is lanes/recording/recorderBatch.ts.)
 */
import { Worker } from 'node:worker_threads';
import type { Keyframe } from '../store/output.js';
import type { FromWorker, ToWorker, WorkerConfig } from './recorderWorker.js';
import { BatchBuilder } from './recorderBatch.js';

export interface RecorderOptions {
  /**
   * post the batch being built at most this long after its first item (default 1000: each commit
   * rewrites the b-tree pages it touches, one per lane in each index, twice with the WAL's
   * checkpoint, so a commit every 250 ms for 16 lanes that redraw a frame every 100 ms wrote 1.9x
   * their output to disk, every 1000 ms 0.9x; a kill -9 of the engine can lose this much output,
   * an agent's exit or a stop flushes at once)
   */
  batchMs?: number;
  /** or as soon as it holds this many chunks (default 1024) */
  batchChunks?: number;
  /** or this many bytes (default 1 MiB) */
  batchBytes?: number;
  /** backlog above which `append` returns false (default 16 MiB) */
  highWaterBytes?: number;
  /** the worker's passive WAL checkpoint interval (default 5000 ms) */
  checkpointMs?: number;
  /** and the bytes committed that trigger one sooner (default 32 MiB) */
  checkpointBytes?: number;
  /**
   * Every worker failure: a batch that could not be committed, rows refused by a constraint
   * (duplicate seq, unknown lane), a worker crash. Without it the error is rethrown as an
   * uncaught exception: recording errors are never swallowed.
   */
  onError?: (err: RecorderError) => void;
  /** called when the backlog falls below half the high-water mark after `append` returned false */
  onDrain?: () => void;
  /** the recording cannot be written (a RecorderStall), or can again (null) */
  onStall?: (stall: RecorderStall | null) => void;
  /** while stalled, the worker tries again this often (default 2000 ms) */
  retryMs?: number;
  /** the worker script (default: see `recorderWorkerUrl`) */
  workerUrl?: URL;
}

/** The database file does not take writes: what the worker saw, since when, for which lanes. */
export interface RecorderStall {
  file: string;
  message: string;
  /** SQLite's code: SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR_…, SQLITE_CORRUPT */
  code: string;
  /** the lanes whose output waits */
  laneIds: number[];
  since: number;
  /** false for a damaged file: it is not written again, the lanes stay paused until stopped */
  retrying: boolean;
}

export class RecorderError extends Error {
  constructor(
    message: string,
    /** true when data was lost or the recorder stopped working */
    readonly fatal: boolean,
    readonly workerStack?: string,
  ) {
    super(message);
    this.name = 'RecorderError';
  }
}

/**
 * Where the worker script is. Worker threads run plain JS, so from the compiled recorder it is
 * the sibling `recorderWorker.js`; from the TypeScript source (vitest) it is the built copy in
 * `dist/` (test/globalSetup.ts builds it from the current sources before any test runs).
 */
export function recorderWorkerUrl(selfUrl: string = import.meta.url): URL {
  return selfUrl.endsWith('.ts')
    ? new URL('../../dist/lanes/recording/recorderWorker.js', selfUrl)
    : new URL('./recorderWorker.js', selfUrl);
}

const MAX_IN_FLIGHT = 2;
/** batch buffers kept to be filled again (a flood's 1-2 MiB each) */
const POOLED_BUFFERS = 2;

interface SentBatch {
  id: number;
  /** items appended up to and including this batch */
  endCount: number;
  weight: number;
}

interface FlushWaiter {
  target: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class Recorder {
  private readonly worker: Worker;
  private readonly batchMs: number;
  private readonly batchChunks: number;
  private readonly batchBytes: number;
  private readonly highWaterBytes: number;
  private readonly errorListeners = new Set<(err: RecorderError) => void>();
  private readonly drainListeners = new Set<() => void>();
  private readonly stallListeners = new Set<(stall: RecorderStall | null) => void>();
  private stallState: RecorderStall | null = null;
  private readonly dbFile: string;

  private open = new BatchBuilder();
  /** buffers of committed batches, filled again (at most POOLED_BUFFERS) */
  private readonly pool: ArrayBuffer[] = [];
  private openDue = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly ready: BatchBuilder[] = [];
  private readonly sent: SentBatch[] = [];
  private nextId = 1;
  private appended = 0;
  private committed = 0;
  private backlog = 0;
  private needDrain = false;
  private waiters: FlushWaiter[] = [];
  private failure: RecorderError | null = null;
  private closing: Promise<void> | null = null;
  private exited: Promise<number>;
  private referenced = false;

  private constructor(dbFile: string, opts: RecorderOptions) {
    this.batchMs = opts.batchMs ?? 1000;
    this.batchChunks = opts.batchChunks ?? 1024;
    this.batchBytes = opts.batchBytes ?? 1024 * 1024;
    this.highWaterBytes = opts.highWaterBytes ?? 16 * 1024 * 1024;
    if (opts.onError) this.errorListeners.add(opts.onError);
    if (opts.onDrain) this.drainListeners.add(opts.onDrain);
    if (opts.onStall) this.stallListeners.add(opts.onStall);
    this.dbFile = dbFile;
    const config: WorkerConfig = {
      dbFile,
      checkpointMs: opts.checkpointMs ?? 5000,
      checkpointBytes: opts.checkpointBytes ?? 32 * 1024 * 1024,
      retryMs: opts.retryMs ?? 2000,
    };
    this.worker = new Worker(opts.workerUrl ?? recorderWorkerUrl(), {
      workerData: config,
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    // An idle recorder does not keep the process alive; one with data not yet committed does.
    this.worker.unref();
    this.worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    this.worker.on('error', (err) =>
      this.fail(new RecorderError(`recorder worker crashed: ${err.message}`, true, err.stack)),
    );
    this.exited = new Promise((resolve) => {
      this.worker.on('exit', (code) => {
        if (!this.closing) this.fail(new RecorderError(`recorder worker exited unexpectedly (code ${code})`, true));
        resolve(code);
      });
    });
  }

  /** Starts a recorder writing to the (already migrated) database at `dbFile`. */
  static open(dbFile: string, opts: RecorderOptions = {}): Recorder {
    return new Recorder(dbFile, opts);
  }

  /** Adds an error listener (see RecorderOptions.onError); returns its removal. */
  onError(listener: (err: RecorderError) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Adds a drain listener (see RecorderOptions.onDrain); returns its removal. */
  onDrain(listener: () => void): () => void {
    this.drainListeners.add(listener);
    return () => this.drainListeners.delete(listener);
  }

  /** Adds a stall listener (see RecorderOptions.onStall); returns its removal. */
  onStall(listener: (stall: RecorderStall | null) => void): () => void {
    this.stallListeners.add(listener);
    return () => this.stallListeners.delete(listener);
  }

  /** The stall in progress: the file does not take writes (null when recording is written). */
  get stall(): RecorderStall | null {
    return this.stallState;
  }

  /** Bytes appended but not yet committed. */
  get backlogBytes(): number {
    return this.backlog;
  }

  /** The error that stopped the recorder, if any. */
  get error(): RecorderError | null {
    return this.failure;
  }

  /**
   * Records one chunk of a lane's output. Cheap: copies `data` into the current batch, never
   * blocks. `seq` must grow by one per chunk of a lane; `tMs` (ms since the lane's startedAt)
   * must not go back. Returns false when the backlog is above the high-water mark: pause the
   * source until `onDrain`. Throws after close() or a fatal worker failure. `data` may come as
   * its parts in order (a burst's pty reads): one chunk, copied once.
   */
  append(laneId: number, seq: number, tMs: number, data: Uint8Array | readonly Uint8Array[]): boolean {
    this.checkWritable();
    const before = this.open.weight;
    this.open.addChunk(laneId, seq, Math.round(tMs), data);
    return this.added(this.open.weight - before);
  }

  /** Records a replay keyframe: the emulator state serialized after chunk `seq` was applied. */
  keyframe(k: Keyframe): boolean {
    this.checkWritable();
    this.open.addKeyframe({ ...k, tMs: Math.round(k.tMs) });
    return this.added(k.data.length);
  }

  /** Resolves when everything appended so far is committed; rejects on a recorder failure or a stall. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stallState) return Promise.reject(this.stallError(this.stallState));
    if (this.committed >= this.appended) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ target: this.appended, resolve, reject });
      this.pump();
    });
  }

  /** Flushes, then stops the worker (which checkpoints and closes its connection). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      let flushError: unknown = null;
      try {
        if (!this.stallState) await this.flush();
      } catch (err) {
        flushError = err;
      }
      this.worker.ref();
      if (this.failure) await this.worker.terminate();
      else {
        // Stalled: everything goes to the worker, which tries once more and reports what it could not write.
        if (this.stallState) this.postAll();
        this.post({ type: 'close' });
      }
      await this.exited;
      if (this.timer) clearTimeout(this.timer);
      if (this.failure) throw this.failure;
      if (flushError) throw flushError;
    })();
    return this.closing;
  }

  private checkWritable(): void {
    if (this.failure) throw this.failure;
    if (this.closing) throw new RecorderError('recorder is closed', true);
  }

  private added(weight: number): boolean {
    this.appended++;
    this.backlog += weight;
    if (!this.referenced) {
      this.worker.ref();
      this.referenced = true;
    }
    if (this.open.count >= this.batchChunks || this.open.bytes >= this.batchBytes) {
      this.sealOpen();
      this.pump();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.openDue = true;
        this.pump();
      }, this.batchMs);
    }
    if (this.backlog > this.highWaterBytes || this.stallState) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  /** Seals the open batch and posts every waiting one, past the in-flight limit (closing while stalled). */
  private postAll(): void {
    this.sealOpen();
    while (this.ready.length > 0) {
      const batch = this.ready.shift()!;
      const id = this.nextId++;
      const endCount = this.appended - this.ready.reduce((n, b) => n + b.count, 0);
      this.sent.push({ id, endCount, weight: batch.weight });
      const { msg, transfer } = batch.toMessage(id);
      this.post(msg, transfer);
    }
  }

  private stallError(stall: RecorderStall): RecorderError {
    return new RecorderError(
      `recording cannot be written to ${stall.file} since ${new Date(stall.since).toISOString()}: ${stall.message}`,
      false,
    );
  }

  private sealOpen(): void {
    if (this.open.count === 0) return;
    this.open.seal();
    this.ready.push(this.open);
    this.open = new BatchBuilder(this.pool.pop());
    this.openDue = false;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /**
   * Posts batches while fewer than MAX_IN_FLIGHT are at the worker. The batch being built goes
   * too once it is due (batchMs) or someone waits in flush(); otherwise it keeps filling, so a
   * slow worker gets bigger transactions rather than more of them.
   */
  private pump(): void {
    if (this.failure) return;
    if ((this.openDue || this.waiters.length > 0) && this.ready.length === 0 && this.sent.length < MAX_IN_FLIGHT) {
      this.sealOpen();
    }
    while (this.ready.length > 0 && this.sent.length < MAX_IN_FLIGHT) {
      const batch = this.ready.shift()!;
      const id = this.nextId++;
      const endCount = this.appended - this.open.count - this.ready.reduce((n, b) => n + b.count, 0);
      this.sent.push({ id, endCount, weight: batch.weight });
      const { msg, transfer } = batch.toMessage(id);
      this.post(msg, transfer);
      if (this.ready.length === 0 && (this.openDue || this.waiters.length > 0) && this.sent.length < MAX_IN_FLIGHT) {
        this.sealOpen();
      }
    }
  }

  private post(msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  private onMessage(msg: FromWorker): void {
    switch (msg.type) {
      case 'committed': {
        const sent = this.sent.shift();
        if (!sent || sent.id !== msg.id) {
          this.fail(new RecorderError(`recorder: batch ${msg.id} acknowledged out of order`, true));
          return;
        }
        this.committed = sent.endCount;
        this.backlog -= sent.weight;
        if (this.pool.length < POOLED_BUFFERS && msg.buffer.byteLength <= 2 * this.batchBytes)
          this.pool.push(msg.buffer);
        if (msg.rejected.length > 0) {
          this.report(
            new RecorderError(
              `recorder: ${msg.rejected.length} item(s) refused by the database: ${msg.rejected.slice(0, 3).join('; ')}`,
              false,
            ),
          );
        }
        this.settleWaiters();
        this.maybeDrain();
        if (this.committed >= this.appended && this.referenced && !this.closing) {
          this.worker.unref();
          this.referenced = false;
        }
        this.pump();
        return;
      }
      case 'failed':
        this.fail(
          new RecorderError(
            `recorder: batch ${msg.id} could not be written to ${this.dbFile}: ${msg.message}`,
            true,
            msg.stack,
          ),
        );
        return;
      case 'stalled': {
        const stall: RecorderStall = {
          file: this.dbFile,
          message: msg.message,
          code: msg.code,
          laneIds: msg.lanes,
          since: Date.now(),
          retrying: msg.retrying,
        };
        this.stallState = stall;
        this.needDrain = true;
        const err = this.stallError(stall);
        for (const w of this.waiters) w.reject(err);
        this.waiters = [];
        for (const l of this.stallListeners) l(stall);
        return;
      }
      case 'resumed':
        this.stallState = null;
        for (const l of this.stallListeners) l(null);
        this.maybeDrain();
        return;
      case 'error':
        if (msg.fatal) this.fail(new RecorderError(`recorder (${this.dbFile}): ${msg.message}`, true, msg.stack));
        else this.report(new RecorderError(`recorder (${this.dbFile}): ${msg.message}`, false, msg.stack));
        return;
    }
  }

  private maybeDrain(): void {
    if (this.needDrain && !this.stallState && this.backlog <= this.highWaterBytes / 2) {
      this.needDrain = false;
      for (const l of this.drainListeners) l();
    }
  }

  private settleWaiters(): void {
    const still: FlushWaiter[] = [];
    for (const w of this.waiters) {
      if (w.target <= this.committed) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private fail(err: RecorderError): void {
    if (this.failure) return;
    this.failure = err;
    if (this.referenced) {
      this.worker.unref();
      this.referenced = false;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
    this.report(err);
  }

  private report(err: RecorderError): void {
    if (this.errorListeners.size > 0) for (const l of this.errorListeners) l(err);
    else
      setImmediate(() => {
        throw err;
      });
  }
}
