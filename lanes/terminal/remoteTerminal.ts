/**
 * A lane's headless terminal as the main thread sees it: output goes to its emulator worker
 * (lanes/terminal/terminalWorker.ts; the engine runs one or more) in batches. What comes back: the screen facts (last line,
 * prompt and busy matches) of every lane when they change, and the screen as snapshots that the
 * sync getters read, only while someone looks at the lane (a front end draws it, or a recent
 * text()/styled()/ansiLines() read) or as the answer to sync(). Flow control counts bytes sent
 * but not yet parsed, so a lane whose emulator falls behind has its pty paused, never data dropped.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { KeyframeCapture, KeyframePolicyOptions } from '../recording/keyframes.js';
import type {
  FromWorker,
  FromWorkerOne,
  ScreenFacts,
  ScreenSnapshot,
  ToWorker,
  ToWorkerOne,
} from './terminalProtocol.js';
import type { StyledRow } from '../lane/types.js';
import type { ScreenMatches } from '../lane/activity.js';

const HIGH_WATER = 512 * 1024;
/** a batch this big goes to the worker on the next turn even when nobody looks at the lane */
const URGENT_BYTES = 16 * 1024;
/** the start of an operating system command (a window title among them) */
const OSC = Buffer.from('\x1b]');
/** how long a look at the screen keeps the lane watched */
const WATCH_MS = 2000;
/**
 * Resume below this. The worker holds at most this much of a flooding lane's output before
 * giving it to the emulator (it is told in `open`): holding more while the pty is paused would
 * wait for a timer, not for the parser.
 */
const LOW_WATER = 256 * 1024;
/**
 * Output of lanes nobody looks at waits this long to go to the worker, with every other lane's,
 * in one message: 16 spinners at 10 fps are 160 chunks a second, and a message each cost the
 * main thread more than reading them, and the worker parses each lane's batch as one write (issue
 * "Cheaper per lane than tmux": 200 ms instead of 50 took the engine's idle CPU with 16 spinners
 * down 15-20% in three paired runs; its facts are read every 250 ms anyway). A watched lane's
 * output and every other message go on the next turn of the event loop.
 */
export const LAZY_FLUSH_MS = 200;

/**
 * The buffers of a batch as parts the worker can own: a given buffer that is a whole ArrayBuffer
 * (each pty read is one) goes as it is, transferred; the others (slices, kept by the caller) are
 * copied, each run of them into one fresh buffer. Every byte a flood reads was allocated once
 * more by the copy, on the thread that reads the ptys, and that memory outside the heap is what
 * starts its full collections (docs/performance.md).
 */
export function transferable(
  batch: readonly Buffer[],
  given: readonly boolean[],
): { parts: Uint8Array[]; transfer: ArrayBuffer[] } {
  const parts: Uint8Array[] = [];
  const transfer: ArrayBuffer[] = [];
  // an ArrayBuffer listed twice makes postMessage throw: a buffer given twice goes once, then is copied
  const taken = new Set<ArrayBufferLike>();
  let from = 0; // the first buffer of the run to copy
  for (let i = 0; i <= batch.length; i++) {
    const b = i < batch.length ? batch[i] : null;
    if (b && !(given[i] && ownsWholeBuffer(b) && !taken.has(b.buffer))) continue;
    if (i > from) {
      let bytes = 0;
      for (let j = from; j < i; j++) bytes += batch[j].length;
      // its own ArrayBuffer, never a slice of Node's pool: it can be transferred
      const data = Buffer.allocUnsafeSlow(bytes);
      let off = 0;
      for (let j = from; j < i; j++) off += batch[j].copy(data, off);
      parts.push(data);
      transfer.push(data.buffer);
    }
    if (b) {
      parts.push(b);
      transfer.push(b.buffer as ArrayBuffer);
      taken.add(b.buffer);
    }
    from = i + 1;
  }
  return { parts, transfer };
}

function ownsWholeBuffer(b: Buffer): boolean {
  return b.buffer instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.length > 0;
}

/**
 * The compiled worker: a sibling in dist/, or the built copy when running from the TS source
 * (tests: test/globalSetup.ts builds dist/ from the current sources before any test runs).
 */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../../dist/lanes/terminal/terminalWorker.js', import.meta.url)
    : new URL('./terminalWorker.js', import.meta.url);
}

