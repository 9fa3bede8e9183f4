import { PtyHost } from './ptyHost.js';
import { LaneTerminal } from './laneTerminal.js';
import { ActivityTracker } from './activity.js';
import type { Activity } from './types.js';

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
  record: (seq: number, tMs: number, data: Buffer) => void;
  onExit: (e: { code: number | null; signal: number | null }) => void;
  onLine?: (line: string) => void;
}

/**
 * One running agent: its pty, its headless terminal and the bookkeeping the supervisor reads
 * on its timer (bytes, rate, activity). Every byte goes to the recorder and the emulator; raw
 * bytes reach listeners only in attach mode.
 */
export class LaneRuntime {
  readonly terminal: LaneTerminal;
  private readonly pty: PtyHost;
  private readonly tracker: ActivityTracker;
  private readonly attached = new Set<(data: string) => void>();
  private seq: number;
  private lineCarry = '';
  private rateWindow: { at: number; bytes: number }[] = [];
  private exited = false;
  private exitPromise: Promise<void>;
  outputBytes = 0;
  lastOutputAt = 0;

  constructor(private readonly opts: LaneRuntimeOptions) {
    this.seq = opts.firstSeq;
    this.terminal = new LaneTerminal({ cols: opts.cols, rows: opts.rows });
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
    this.terminal.onPressure((paused) => (paused ? this.pty.pause() : this.pty.resume()));
    this.pty.onData((chunk) => this.ingest(chunk));
    this.exitPromise = new Promise((resolve) => {
      this.pty.onExit((e) => {
        this.exited = true;
        resolve();
        opts.onExit(e);
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
    const now = Date.now();
    this.opts.record(this.seq++, now - this.opts.timeBase, chunk);
    this.outputBytes += chunk.length;
    this.lastOutputAt = now;
    this.tracker.noteOutput(now);
    this.rateWindow.push({ at: now, bytes: chunk.length });
    this.terminal.write(chunk);
    if (this.attached.size > 0) {
      const text = chunk.toString('utf8');
      for (const listener of this.attached) listener(text);
    }
    if (this.opts.onLine && this.opts.linePatterns.length > 0) this.scanLines(chunk);
  }

  /** Finds whole output lines matching the line patterns (learnings, handoff markers). */
  private scanLines(chunk: Buffer): void {
    // Only printable text matters here; escapes are stripped and the carry is bounded.
    const text = (this.lineCarry + chunk.toString('utf8')).replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '');
    const lines = text.split(/\r?\n|\r(?!\n)/);
    this.lineCarry = (lines.pop() ?? '').slice(-4096);
    for (const line of lines) {
      if (this.opts.linePatterns.some((p) => p.test(line))) this.opts.onLine?.(line.trim());
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

  write(data: string | Buffer): void {
    if (!this.exited) this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    this.terminal.resize(cols, rows);
    this.tracker.invalidate();
    if (!this.exited) this.pty.resize(cols, rows);
  }

  attach(listener: (data: string) => void): () => void {
    this.attached.add(listener);
    return () => this.attached.delete(listener);
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.exited) this.pty.kill(signal);
  }

  dispose(): void {
    this.attached.clear();
    this.terminal.dispose();
  }
}
