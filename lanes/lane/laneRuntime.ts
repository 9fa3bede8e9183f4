import { PtyHost } from '../terminal/ptyHost.js';
import { StringDecoder } from 'node:string_decoder';
import { RemoteTerminal } from '../terminal/remoteTerminal.js';
import { ActivityTracker } from './activity.js';
import { ActivitySources, titleActivity, type SourcedActivity } from './activitySources.js';
import { STATUS_POLL_MS, StatusFileReader, resolveStatusPath, type StatusFileSpec } from './statusFile.js';
import type { KeyframeCapture, KeyframePolicyOptions } from '../recording/keyframes.js';
import type { Activity } from './types.js';

/** What attach() resolves with: the first frame, then raw output to the listener until detach(). */
export interface RuntimeAttach {
  rows: string[];
  cursor: { x: number; y: number; visible: boolean };
  detach(): void;
}

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
  /** the window title's verdict (lanes/lane/activitySources.ts titleActivity); none when absent */
  titlePatterns?: { busy: RegExp[]; waitingInput: RegExp[]; idle: RegExp[] };
  /** the agent's own status file (lanes/lane/statusFile.ts; `{home}` is the agent's HOME in `env`) */
  statusFile?: StatusFileSpec;
  /** a line of output matching it is reported through onLine */
  linePatterns: RegExp[];
  /**
   * records a chunk (given as its parts in order: a burst's pty reads); false means the recorder
   * is behind: the pty pauses until recorderDrained()
   */
  record: (seq: number, tMs: number, parts: readonly Buffer[]) => boolean | void;
  /**
   * resolves once every chunk given to `record` is committed (it may reject: a stalled or failed
   * recorder). The agent's exit is reported after it settles, so whoever sees the lane stopped
   * (ctl wait, export, replay) finds its whole recording; without it, at once.
   */
  recorded?: () => Promise<void>;
  /** the longest the exit waits for `recorded` (a wedged recorder): then it is reported anyway (default 10 s) */
  recordedWaitMs?: number;
  /** replay keyframes of this run (lanes/recording/keyframes.ts); none when absent */
  keyframe?: (k: KeyframeCapture) => void;
  keyframePolicy?: KeyframePolicyOptions;
  onExit: (e: { code: number | null; signal: number | null }) => void;
  onLine?: (line: string) => void;
  /** the emulator failed (its worker crashed) */
  onError?: (message: string) => void;
}

/** How long an agent's exit waits at most for its output to be committed (LaneRuntimeOptions.recorded). */
export const RECORDED_WAIT_MS = 10_000;
/** How long after its agent's exit a lane's emulator is freed (output read after the exit still shows). */
export const RELEASE_AFTER_EXIT_MS = 1000;
/**
 * Output that follows other output within this many ms is a burst: it is gathered for up to this
 * long (or GATHER_MAX_BYTES) and ingested as one chunk (one recorded row, one emulator write),
 * instead of one per pty read (≤ 4 KiB). The first chunk after a pause goes on at once, so a
 * keystroke's echo or a spinner's frame waits for nothing.
 */
export const BURST_MS = 4;
export const GATHER_MAX_BYTES = 256 * 1024;

/**
 * One running agent: its pty, its headless terminal and the bookkeeping the supervisor reads
 * on its timer (bytes, rate, activity). Every byte goes to the recorder and the emulator; raw
 * bytes reach listeners only in attach mode.
 */