export interface EmulatorStats {
  /** terminals the workers hold (open, or closed and still parsing what came before the close) */
  terminals: number;
  /** bytes the workers hold but have not parsed */
  unparsedBytes: number;
  /** bytes of output the workers left unparsed since they started (fast-forward: lanes/terminal/fastForward.ts) */
  skippedBytes: number;
  /** RemoteTerminals of this thread not disposed */
  clients: number;
  /** screen snapshots this thread received since it started (sync answers not counted) */
  snapshots: number;
  /** emulator workers started, and the open terminals of each */
  workers: number[];
}

/** What the emulator workers of this process hold (for tests). */
export function emulatorStats(): Promise<EmulatorStats> {
  return EmulatorHost.get().stats();
}

/**
 * How many emulator workers this process runs at most. xterm.js parses a lane's output on one
 * core, so one worker caps every lane together at one core's parse rate (~25-30 MiB/s here); with
 * more, lanes that flood together are parsed in parallel. One core is left to the main thread,
 * the recorder and the agents themselves: one worker on 2 cores (a second measured no faster
 * there, every core already busy: docs/performance.md), at most 4. AO_EMULATOR_WORKERS (1-8)
 * says otherwise. Each worker costs ~15 MiB.
 */
export function emulatorWorkerLimit(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.AO_EMULATOR_WORKERS;
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 1 || n > 8)
      throw new Error(`AO_EMULATOR_WORKERS must be a whole number from 1 to 8, not ${JSON.stringify(given)}`);
    return n;
  }
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** One emulator worker: what goes to it is sent once per event-loop turn (output of lanes nobody looks at, within LAZY_FLUSH_MS). */
class EmulatorWorker {
  private readonly worker: Worker;
  /** terminals open in this worker (RemoteTerminals not disposed) */
  open = 0;
  private outbox: ToWorkerOne[] = [];
  private transfers: ArrayBuffer[] = [];
  private readonly dirty = new Set<RemoteTerminal>();
  private immediate = false;
  private timer: NodeJS.Timeout | null = null;

  /** `crashed`: the worker threw or exited (this process never ends a worker itself); called once */
  constructor(deliver: (msg: FromWorkerOne) => void, crashed: (reason: string) => void) {
    this.worker = new Worker(workerUrl(), { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    this.worker.on('message', (msg: FromWorker) => {
      if (msg.t === 'many') for (const m of msg.msgs) deliver(m);
      else deliver(msg);
    });
    let down = false;
    const fail = (reason: string) => {
      if (down) return;
      down = true;
      crashed(reason);
    };
    this.worker.on('error', (err) => fail(err.message));
    this.worker.on('exit', (code) => fail(`exited with code ${code}`));
    // After the listeners (adding a 'message' listener refs the worker again): the emulator
    // never keeps the process alive by itself.
    this.worker.unref();
  }

  /** Queues a message for the worker: sent on the next turn of the event loop, in order. */
  post(msg: ToWorkerOne, transfer?: ArrayBuffer[]): void {
    this.outbox.push(msg);
    if (transfer) this.transfers.push(...transfer);
    this.soon();
  }

  /** The terminal has output to send: on the next turn (`urgent`), else within LAZY_FLUSH_MS. */
  wantsFlush(term: RemoteTerminal, urgent: boolean): void {
    this.dirty.add(term);
    if (urgent) this.soon();
    else if (!this.timer && !this.immediate) {
      this.timer = setTimeout(this.flushNow, LAZY_FLUSH_MS);
      this.timer.unref();
    }
  }

  private soon(): void {
    if (this.immediate) return;
    this.immediate = true;
    setImmediate(this.flushNow);
  }

  /** Everything queued, in one message (each terminal's output batch first, in its place). */
  readonly flushNow = (): void => {
    this.immediate = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const term of this.dirty) term.flush();
    this.dirty.clear();
    if (this.outbox.length === 0) return;
    const msg: ToWorker = this.outbox.length === 1 ? this.outbox[0] : { t: 'many', msgs: this.outbox };
    this.worker.postMessage(msg, this.transfers);
    this.outbox = [];
    this.transfers = [];
  };

  /** @internal a terminal's output batch, queued in order with other messages */
  queue(msg: ToWorkerOne, transfer: ArrayBuffer[]): void {
    this.outbox.push(msg);
    this.transfers.push(...transfer);
  }
}

/**
 * The emulator workers of this process, shared by every lane: the first starts on first use, the
 * others as lanes open while every worker already has one (up to emulatorWorkerLimit), and a new
 * lane goes to the worker with the fewest open terminals.
 */
class EmulatorHost {
  private static instance: EmulatorHost | null = null;
  private readonly workers: EmulatorWorker[] = [];
  private readonly limit = emulatorWorkerLimit();
  private readonly terminals = new Map<number, RemoteTerminal>();
  private nextId = 1;
  private nextReq = 1;
  private readonly statsWaiters = new Map<
    number,
    { pending: Set<EmulatorWorker>; terminals: number; unparsedBytes: number; skippedBytes: number; done: () => void }
  >();
  /** screen snapshots received (for emulatorStats) */
  snapshots = 0;

