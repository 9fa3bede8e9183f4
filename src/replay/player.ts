/**
 * The replay player model (no React): rebuilds a lane's screen at any moment through a headless
 * emulator (lanes/terminal/laneTerminal.ts), from the nearest keyframe plus the chunks after it, and keeps
 * the play position on the idle-compressed clock (timeline.ts).
 *
 * Seeking forward a little just feeds the chunks in between; anything else restores the latest
 * keyframe at or before the target and feeds at most one keyframe interval. Keyframes that begin
 * with RIS mark a new run of the agent (a fresh emulator live), so playing across one restores it
 * instead of feeding that chunk. Resize events apply before the chunk they name.
 */
import { LaneTerminal, type CursorInfo } from '../../lanes/terminal/laneTerminal.js';
import type { StyledRow } from '../../lanes/lane/types.js';
import type { Db } from '../../lanes/store/open.js';
import { LaneRecording } from '../../lanes/recording/reader.js';
import type { KeyframeMeta } from '../../lanes/store/output.js';
import { buildMarks, IdleCompression, type TimelineMark } from './timeline.js';

export interface PlayerOptions {
  /** longest pause played, in ms (default 2000; 0 or Infinity: real time) */
  idleCapMs?: number;
  /** scrollback lines of the replay emulator (default 1000) */
  scrollback?: number;
}

export const DEFAULT_IDLE_CAP_MS = 2000;
/** How much of a lane's recorded output its history (page up in the focus pane) reads back. */
export const HISTORY_BYTES = 4 * 1024 * 1024;
/** Lines of history kept above the last screen. */
export const HISTORY_LINES = 5000;
/** Feed the emulator at most this much before waiting for it to parse (it discards past 50 MB). */
const FEED_SLICE = 2 * 1024 * 1024;

export class ReplayPlayer {
  readonly recording: LaneRecording;
  private terminal: LaneTerminal;
  private scrollback: number;
  private compression: IdleCompression;
  private markList: TimelineMark[] = [];
  /** index (into the recording's chunk index) of the last chunk applied; -1: none */
  private applied = -1;
  /** the next resize (index into recording.resizes) not yet applied */
  private resizeAt = 0;
  private laneMs = 0;
  private queue: Promise<void> = Promise.resolve();
  private disposed = false;

  constructor(db: Db, laneId: number, opts: PlayerOptions = {}) {
    this.recording = new LaneRecording(db, laneId);
    this.scrollback = opts.scrollback ?? 1000;
    const size = this.recording.initialSize();
    this.terminal = new LaneTerminal({ cols: size.cols, rows: size.rows, scrollback: this.scrollback });
    this.compression = new IdleCompression([], opts.idleCapMs ?? DEFAULT_IDLE_CAP_MS);
    this.rebuildTimeline();
  }

  get lane() {
    return this.recording.lane;
  }

  get marks(): readonly TimelineMark[] {
    return this.markList;
  }

  /** play time of the end of the recording (ms) */
  get durationMs(): number {
    return this.compression.durationMs;
  }

  /** the mark last jumped to (markIndex() keeps it while the player stays at its moment) */
  private pinnedMark: number | null = null;

  /** the current play time (ms) */
  get positionMs(): number {
    return this.compression.toPlay(this.laneMs);
  }

  /** the current moment on the lane clock (ms since the lane started) */
  get laneTimeMs(): number {
    return this.laneMs;
  }

  get idleCapMs(): number {
    return this.compression.capMs;
  }

  /** Play time of a moment on the lane clock. */
  playTimeOf(laneMs: number): number {
    return this.compression.toPlay(laneMs);
  }

  /** Reads what was recorded since (a lane still running); true when something arrived. */
  refresh(): boolean {
    const changed = this.recording.refresh();
    if (changed) this.rebuildTimeline();
    return changed;
  }

  /** Moves to a play time (clamped to the recording); resolves once the screen shows it. */
  seek(playMs: number): Promise<void> {
    const p = Math.max(0, Math.min(playMs, this.durationMs));
    return this.seekLane(this.compression.toLane(p));
  }

