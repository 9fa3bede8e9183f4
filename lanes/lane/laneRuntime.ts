import { PtyHost } from '../terminal/ptyHost.js';
import { StringDecoder } from 'node:string_decoder';
import { RemoteTerminal } from '../terminal/remoteTerminal.js';
import { ActivityTracker } from './activity.js';
import type { KeyframeCapture, KeyframePolicyOptions } from '../recording/keyframes.js';
import type { Activity } from './types.js';

/** output kept between a screen sync and the attach that follows it */
const MAX_SINCE_SYNC = 4 * 1024 * 1024;

export interface LaneRuntimeOptions {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
  /** epoch ms that recorded output times count from */
  timeBase: number;
  /** first sequence number to record (continues after a resume) */
  firstSeq: number;
  busyPatterns: RegExp[];
  waitingPatterns: RegExp[];
  idleMs: number;
  /** a line of output matching it is reported through onLine */
  linePatterns: RegExp[];
  /** records a chunk; false means the recorder is behind: the pty pauses until recorderDrained() */
  record: (seq: number, tMs: number, data: Buffer) => boolean | void;
  /** replay keyframes of this run (lanes/recording/keyframes.ts); none when absent */
  keyframe?: (k: KeyframeCapture) => void;
  keyframePolicy?: KeyframePolicyOptions;
  onExit: (e: { code: number | null; signal: number | null }) => void;
  onLine?: (line: string) => void;
  /** the emulator failed (its worker crashed) */
  onError?: (message: string) => void;
}

/**
 * One running agent: its pty, its headless terminal and the bookkeeping the supervisor reads
 * on its timer (bytes, rate, activity). Every byte goes to the recorder and the emulator; raw
 * bytes reach listeners only in attach mode.
 */
export class LaneRuntime {
  readonly terminal: RemoteTerminal;
  private readonly pty: PtyHost;
  private readonly tracker: ActivityTracker;
  private readonly attached = new Set<(data: string) => void>();
  private decoder = new StringDecoder('utf8');
  private sinceSyncBytes = 0;
  /** raw output since a screen sync that an attach is about to pick up */
  private sinceSync: Buffer[] | null = null;
  private seq: number;
  private rateWindow: { at: number; bytes: number }[] = [];
  private exited = false;
  private disposed = false;
  /** flow control: the pty is paused while the emulator or the recorder is behind */
  private emulatorBehind = false;
  private recorderBehind = false;
  private ptyPaused = false;
  private draining = false;
  private exitPromise: Promise<void>;
  outputBytes = 0;
  lastOutputAt = 0;

  constructor(private readonly opts: LaneRuntimeOptions) {
    this.seq = opts.firstSeq;
    this.terminal = new RemoteTerminal({
      cols: opts.cols,
      rows: opts.rows,
      keyframe: opts.keyframe,
      keyframePolicy: opts.keyframePolicy,
      onError: opts.onError,
      linePatterns: opts.linePatterns,
      onLine: opts.onLine,
    });
    this.tracker = new ActivityTracker({
      idleMs: opts.idleMs,
      busyPatterns: opts.busyPatterns,
      waitingPatterns: opts.waitingPatterns,
      startedAt: Date.now(),
    });
    this.pty = PtyHost.spawn({
      command: opts.command,
      args: opts.args,
      cwd: opts.cwd,
      env: opts.env,
      cols: opts.cols,
      rows: opts.rows,
    });
    this.terminal.onReply((reply) => this.pty.write(reply));
    this.terminal.onPressure((paused) => {
      this.emulatorBehind = paused;
      this.applyFlow();
    });
    // A new snapshot may show a prompt: the next activity check reads it.
    this.terminal.onScreen(() => this.tracker.invalidate());
    this.pty.onData((chunk) => this.ingest(chunk));
    this.exitPromise = new Promise((resolve) => {
      this.pty.onExit((e) => {
        this.exited = true;
        resolve();
        if (!this.disposed) opts.onExit(e);
      });
    });
  }