  static get(): EmulatorHost {
    EmulatorHost.instance ??= new EmulatorHost();
    return EmulatorHost.instance;
  }

  private deliver(msg: FromWorkerOne, from: EmulatorWorker): void {
    if (msg.t === 'stats') {
      const waiter = this.statsWaiters.get(msg.req);
      if (!waiter) return;
      waiter.terminals += msg.terminals;
      waiter.unparsedBytes += msg.unparsedBytes;
      waiter.skippedBytes += msg.skippedBytes;
      this.answered(msg.req, from);
    } else this.terminals.get(msg.id)?.receive(msg);
  }

  /** `worker` answered stats request `req` (or will never: it crashed) */
  private answered(req: number, worker: EmulatorWorker): void {
    const waiter = this.statsWaiters.get(req);
    if (!waiter?.pending.delete(worker) || waiter.pending.size > 0) return;
    this.statsWaiters.delete(req);
    waiter.done();
  }

  /**
   * A worker that crashed leaves the pool: its terminals fail (their lanes say so; recordings go
   * on), and lanes opened later go to the other workers or a new one.
   */
  private spawn(): EmulatorWorker {
    const worker: EmulatorWorker = new EmulatorWorker(
      (msg) => this.deliver(msg, worker),
      (reason) => {
        this.workers.splice(this.workers.indexOf(worker), 1);
        for (const t of this.terminals.values())
          if (t.worker === worker) t.fail(`terminal emulator worker crashed: ${reason}`);
        for (const req of [...this.statsWaiters.keys()]) this.answered(req, worker);
      },
    );
    this.workers.push(worker);
    return worker;
  }

  /** What this process's emulators hold: terminals in the workers and here, bytes not yet parsed. */
  stats(): Promise<EmulatorStats> {
    if (this.workers.length === 0) this.spawn();
    const req = this.nextReq++;
    return new Promise((resolve) => {
      const waiter = {
        pending: new Set(this.workers),
        terminals: 0,
        unparsedBytes: 0,
        skippedBytes: 0,
        done: () =>
          resolve({
            terminals: waiter.terminals,
            unparsedBytes: waiter.unparsedBytes,
            skippedBytes: waiter.skippedBytes,
            clients: this.terminals.size,
            snapshots: this.snapshots,
            workers: this.workers.map((w) => w.open),
          }),
      };
      this.statsWaiters.set(req, waiter);
      for (const w of this.workers) w.post({ t: 'stats', id: 0, req });
    });
  }

  /** A new terminal's id and its worker: the one with the fewest open terminals, a new one while every worker has one. */
  register(term: RemoteTerminal): { id: number; worker: EmulatorWorker } {
    const id = this.nextId++;
    this.terminals.set(id, term);
    let worker = this.workers.reduce<EmulatorWorker | null>((a, b) => (a && a.open <= b.open ? a : b), null);
    if (!worker || (worker.open > 0 && this.workers.length < this.limit)) worker = this.spawn();
    worker.open++;
    return { id, worker };
  }