export class LaneRuntime {
  readonly terminal: RemoteTerminal;
  private readonly pty: PtyHost;
  private readonly tracker: ActivityTracker;
  /** the state sources (hook, status file, title, screen) and which one to believe */
  private readonly sources = new ActivitySources();
  private readonly statusReader: StatusFileReader | null = null;
  private statusReadAt = -Infinity;
  /** attach listeners, each with its own UTF-8 decoder (it starts at its own chunk) */
  private readonly attached = new Map<(data: string) => void, StringDecoder>();
  /**
   * output chunks kept for attaches waiting on their screen sync. Bounded by flow control: while
   * the emulator is behind (what a sync waits for), the pty is paused.
   */
  private readonly collectors = new Set<{ seq: number; chunk: Buffer }[]>();
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
  /** a burst's chunks not ingested yet (BURST_MS) */
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private gatherTimer: NodeJS.Timeout | null = null;
  private lastDataAt = -Infinity;
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
      // the worker matches them against the screen: no rows cross threads for activity
      busyPatterns: opts.busyPatterns,
      waitingPatterns: opts.waitingPatterns,
      titleMatters: opts.titlePatterns !== undefined,
    });
    this.tracker = new ActivityTracker({ idleMs: opts.idleMs, startedAt: Date.now() });
    this.pty = PtyHost.spawn({
      command: opts.command,
      args: opts.args,
      cwd: opts.cwd,
      env: opts.env,
      cols: opts.cols,
      rows: opts.rows,
    });
    if (opts.statusFile) {
      const path = resolveStatusPath(opts.statusFile.path, opts.env);
      this.statusReader = new StatusFileReader({ ...opts.statusFile, path }, this.pty.pid);
    }
    const titlePatterns = opts.titlePatterns;
    if (titlePatterns) {
      this.terminal.onTitle((title) =>
        this.sources.report('title', titleActivity(title, titlePatterns), title, Date.now()),
      );
    }
    this.terminal.onReply((reply) => this.pty.write(reply));
    this.terminal.onPressure((paused) => {
      this.emulatorBehind = paused;
      this.applyFlow();
    });
    // The screen now shows (or no longer shows) a prompt or a busy indicator: the next activity
    // check reads the matches.
    this.terminal.onFacts(() => this.tracker.invalidate());
    this.pty.onData((chunk) => this.gather(chunk));
    this.exitPromise = new Promise((resolve) => {
      this.pty.onExit((e) => {
        this.flushGathered();
        const recorded = opts.recorded;
        const wait = recorded && setTimeout(() => report(), opts.recordedWaitMs ?? RECORDED_WAIT_MS);
        const report = (): void => {
          if (this.exited) return;
          clearTimeout(wait);
          this.exited = true;
          resolve();
          if (!this.disposed) opts.onExit(e);
          this.releaseEmulatorSoon();
        };
        if (!recorded) return report();
        // the recorder's failure is reported where it happens (its onError), not here
        recorded().then(report, report);
      });
    });
  }

  get pid(): number {
    return this.pty.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /**
   * the next sequence number the recorder will get, once every byte read so far is ingested (a
   * burst's gathered chunks are, first: a resize logged at this seq comes after them in replay
   * as it does on the live screen)
   */
  get nextSeq(): number {
    this.flushGathered();
    return this.seq;
  }

  whenExited(): Promise<void> {
    return this.exitPromise;
  }

  private gather(chunk: Buffer): void {
    const now = performance.now();
    const inBurst = now - this.lastDataAt < BURST_MS;
    this.lastDataAt = now;
    if (!inBurst && this.gathered.length === 0) {
      this.ingest([chunk], chunk.length);
      return;
    }
    this.gathered.push(chunk);
    this.gatheredBytes += chunk.length;
    if (this.gatheredBytes >= GATHER_MAX_BYTES) this.flushGathered();
    else this.gatherTimer ??= setTimeout(() => this.flushGathered(), BURST_MS);
  }

  /**
   * Ingests what a burst gathered, as one chunk handed on as its parts: not concatenated (each
   * copy of a flood's bytes is memory outside the heap, and that is what starts V8's full
   * collections in a flood: docs/performance.md).
   */
  private flushGathered(): void {
    if (this.gatherTimer) clearTimeout(this.gatherTimer);
    this.gatherTimer = null;
    if (this.gathered.length === 0) return;
    const parts = this.gathered;
    const bytes = this.gatheredBytes;
    this.gathered = [];
    this.gatheredBytes = 0;
    this.ingest(parts, bytes);
  }

  /** One chunk of output, `parts` in order (`bytes` long together). */
  private ingest(parts: readonly Buffer[], bytes: number): void {
    if (this.disposed) return;
    const now = Date.now();
    const seq = this.seq++;
    const tMs = now - this.opts.timeBase;
    if (this.opts.record(seq, tMs, parts) === false && !this.recorderBehind) {
      this.recorderBehind = true;
      this.applyFlow();
    }
    this.outputBytes += bytes;
    this.lastOutputAt = now;
    this.tracker.noteOutput(now);
    this.rateWindow.push({ at: now, bytes });
    // given away (transferred to the emulator) unless a collector keeps them
    this.terminal.write(parts, seq, tMs, this.collectors.size === 0);
    if (this.collectors.size > 0) {
      const chunk = parts.length === 1 ? parts[0] : Buffer.concat(parts, bytes);
      for (const kept of this.collectors) kept.push({ seq, chunk });
    }
    for (const [listener, decoder] of this.attached) {
      let text = '';
      for (const p of parts) text += decoder.write(p);
      if (text) listener(text);
    }
  }

  /** bytes per second over the last 5 seconds */
  outputRate(now = Date.now()): number {
    this.rateWindow = this.rateWindow.filter((s) => now - s.at < 5000);
    return Math.round(this.rateWindow.reduce((n, s) => n + s.bytes, 0) / 5);
  }

  /** The cheap path: re-reads the screen's matches only when something changed. */
  activity(now = Date.now()): Activity {
    return this.activityReport(now).activity;
  }

  /**
   * The activity and the source it came from (lanes/lane/activitySources.ts): the screen's
   * matches are read (when they may have changed) and the status file polled (at most every STATUS_POLL_MS); the
   * title and hooks reported themselves.
   */
  activityReport(now = Date.now()): SourcedActivity {
    const screen = this.tracker.check(now, () => this.terminal.matches);
    // the screen's news is its last output, not the timer that turns it idle
    this.sources.report('screen', screen, '', now, this.lastOutputAt);
    if (this.statusReader && now - this.statusReadAt >= STATUS_POLL_MS) {
      this.statusReadAt = now;
      const reading = this.statusReader.read();
      this.sources.report('status-file', reading?.activity ?? null, reading?.detail ?? '', now);
    }
    return { ...(this.sources.decide(now) ?? { activity: screen, source: 'screen', detail: '' }), screen };
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

  /**
   * An agent hook said so: the most trusted source (lanes/lane/activitySources.ts). It holds
   * against the other sources while recent, and until the operator types into the lane.
   */
  holdActivity(activity: Activity, detail = 'agent hook'): void {
    this.sources.report('hook', activity, detail, Date.now());
  }

  /** Input for the agent (the operator's keys, a task, feedback): it answers what a hook reported. */
  write(data: string | Buffer): void {
    this.sources.forget('hook');
    if (!this.exited) this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    this.flushGathered(); // the output read before the resize is parsed before it
    this.terminal.resize(cols, rows);
    this.tracker.noteResize(Date.now());
    if (!this.exited) this.pty.resize(cols, rows);
  }

  /** Brings the screen snapshot up to date with every byte received so far. */
  async syncScreen(): Promise<void> {
    this.flushGathered();
    await this.terminal.sync();
  }

  /** A front end draws this lane's screen now (snapshots) or no longer (screen facts only). */
  setWatched(on: boolean): void {
    this.terminal.setWatched(on);
  }

  /**
   * Attach mode: resolves with the screen as of a sync (SGR-only rows, cursor) and from then on
   * hands raw output to `listener`, starting right after the last chunk that screen reflects:
   * the chunks that arrived while the sync was under way and are not on it go first, so the
   * frame and the stream miss and repeat nothing.
   */
  async attach(listener: (data: string) => void): Promise<RuntimeAttach> {
    const kept: { seq: number; chunk: Buffer }[] = [];
    this.flushGathered();
    this.collectors.add(kept);
    let shot;
    try {
      shot = await this.terminal.sync();
    } finally {
      this.collectors.delete(kept);
    }
    const decoder = new StringDecoder('utf8');
    const missed = kept.filter((k) => k.seq > shot.seq).map((k) => k.chunk);
    if (!this.disposed) this.attached.set(listener, decoder);
    if (missed.length) {
      const text = decoder.write(Buffer.concat(missed));
      if (text) listener(text);
    }
    return {
      rows: shot.ansi,
      cursor: shot.cursor,
      detach: () => {
        this.attached.delete(listener);
      },
    };
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.exited) this.pty.kill(signal);
  }

  /**
   * The agent ended: once its last bytes are parsed, the emulator (its cells, scrollback and
   * parser in the worker) is freed; the final screen stays readable (RemoteTerminal keeps its
   * last snapshot, styled rows included). A day of lanes that ended costs their last screens only.
   */
  private releaseEmulatorSoon(): void {
    const timer = setTimeout(() => {
      if (this.disposed) return;
      void this.terminal.sync().then(() => this.terminal.dispose());
    }, RELEASE_AFTER_EXIT_MS);
    timer.unref();
  }

  /** Stops reporting: later output or an exit of a process that outlived stop() is ignored. */
  dispose(): void {
    try {
      this.flushGathered();
    } catch {
      // the recorder failed for good: the supervisor stops on its error; this lane still lets go
    }
    this.drainForExit();
    this.disposed = true;
    this.attached.clear();
    this.terminal.dispose();
  }
}
