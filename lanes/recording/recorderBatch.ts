/**
 * The recorder's batch being filled (lanes/recording/recorder.ts): chunk bytes are copied into
 * one growing buffer, which is transferred to the worker thread (lanes/recording/recorderWorker.ts)
 * when the batch is posted.
 */
import type { Keyframe } from '../store/output.js';
import type { BatchMessage } from './recorderWorker.js';

const INITIAL_BATCH_BYTES = 64 * 1024;

/** The batch being filled: chunk bytes are copied into one growing buffer, transferred on post. */
export class BatchBuilder {
  lane: number[] = [];
  seq: number[] = [];
  tMs: number[] = [];
  end: number[] = [];
  keyframes: Keyframe[] = [];
  bytes = 0;
  /** items (chunks + keyframes) */
  count = 0;
  /** counted bytes (chunk bytes + keyframe text length), for the backlog */
  weight = 0;
  private buf: Uint8Array;
  /** performance.now() at the first item */
  private firstAt = 0;
  /** ms from the first item to `seal()` */
  private spanMs = 0;

  /**
   * `reuse`: a buffer a committed batch gave back (lanes/recording/recorder.ts keeps a few): a
   * fresh buffer costs page faults on its first fill, a reused one does not
   */
  constructor(reuse?: ArrayBuffer) {
    this.buf = new Uint8Array(reuse ?? new ArrayBuffer(0));
  }

  /** One chunk: `data`, or its `parts` in order (a burst's pty reads, not concatenated first). */
  addChunk(laneId: number, seq: number, tMs: number, data: Uint8Array | readonly Uint8Array[]): void {
    if (this.count === 0) this.firstAt = performance.now();
    const parts = data instanceof Uint8Array ? [data] : data;
    let size = 0;
    for (const p of parts) size += p.byteLength;
    const need = this.bytes + size;
    if (need > this.buf.byteLength) {
      const grown = new Uint8Array(Math.max(need, this.buf.byteLength * 2, INITIAL_BATCH_BYTES));
      grown.set(this.buf.subarray(0, this.bytes));
      this.buf = grown;
    }
    for (const p of parts) {
      this.buf.set(p, this.bytes);
      this.bytes += p.byteLength;
    }
    this.lane.push(laneId);
    this.seq.push(seq);
    this.tMs.push(tMs);
    this.end.push(need);
    this.count++;
    this.weight += size;
  }

  addKeyframe(k: Keyframe): void {
    if (this.count === 0) this.firstAt = performance.now();
    this.keyframes.push(k);
    this.count++;
    this.weight += k.data.length;
  }

  /** No more items: the batch's span ends now. */
  seal(): void {
    this.spanMs = performance.now() - this.firstAt;
  }

  /** The message (of a sealed batch) and its transfer list. The buffer is our own copy, so transferring it is safe. */
  toMessage(id: number): { msg: BatchMessage; transfer: ArrayBuffer[] } {
    const data = this.buf.buffer as ArrayBuffer;
    const msg: BatchMessage = {
      type: 'batch',
      id,
      lane: this.lane,
      seq: this.seq,
      tMs: this.tMs,
      end: this.end,
      data,
      keyframes: this.keyframes,
      spanMs: this.spanMs,
    };
    return { msg, transfer: [data] };
  }
}
