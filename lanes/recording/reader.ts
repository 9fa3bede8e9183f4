/**
 * What a replay reads of one lane: its row, an index of its chunks (seq, time, size; never the
 * bytes), its keyframes (metadata), resizes, and the timeline sources (lane events, gate
 * verdicts, closure). Works on a read-only connection while a console keeps writing (WAL):
 * `refresh()` picks up what was recorded since, so a running lane can be replayed as it grows.
 */
import { existsSync } from 'node:fs';
import { openDb, readTransaction, type Db } from '../store/open.js';
import { listEvents, type LaneEventRow } from '../store/events.js';
import { getClosure, listVerdicts, type VerdictRow } from '../store/review.js';
import { getLane, type LaneRow } from '../store/lanes.js';
import {
  chunkIndexSince,
  chunkPage,
  keyframeAt,
  keyframeIndexSince,
  type Keyframe,
  type KeyframeMeta,
  type OutputChunk,
} from '../store/output.js';
import { RESET_PREFIX } from './keyframes.js';

export interface ResizeMark {
  /** applies before this chunk */
  seq: number;
  tMs: number;
  cols: number;
  rows: number;
}

/** Opens the store read-only for replay: WAL readers never block the console, busy timeout 5 s. */
export function openReplayDb(file: string): Db {
  if (!existsSync(file)) throw new Error(`no store at ${file}: no console has run in this repo yet`);
  return openDb(file, { readonly: true });
}

export class LaneRecording {
  lane: LaneRow;
  /** chunk index, in seq order */
  readonly seqs: number[] = [];
  readonly times: number[] = [];
  /** cumulative bytes up to and including chunk i */
  readonly ends: number[] = [];
  readonly keyframes: KeyframeMeta[] = [];
  readonly resizes: ResizeMark[] = [];
  events: LaneEventRow[] = [];
  verdicts: VerdictRow[] = [];
  closure: { outcome: string; at: number; data: unknown } | null = null;
  private lastEventId = 0;

  constructor(
    readonly db: Db,
    readonly laneId: number,
  ) {
    const lane = getLane(db, laneId);
    if (!lane) throw new Error(`no lane with id ${laneId}`);
    this.lane = lane;
    this.refresh();
  }

  /** Reads what was recorded since the last call; returns true when anything new arrived. */
  refresh(): boolean {
    const db = this.db;
    const lastSeq = this.seqs.length ? this.seqs[this.seqs.length - 1] : -1;
    const lastKf = this.keyframes.length ? this.keyframes[this.keyframes.length - 1].seq : -1;
    let changed = false;
    readTransaction(db, () => {
      this.lane = getLane(db, this.laneId) ?? this.lane;
      const chunks = chunkIndexSince(db, this.laneId, lastSeq);
      let total = this.ends.length ? this.ends[this.ends.length - 1] : 0;
      for (const c of chunks) {
        total += c.bytes;
        this.seqs.push(c.seq);
        this.times.push(c.tMs);
        this.ends.push(total);
      }
      const kfs = keyframeIndexSince(db, this.laneId, lastKf, RESET_PREFIX);
      for (const k of kfs) this.keyframes.push(k);
      const events = listEvents(db, this.laneId, { afterId: this.lastEventId });
      for (const e of events) {
        this.events.push(e);
        this.lastEventId = e.id;
        const d = e.data as { cols?: number; rows?: number; seq?: number | null } | null;
        if (e.kind === 'resize' && d && typeof d.cols === 'number' && typeof d.rows === 'number') {
          this.resizes.push({ seq: d.seq ?? 0, tMs: this.timeOf(e), cols: d.cols, rows: d.rows });
        }
      }
      this.verdicts = listVerdicts(db, this.laneId);
      this.closure = getClosure(db, this.laneId) ?? null;
      changed = chunks.length > 0 || kfs.length > 0 || events.length > 0;
    });
    return changed;
  }

  /** The size the lane started at: before its first resize, else its current size. */
  initialSize(): { cols: number; rows: number } {
    const first = this.events.find((e) => e.kind === 'resize');
    const d = first?.data as { fromCols?: number; fromRows?: number } | undefined;
    if (d && typeof d.fromCols === 'number' && typeof d.fromRows === 'number')
      return { cols: d.fromCols, rows: d.fromRows };
    return { cols: this.lane.cols, rows: this.lane.rows };
  }

  /** An event's time on the lane clock (ms since the lane started; 0 before it started). */
  timeOf(e: { tMs: number | null; at: number }): number {
    if (e.tMs !== null) return Math.max(0, e.tMs);
    return this.lane.startedAt === null ? 0 : Math.max(0, e.at - this.lane.startedAt);
  }

  /** epoch ms -> lane clock */
  clock(at: number): number {
    return this.lane.startedAt === null ? 0 : Math.max(0, at - this.lane.startedAt);
  }

  get chunkCount(): number {
    return this.seqs.length;
  }

  get totalBytes(): number {
    return this.ends.length ? this.ends[this.ends.length - 1] : 0;
  }

  /** Index of the last chunk with time <= tMs (-1: none). */
  indexAtTime(tMs: number): number {
    return lastAtOrBefore(this.times.length, (i) => this.times[i], tMs);
  }

  /** Index of the chunk with this seq, or of the last one before it (-1: none). */
  indexOfSeq(seq: number): number {
    return lastAtOrBefore(this.seqs.length, (i) => this.seqs[i], seq);
  }

  /** Bytes of the chunks with index in (from, to]. */
  bytesBetween(from: number, to: number): number {
    if (to <= from) return 0;
    return this.ends[to] - (from >= 0 ? this.ends[from] : 0);
  }

  /** The latest keyframe with seq <= `seq`. */
  keyframeAtOrBefore(seq: number): KeyframeMeta | undefined {
    const i = lastAtOrBefore(this.keyframes.length, (k) => this.keyframes[k].seq, seq);
    return i >= 0 ? this.keyframes[i] : undefined;
  }

  keyframeData(seq: number): Keyframe | undefined {
    return keyframeAt(this.db, this.laneId, seq);
  }

  /** Chunks with fromSeq <= seq <= toSeq, in order, read lazily in pages (no long read transaction). */
  *chunks(fromSeq: number, toSeq: number, pageBytes = 4 * 1024 * 1024): IterableIterator<OutputChunk> {
    const perPage = Math.max(16, Math.floor(pageBytes / 4096));
    let next = fromSeq;
    for (;;) {
      const rows = chunkPage(this.db, this.laneId, next, toSeq, perPage);
      yield* rows;
      if (rows.length < perPage) return;
      next = rows[rows.length - 1].seq + 1;
    }
  }
}

/** Binary search over `n` ascending keys: the index of the last key <= x (-1: none). */
function lastAtOrBefore(n: number, key: (i: number) => number, x: number): number {
  let lo = 0;
  let hi = n - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(mid) <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