  unregister(id: number, worker: EmulatorWorker): void {
    if (this.terminals.delete(id)) worker.open--;
  }
}

export interface RemoteTerminalOptions {
  cols: number;
  rows: number;
  /** replay keyframes taken by the worker; none when absent */
  keyframe?: (k: KeyframeCapture) => void;
  keyframePolicy?: KeyframePolicyOptions;
  onError?: (message: string) => void;
  /** output lines matching one of these are reported through onLine (found in the worker) */
  linePatterns?: RegExp[];
  /** the profile's busy and waiting-input patterns: `matches` (lanes/lane/activity.ts screenMatches) */
  busyPatterns?: RegExp[];
  waitingPatterns?: RegExp[];
  onLine?: (line: string) => void;
  /**
   * the window title is one of the lane's state sources (a profile's titlePatterns): output that
   * may set it (an OSC sequence) goes to the worker on the next turn, not within LAZY_FLUSH_MS,
   * so the title's news is not later than the screen's
   */
  titleMatters?: boolean;
  /** flow control marks: pause above highWater bytes sent but not parsed, resume below lowWater */
  highWater?: number;
  lowWater?: number;
}

export class RemoteTerminal {
  private readonly host = EmulatorHost.get();
  private readonly id: number;
  /** @internal the emulator worker that holds this terminal */
  readonly worker: EmulatorWorker;
  private screen: ScreenSnapshot;
  private batch: Buffer[] = [];
  /** per buffer of `batch`: the caller gave it away (write's `given`), it may be transferred */
  private batchGiven: boolean[] = [];
  private batchSeqs: number[] = [];
  private batchTms: number[] = [];
  /** where each chunk of `batch` ends (a chunk may be several of its buffers) */
  private batchEnds: number[] = [];
  /** bytes in `batch` */
  private batchBytes = 0;
  private unparsed = 0;
  private paused = false;
  private disposed = false;
  /** its worker crashed (fail) */
  private failed = false;
  private nextReq = 1;
  private watchedUntil = 0;
  private watchTimer: NodeJS.Timeout | null = null;
  /** a front end draws this lane (setWatched): watched until told otherwise */
  private pinned = false;
  /** what the worker was last told */
  private workerWatched = false;
  /** the screen facts as last posted by the worker (a blank screen's at first) */
  private facts: ScreenFacts = { lastLine: '', busy: false, waiting: false };
  private screensReceived = 0;
  private readonly syncs = new Map<number, (screen: ScreenSnapshot) => void>();
  private readonly pressureListeners = new Set<(paused: boolean) => void>();
  private readonly replyListeners = new Set<(data: string) => void>();
  private readonly screenListeners = new Set<() => void>();
  private readonly factsListeners = new Set<() => void>();
  private readonly titleListeners = new Set<(title: string) => void>();
  private windowTitle = '';

  constructor(private readonly opts: RemoteTerminalOptions) {
    ({ id: this.id, worker: this.worker } = this.host.register(this));
    this.screen = blank(opts.cols, opts.rows);
    const wire = (patterns: RegExp[] | undefined) =>
      (patterns ?? []).map((p) => ({ source: p.source, flags: p.flags }));
    this.worker.post({
      t: 'open',
      id: this.id,
      cols: opts.cols,
      rows: opts.rows,
      keyframes: !!opts.keyframe,
      policy: opts.keyframePolicy,
      linePatterns: opts.onLine
        ? (opts.linePatterns ?? []).map((p) => ({ source: p.source, flags: p.flags.replace('g', '') }))
        : [],
      // as given: screenMatches uses search(), which ignores lastIndex
      busyPatterns: wire(opts.busyPatterns),
      waitingPatterns: wire(opts.waitingPatterns),
      lowWater: opts.lowWater ?? LOW_WATER,
    });
  }