  get pid(): number {
    return this.pty.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** the next sequence number the recorder will get */
  get nextSeq(): number {
    return this.seq;
  }

  whenExited(): Promise<void> {
    return this.exitPromise;
  }

  private ingest(chunk: Buffer): void {
    if (this.disposed) return;
    const now = Date.now();
    const seq = this.seq++;
    const tMs = now - this.opts.timeBase;
    if (this.opts.record(seq, tMs, chunk) === false && !this.recorderBehind) {
      this.recorderBehind = true;
      this.applyFlow();
    }
    this.outputBytes += chunk.length;
    this.lastOutputAt = now;
    this.tracker.noteOutput(now);
    this.rateWindow.push({ at: now, bytes: chunk.length });
    this.terminal.write(chunk, seq, tMs);
    if (this.sinceSync) {
      // Bounded: an attach that never comes must not hold a flood in memory.
      this.sinceSyncBytes += chunk.length;
      if (this.sinceSyncBytes <= MAX_SINCE_SYNC) this.sinceSync.push(chunk);
      else this.sinceSync = null;
    }
    if (this.attached.size > 0) {
      const text = this.decoder.write(chunk);
      if (text) for (const listener of this.attached) listener(text);
    }
  }

  /** bytes per second over the last 5 seconds */
  outputRate(now = Date.now()): number {
    this.rateWindow = this.rateWindow.filter((s) => now - s.at < 5000);
    return Math.round(this.rateWindow.reduce((n, s) => n + s.bytes, 0) / 5);
  }

  /** The cheap path: re-reads the screen only when something changed. */
  activity(now = Date.now()): Activity {
    return this.tracker.check(now, () => this.terminal.text());
  }

  /** The recorder caught up: the pty may read again (unless the emulator is behind). */
  recorderDrained(): void {
    if (!this.recorderBehind) return;
    this.recorderBehind = false;
    this.applyFlow();
  }

  /**
   * The lane is being stopped: read on regardless of back-pressure, so the pty reaches its end
   * and reports the exit (a paused pty would never see EOF and keep the console alive).
   */
  drainForExit(): void {
    this.draining = true;
    this.applyFlow();
  }

  private applyFlow(): void {
    const pause = !this.draining && (this.emulatorBehind || this.recorderBehind);
    if (pause === this.ptyPaused || this.exited) return;
    this.ptyPaused = pause;
    if (pause) this.pty.pause();
    else this.pty.resume();
  }

  /** Reports `activity` until the agent writes output again (an agent hook said so). */
  holdActivity(activity: Activity): void {
    this.tracker.hold(activity);
  }

  write(data: string | Buffer): void {
    if (!this.exited) this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    this.terminal.resize(cols, rows);
    this.tracker.invalidate();
    if (!this.exited) this.pty.resize(cols, rows);
  }

  /**
   * Brings the screen snapshot up to date with every byte received so far. Output arriving
   * from now on is kept for the next attach(), so attaching after a sync misses nothing.
   */
  syncScreen(): Promise<void> {
    this.sinceSync = [];
    this.sinceSyncBytes = 0;
    return this.terminal.sync();
  }

  /** Raw output to `listener` (attach mode), starting with what arrived since syncScreen(). */
  attach(listener: (data: string) => void): () => void {
    const pending = this.sinceSync;
    this.sinceSync = null;
    this.decoder = new StringDecoder('utf8');
    if (pending?.length) {
      const text = this.decoder.write(Buffer.concat(pending));
      if (text) listener(text);
    }
    this.attached.add(listener);
    return () => this.attached.delete(listener);
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.exited) this.pty.kill(signal);
  }

  /** Stops reporting: later output or an exit of a process that outlived stop() is ignored. */
  dispose(): void {
    this.drainForExit();
    this.disposed = true;
    this.attached.clear();
    this.terminal.dispose();
  }
}