  /** Moves to a moment on the lane clock: every chunk recorded at or before it is on screen. */
  seekLane(laneMs: number): Promise<void> {
    this.laneMs = Math.max(0, Math.min(laneMs, this.compression.endMs));
    const target = this.recording.indexAtTime(this.laneMs);
    const run = this.queue.then(() => this.applyUpTo(target));
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * The lane's history as text, oldest first, ending with its last screen: the recording's last
   * `maxBytes` of output (from the keyframe before them, so no sequence is cut) played into an
   * emulator that keeps `maxLines` lines above the screen. Leaves the player at the end.
   */
  history(opts: { maxBytes?: number; maxLines?: number } = {}): Promise<string[]> {
    const maxBytes = opts.maxBytes ?? HISTORY_BYTES;
    const maxLines = opts.maxLines ?? HISTORY_LINES;
    const run = this.queue.then(async () => {
      const rec = this.recording;
      const last = rec.chunkCount - 1;
      if (last < 0 || this.disposed) return [];
      // the first chunk of the last maxBytes, and the keyframe at or before its start (a
      // keyframe of seq S is the screen after chunk S: the one of that chunk itself would leave
      // out its lines, up to a burst's 256 KiB)
      const from = Math.max(
        0,
        rec.ends.findIndex((end) => end >= rec.totalBytes - maxBytes),
      );
      const kf = rec.keyframeAtOrBefore(rec.seqs[from] - 1);
      // every emulator made on the way (the start, a reset's keyframe fed through) keeps maxLines
      const keep = this.scrollback;
      this.scrollback = maxLines;
      try {
        if (kf) this.restore(kf);
        else this.fresh();
        this.applied = kf ? rec.indexOfSeq(kf.seq) : -1;
        if (last > this.applied) await this.feed(this.applied + 1, last);
      } finally {
        this.scrollback = keep;
      }
      this.applied = last;
      this.laneMs = rec.times[last] ?? this.laneMs;
      return this.terminal.bufferText();
    });
    this.queue = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /** Moves by `deltaMs` of play time. */
  step(deltaMs: number): Promise<void> {
    return this.seek(this.positionMs + deltaMs);
  }

  /**
   * Index of the current mark: the one last jumped to while the player is still at its moment
   * (events of the same millisecond are stepped one by one), else the last mark at or before the
   * current moment (-1: none).
   */
  markIndex(): number {
    const pinned = this.pinnedMark;
    if (pinned !== null && this.markList[pinned]?.tMs === this.laneMs) return pinned;
    let found = -1;
    for (let i = 0; i < this.markList.length; i++) if (this.markList[i].tMs <= this.laneMs) found = i;
    return found;
  }

  /** Jumps to the next (+1) or previous (-1) mark, one event at a time; false when there is none that way. */
  async jumpMark(dir: 1 | -1): Promise<boolean> {
    const marks = this.markList;
    const cur = this.markIndex();
    // Between two marks, "previous" is the one just passed.
    const atMark = cur >= 0 && marks[cur].tMs === this.laneMs;
    const index = dir > 0 ? cur + 1 : atMark ? cur - 1 : cur;
    const target = marks[index];
    if (index < 0 || !target) return false;
    await this.seekLane(target.tMs);
    this.pinnedMark = index;
    return true;
  }

  /** Jumps to the first mark matching `pred` (e.g. the approve decision). */
  async jumpTo(pred: (m: TimelineMark) => boolean): Promise<TimelineMark | undefined> {
    const index = this.markList.findIndex(pred);
    if (index < 0) return undefined;
    await this.seekLane(this.markList[index].tMs);
    this.pinnedMark = index;
    return this.markList[index];
  }

  screenText(): string[] {
    return this.terminal.text();
  }

  screenStyled(): StyledRow[] {
    return this.terminal.styled();
  }

  cursor(): CursorInfo {
    return this.terminal.cursor();
  }

  get size(): { cols: number; rows: number } {
    return { cols: this.terminal.cols, rows: this.terminal.rows };
  }

  dispose(): void {
    this.disposed = true;
    this.terminal.dispose();
  }

  // ------------------------------------------------------------------ internals

  private rebuildTimeline(): void {
    const rec = this.recording;
    this.markList = buildMarks(
      rec.events,
      rec.verdicts,
      (e) => rec.timeOf(e),
      (at) => rec.clock(at),
    );
    const points = [...rec.times, ...this.markList.map((m) => m.tMs)];
    this.compression = new IdleCompression(points, this.compression.capMs);
  }

  private async applyUpTo(target: number): Promise<void> {
    if (this.disposed || target === this.applied) return;
    const rec = this.recording;
    const targetSeq = target >= 0 ? rec.seqs[target] : -1;
    const kf = target >= 0 ? rec.keyframeAtOrBefore(targetSeq) : undefined;
    const kfIndex = kf ? rec.indexOfSeq(kf.seq) : -1;
    const fromKeyframe = rec.bytesBetween(kfIndex, target);
    const forward = target > this.applied ? rec.bytesBetween(this.applied, target) : Infinity;
    if (forward > fromKeyframe) {
      if (kf) this.restore(kf);
      else this.fresh();
      this.applied = kf ? kfIndex : -1;
    }
    if (target > this.applied) await this.feed(this.applied + 1, target);
    await this.terminal.whenIdle();
    this.applied = target;
  }

  /** A fresh emulator at the lane's initial size, before any output. */
  private fresh(): void {
    this.terminal.dispose();
    const size = this.recording.initialSize();
    this.terminal = new LaneTerminal({ cols: size.cols, rows: size.rows, scrollback: this.scrollback });
    this.resizeAt = 0;
  }

  /** The emulator as it was right after keyframe `k`'s chunk. */
  private restore(k: KeyframeMeta): void {
    const full = this.recording.keyframeData(k.seq);
    this.terminal.dispose();
    this.terminal = new LaneTerminal({ cols: k.cols, rows: k.rows, scrollback: this.scrollback });
    if (full) this.terminal.write(Buffer.from(full.data, 'utf8'));
    const resizes = this.recording.resizes;
    this.resizeAt = 0;
    while (this.resizeAt < resizes.length && resizes[this.resizeAt].seq <= k.seq) this.resizeAt++;
  }

  /** Feeds the chunks with index in [from, to], resizing and resetting where the lane did. */
  private async feed(from: number, to: number): Promise<void> {
    const rec = this.recording;
    const resets = new Map<number, KeyframeMeta>();
    for (const k of rec.keyframes)
      if (k.reset && k.seq >= rec.seqs[from] && k.seq <= rec.seqs[to]) resets.set(k.seq, k);
    let sinceWait = 0;
    for (const chunk of rec.chunks(rec.seqs[from], rec.seqs[to])) {
      if (this.disposed) return;
      const reset = resets.get(chunk.seq);
      if (reset) {
        await this.terminal.whenIdle();
        this.restore(reset);
        continue;
      }
      const resizes = rec.resizes;
      while (this.resizeAt < resizes.length && resizes[this.resizeAt].seq <= chunk.seq) {
        const r = resizes[this.resizeAt++];
        await this.terminal.whenIdle();
        this.terminal.resize(r.cols, r.rows);
      }
      this.terminal.write(chunk.data);
      sinceWait += chunk.data.length;
      if (sinceWait >= FEED_SLICE) {
        sinceWait = 0;
        await this.terminal.whenIdle();
      }
    }
    await this.terminal.whenIdle();
  }
}