  /**
   * Queues a chunk of output for the emulator: `chunk`, or its parts in order (a burst's pty
   * reads). Sent with others: on the next turn when watched, else within LAZY_FLUSH_MS. `given`:
   * the caller keeps no reference to the buffers, so each that is a whole ArrayBuffer (a pty read
   * is) is transferred to the worker, not copied; it reads as empty here afterwards.
   */
  write(chunk: Buffer | readonly Buffer[], seq: number, tMs: number, given = false): void {
    const parts = Buffer.isBuffer(chunk) ? [chunk] : chunk;
    let size = 0;
    for (const p of parts) size += p.length;
    if (this.disposed || this.failed || size === 0) return;
    for (const p of parts) {
      this.batch.push(p);
      this.batchGiven.push(given);
    }
    this.batchSeqs.push(seq);
    this.batchTms.push(tMs);
    this.batchEnds.push(this.batchBytes + size);
    this.unparsed += size;
    if (!this.paused && this.unparsed > (this.opts.highWater ?? HIGH_WATER)) {
      this.paused = true;
      for (const cb of this.pressureListeners) cb(true);
    }
    this.batchBytes += size;
    // A lane that floods sends at once (waiting LAZY_FLUSH_MS per batch would cap its rate);
    // so does a lane whose title is a state source when the output may set the title.
    const urgent =
      this.workerWatched ||
      this.paused ||
      this.batchBytes >= URGENT_BYTES ||
      (this.opts.titleMatters === true && parts.some((p) => p.includes(OSC)));
    this.worker.wantsFlush(this, urgent);
  }

  /** @internal Queues the pending output batch with the host (called by it, and before other messages). */
  flush(): void {
    if (this.disposed || this.batch.length === 0) return;
    const { parts, transfer } = transferable(this.batch, this.batchGiven);
    const ends = this.batchEnds;
    this.worker.queue({ t: 'write', id: this.id, parts, seqs: this.batchSeqs, tms: this.batchTms, ends }, transfer);
    this.batch = [];
    this.batchGiven = [];
    this.batchBytes = 0;
    this.batchSeqs = [];
    this.batchTms = [];
    this.batchEnds = [];
  }

  /** @internal messages from the worker */
  receive(msg: FromWorkerOne): void {
    if (this.disposed) return;
    switch (msg.t) {
      case 'reply':
        for (const cb of this.replyListeners) cb(msg.data);
        return;
      case 'parsed':
        this.unparsed -= msg.bytes;
        if (this.paused && this.unparsed < (this.opts.lowWater ?? LOW_WATER)) {
          this.paused = false;
          for (const cb of this.pressureListeners) cb(false);
        }
        return;
      case 'screen':
        this.screen = msg.screen;
        this.screensReceived++;
        this.host.snapshots++;
        for (const cb of this.screenListeners) cb();
        return;
      case 'facts':
        this.facts = msg.facts;
        for (const cb of this.factsListeners) cb();
        return;
      case 'synced':
        this.screen = msg.screen;
        this.syncs.get(msg.req)?.(msg.screen);
        this.syncs.delete(msg.req);
        return;
      case 'keyframe':
        this.opts.keyframe?.(msg.keyframe);
        return;
      case 'line':
        this.opts.onLine?.(msg.line);
        return;
      case 'title':
        this.windowTitle = msg.title;
        for (const cb of this.titleListeners) cb(msg.title);
        return;
      case 'error':
        this.fail(msg.message);
        return;
    }
  }

  /**
   * Someone looks at the screen: the worker posts it for the next WATCH_MS (a lane nobody looks
   * at posts only its facts).
   */
  private watch(): void {
    if (this.disposed) return;
    this.watchedUntil = Date.now() + WATCH_MS;
    this.updateWatch();
    if (this.watchTimer) return;
    const check = () => {
      this.watchTimer = null;
      if (this.disposed) return;
      const left = this.watchedUntil - Date.now();
      if (left > 0) {
        this.watchTimer = setTimeout(check, left);
        this.watchTimer.unref();
        return;
      }
      this.updateWatch();
    };
    this.watchTimer = setTimeout(check, WATCH_MS);
    this.watchTimer.unref();
  }

  /**
   * A front end draws this lane now (true) or no longer (false): snapshots while any look (this
   * or a recent text()/styled()/ansiLines() read) says so, facts only otherwise.
   */
  setWatched(on: boolean): void {
    if (this.disposed || on === this.pinned) return;
    this.pinned = on;
    this.updateWatch();
  }

  /** true while the worker posts this lane's screen */
  get watched(): boolean {
    return this.workerWatched;
  }

  private updateWatch(): void {
    const on = this.pinned || this.watchedUntil > Date.now();
    if (on === this.workerWatched) return;
    this.workerWatched = on;
    this.worker.post({ t: 'watch', id: this.id, on });
  }

  /** @internal */
  /**
   * @internal Its worker crashed: the screen stays as last posted, pending syncs get it, a paused
   * producer is resumed (the recording goes on without the emulator), and later writes are dropped.
   */
  fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    for (const resolve of this.syncs.values()) resolve(this.screen);
    this.syncs.clear();
    if (this.paused) {
      this.paused = false;
      for (const cb of this.pressureListeners) cb(false);
    }
    this.opts.onError?.(message);
  }

  /**
   * Resolves when the snapshot reflects every byte written before this call, with that snapshot
   * (styled runs and SGR lines included; `seq` names the last chunk it reflects).
   */
  sync(): Promise<ScreenSnapshot> {
    if (this.disposed || this.failed) return Promise.resolve(this.screen);
    this.flush();
    const req = this.nextReq++;
    return new Promise((resolve) => {
      this.syncs.set(req, resolve);
      this.worker.post({ t: 'sync', id: this.id, req });
    });
  }

  onPressure(cb: (paused: boolean) => void): () => void {
    this.pressureListeners.add(cb);
    return () => this.pressureListeners.delete(cb);
  }

  onReply(cb: (data: string) => void): () => void {
    this.replyListeners.add(cb);
    return () => this.replyListeners.delete(cb);
  }

  /** Called after each new snapshot of a watched lane (a few times a second at most). */
  onScreen(cb: () => void): () => void {
    this.screenListeners.add(cb);
    return () => this.screenListeners.delete(cb);
  }

  /** Called when the screen facts changed (lastLine(), matches; at most every 250 ms unwatched). */
  onFacts(cb: () => void): () => void {
    this.factsListeners.add(cb);
    return () => this.factsListeners.delete(cb);
  }

  /** Called when the agent's window title changed (OSC 0/2; at most every 100 ms). */
  onTitle(cb: (title: string) => void): () => void {
    this.titleListeners.add(cb);
    return () => this.titleListeners.delete(cb);
  }

  /** the agent's window title as last reported ('' before it set one) */
  get title(): string {
    return this.windowTitle;
  }

  resize(cols: number, rows: number): void {
    if (this.disposed) return;
    this.flush();
    this.worker.post({ t: 'resize', id: this.id, cols, rows });
  }

  /** bytes written but not yet parsed */
  get pending(): number {
    return this.unparsed;
  }

  /**
   * The visible rows as of the last snapshot: the first look starts watching the lane (a lane
   * nobody looked at shows what the last sync saw; sync() first for the screen as of now).
   */
  text(): string[] {
    this.watch();
    return this.screen.text;
  }

  /** The agent's last line of text (frames and spinners cut off), always current: the facts. */
  lastLine(): string {
    return this.facts.lastLine;
  }

  /** What the screen shows for activity detection (lanes/lane/activity.ts screenMatches), always current. */
  get matches(): ScreenMatches {
    return { busy: this.facts.busy, waiting: this.facts.waiting };
  }

  /** screen snapshots received for this terminal (sync answers not counted) */
  get snapshotsReceived(): number {
    return this.screensReceived;
  }

  /** Styled rows (as of the last snapshot, like text()). */
  styled(): StyledRow[] {
    this.watch();
    return this.screen.styled;
  }

  /** SGR-only lines (as of the last snapshot, like text()). */
  ansiLines(): string[] {
    this.watch();
    return this.screen.ansi;
  }

  cursor(): { x: number; y: number; visible: boolean } {
    return this.screen.cursor;
  }

  /** The sequence number of the last output chunk the screen reflects (-1: none yet). */
  get screenSeq(): number {
    return this.screen.seq;
  }

  get cols(): number {
    return this.screen.cols;
  }

  get rows(): number {
    return this.screen.rows;
  }

  /** Stops after the worker parsed what was sent (the last snapshot stays readable). */
  dispose(): void {
    if (this.disposed) return;
    this.flush();
    this.disposed = true;
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.worker.post({ t: 'close', id: this.id });
    this.host.unregister(this.id, this.worker);
    for (const resolve of this.syncs.values()) resolve(this.screen);
    this.syncs.clear();
  }
}

function blank(cols: number, rows: number): ScreenSnapshot {
  return {
    text: Array.from({ length: rows }, () => ''),
    styled: Array.from({ length: rows }, () => []),
    ansi: Array.from({ length: rows }, () => ''),
    cursor: { x: 0, y: 0, visible: true },
    cols,
    rows,
    seq: -1,
  };
}
