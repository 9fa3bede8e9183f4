/**
 * The control socket server: JSON lines on a unix socket (mode 0600) that drive the supervisor's
 * actions (docs/control-protocol.md).
 *
 * Two kinds of client share it. A one-shot client (`ctl`, an agent's hook, a script) writes
 * requests and reads one response per request, in order. A long-lived client (a dashboard) says
 * `hello` first (protocol 2); its requests then run side by side and each is answered when it is
 * done (responses carry the request's `id`), and it may ask for pushes: lane events and the lane
 * list (`subscribe`), screens (`watch`), raw output (`attach`).
 *
 * A slow or stuck client never slows the engine: its screen pushes are skipped while more than
 * SCREEN_SKIP_BYTES wait unsent (after it drains it gets the latest screen), and a connection
 * with more than CUTOFF_BYTES unsent is cut off, with a line in the engine's log.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ActionError, type SupervisorApi, type SupervisorEvent } from '../supervisor/api.js';
import type { LaneSnapshot, LaneState } from '../lane/types.js';
import { isSettled } from '../lane/rules.js';
import {
  CAPABILITIES,
  PROTOCOL_CODES,
  PROTOCOL_VERSION,
  protocolMismatchMessage,
  requestSchema,
  sendBytes,
  type AttachData,
  type ControlPush,
  type ControlRequest,
  type ControlResponse,
  type EngineStatusData,
  type HelloData,
} from './protocol.js';
import { readScreen, screenPush, type LaneScreen, type SentScreen } from './screens.js';
import { AO_CONSOLE_VERSION } from '../engine/version.js';

/** Linux's sun_path holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;
/** A request line longer than this is refused and the connection closed. */
const MAX_LINE_BYTES = 1024 * 1024;
/** A client with more than this unsent gets no screen pushes until it drains. */
export const SCREEN_SKIP_BYTES = 256 * 1024;
/** A client with more than this unsent is cut off. */
export const CUTOFF_BYTES = 8 * 1024 * 1024;
/** Screen pushes: at most one per lane per client per this many ms. */
const SCREEN_EVERY_MS = 100;
/** Lane list pushes: checked this long after an event, and at least this often. */
const LANES_DEBOUNCE_MS = 20;
const LANES_EVERY_MS = 250;
/** How long `watch` waits for a lane's screen to catch up before pushing it as it is. */
const WATCH_SYNC_MS = 1000;
/** How long close() lets connections take their last words (bye) before destroying them. */
const CLOSE_GRACE_MS = 500;

/** The file in the state dir that names the socket when it lives elsewhere (path too long). */
export const socketPathFile = (stateDir: string) => path.join(stateDir, 'ao.sock.path');

/** A short socket path in the temp dir, keyed by the state dir, for state dirs too deep for sun_path. */
export function shortSocketPath(stateDir: string): string {
  const hash = createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 16);
  return path.join(os.tmpdir(), `ao-${hash}`, 'ao.sock');
}

/** An error with a protocol code, answered as `{ok:false, error, code}`. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** What the engine (lanes/engine/engine.ts) tells the server; a bare server (tests) has none. */
export interface EngineHooks {
  /** ao-console version of the engine */
  version: string;
  /** epoch ms */
  startedAt: number;
  /** recovery notes of the engine's start */
  notes(): string[];
  /** one human line for the engine's log */
  log(line: string): void;
  /** engine-status without `clients` (the server counts them) */
  status(): Omit<EngineStatusData, 'clients'>;
  /** engine-stop: stops the engine (after the answer went out); resolves when it is stopped */
  stop(by: string): Promise<void>;
  /** the number of open connections changed (idle exit) */
  onConnections?(count: number): void;
}

export interface ControlServerOptions {
  engine?: EngineHooks;
}

export interface ControlServer {
  /** where the server actually listens (differs from the requested path after the short-path fallback) */
  readonly socketPath: string;
  /** open connections (any kind) */
  readonly connections: number;
  /** connections that said hello */
  readonly clients: number;
  /** pushes `bye` to every client that said hello (the engine is going away) */
  sayBye(reason: string): void;
  /** lanes some connection is attached to now (read-only: a new set each call) */
  attachedLanes(): Set<string>;
  close(): Promise<void>;
}

/**
 * Listens on `socketPath` (normally `socketFile(stateDir)`; its directory is the state dir).
 * The socket is created under umask 0177 inside a 0700 directory and chmod-ed 0600, so there is
 * no moment it is reachable by another user. A stale socket file (nobody listening) is removed;
 * a live one makes this throw. A path over 107 bytes falls back to shortSocketPath() and the
 * real path is written to `<stateDir>/ao.sock.path` for clients.
 */
export async function startControlServer(
  supervisor: SupervisorApi,
  socketPath: string,
  opts: ControlServerOptions = {},
): Promise<ControlServer> {
  const stateDir = path.dirname(socketPath);
  const pathFile = socketPathFile(stateDir);
  let listenPath = socketPath;
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    listenPath = shortSocketPath(stateDir);
    const dir = path.dirname(listenPath);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory() || (typeof process.getuid === 'function' && st.uid !== process.getuid())) {
      throw new Error(`${dir} is not a directory owned by this user; remove it and start again`);
    }
    chmodSync(dir, 0o700);
  } else if (existsSync(pathFile)) {
    unlinkSync(pathFile);
  }
  await removeStaleSocket(listenPath);

  const hub = new Hub(supervisor, opts.engine, listenPath);
  const server = net.createServer((socket) => hub.accept(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const oldMask = process.umask(0o177);
    try {
      server.listen(listenPath, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(oldMask);
    }
  });
  chmodSync(listenPath, 0o600);
  if (listenPath !== socketPath) writeFileSync(pathFile, `${listenPath}\n`, { mode: 0o600 });

  let closed: Promise<void> | undefined;
  return {
    socketPath: listenPath,
    get connections() {
      return hub.conns.size;
    },
    get clients() {
      return hub.helloCount();
    },
    sayBye: (reason) => hub.sayBye(reason),
    attachedLanes: () => hub.attachedLanes(),
    close() {
      closed ??= new Promise<void>((resolve) => {
        hub.close();
        server.close(() => {
          for (const f of [listenPath, ...(listenPath !== socketPath ? [pathFile] : [])]) {
            try {
              unlinkSync(f);
            } catch {
              // already gone
            }
          }
          resolve();
        });
      });
      return closed;
    },
  };
}

/** Removes a socket file nobody listens on; throws when a server answers on it. */
async function removeStaleSocket(file: string): Promise<void> {
  let st;
  try {
    st = lstatSync(file);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${file} exists and is not a socket; remove it and start again`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(file);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new Error(`another console is listening on ${file}`);
  unlinkSync(file);
}

/** An answer to one request: the response (or a function building it at the moment it is written), then what follows it. */
interface Outcome {
  res?: ControlResponse;
  /** builds the response right when it is written (subscribe: no event can fall between list and pushes) */
  build?: () => ControlResponse;
  /** runs right after the response is written (first pushes, closing the connection) */
  after?: () => void;
}

interface Attachment {
  /** output pushes wait until the attach's answer is written */
  ready: boolean;
  queue: string[];
  detach: (() => void) | null;
}

/** One connection. */
class Conn {
  /** what said hello: the client's name and version; null for a one-shot client */
  hello: { client: string; version: string | null } | null = null;
  subscribed = false;
  /** the lane list last pushed (JSON) */
  lastLanes = '';
  /** lanes whose screens this connection gets */
  watching = new Set<string>();
  /** what this connection was sent last of each watched lane */
  readonly sent = new Map<string, SentScreen>();
  readonly attached = new Map<string, Attachment>();
  readonly abort = new AbortController();
  /** one-shot clients: requests run one after another */
  chain: Promise<void> = Promise.resolve();
  serialPending = 0;
  buffer = '';
  /** no more requests are read (protocol mismatch, cut off, closing) */
  ending = false;
  closed = false;

  constructor(
    readonly n: number,
    readonly socket: net.Socket,
    private readonly log: (line: string) => void,
  ) {}

  get label(): string {
    return `client ${this.n}${this.hello ? ` (${this.hello.client})` : ''}`;
  }

  /** unsent bytes over the screen-push bound: screen pushes wait */
  get congested(): boolean {
    return this.socket.writableLength > SCREEN_SKIP_BYTES;
  }

  write(obj: ControlResponse | ControlPush): void {
    this.writeLine(JSON.stringify(obj));
  }

  /** writes one JSON line; a connection over CUTOFF_BYTES unsent is cut off */
  writeLine(json: string): void {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return;
    this.socket.write(`${json}\n`);
    if (this.socket.writableLength > CUTOFF_BYTES) this.cutOff();
  }

  private cutOff(): void {
    const mib = Math.floor(this.socket.writableLength / (1024 * 1024));
    this.log(`${this.label} cut off: ${mib} MiB unsent (it stopped reading)`);
    this.ending = true;
    this.closed = true;
    this.socket.destroy();
  }
}

const idOf = (raw: unknown): string | number | undefined => {
  const v = typeof raw === 'object' && raw !== null && 'id' in raw ? (raw as { id: unknown }).id : undefined;
  return typeof v === 'string' || typeof v === 'number' ? v : undefined;
};

const errorResponse = (id: string | number | undefined, err: unknown): ControlResponse =>
  err instanceof ActionError || err instanceof ProtocolError
    ? { id, ok: false, error: err.message, code: err.code }
    : { id, ok: false, error: err instanceof Error ? err.message : String(err), code: PROTOCOL_CODES.internal };

function requireHello(conn: Conn, verb: string): void {
  if (!conn.hello) {
    throw new ProtocolError(
      `${verb} needs a long-lived connection: send {"verb":"hello","protocol":${PROTOCOL_VERSION}} first`,
      PROTOCOL_CODES.badRequest,
    );
  }
}

/** Every connection of one server, and what they were pushed. */
class Hub {
  readonly conns = new Set<Conn>();
  private nextN = 1;
  private closing = false;
  /** the supervisor listener, while some connection is subscribed */
  private unsubscribe: (() => void) | null = null;
  private lanesTimer: NodeJS.Timeout | null = null;
  private lanesSoon: NodeJS.Timeout | null = null;
  private screenTimer: NodeJS.Timeout | null = null;
  /** the engine's read of each watched lane's screen, shared by every client */
  private readonly screens = new Map<string, LaneScreen>();
  private watchedKey = '';
  /** the reason the engine said bye (it is stopping); a client saying hello after it is told too */
  private byeReason: string | null = null;

  constructor(
    private readonly sup: SupervisorApi,
    private readonly engine: EngineHooks | undefined,
    private readonly socketPath: string,
  ) {}

  private log(line: string): void {
    this.engine?.log(line);
  }

  attachedLanes(): Set<string> {
    const lanes = new Set<string>();
    for (const c of this.conns) if (!c.closed) for (const lane of c.attached.keys()) lanes.add(lane);
    return lanes;
  }

  helloCount(): number {
    let n = 0;
    for (const c of this.conns) if (c.hello && !c.closed) n++;
    return n;
  }

  accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = new Conn(this.nextN++, socket, (line) => this.log(line));
    this.conns.add(conn);
    this.engine?.onConnections?.(this.conns.size);
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => this.dropped(conn));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(conn, chunk));
  }

  private dropped(conn: Conn): void {
    if (!this.conns.has(conn)) return;
    conn.closed = true;
    conn.ending = true;
    conn.abort.abort();
    for (const a of conn.attached.values()) a.detach?.();
    conn.attached.clear();
    this.conns.delete(conn);
    if (conn.watching.size > 0) {
      conn.watching.clear();
      this.updateWatched();
    }
    if (conn.subscribed && ![...this.conns].some((c) => c.subscribed)) {
      this.unsubscribe?.();
      this.unsubscribe = null;
    }
    if (conn.hello && !this.closing) this.log(`${conn.label} disconnected`);
    this.engine?.onConnections?.(this.conns.size);
  }

  private onData(conn: Conn, chunk: string): void {
    if (conn.ending) return;
    conn.buffer += chunk;
    let nl: number;
    while (!conn.ending && (nl = conn.buffer.indexOf('\n')) >= 0) {
      const line = conn.buffer.slice(0, nl).trim();
      conn.buffer = conn.buffer.slice(nl + 1);
      if (line) this.onLine(conn, line);
    }
    if (!conn.ending && Buffer.byteLength(conn.buffer) > MAX_LINE_BYTES) {
      conn.ending = true;
      this.serial(conn, async () => ({
        res: { ok: false, error: `request line longer than ${MAX_LINE_BYTES} bytes`, code: PROTOCOL_CODES.badRequest },
        after: () => conn.socket.end(),
      }));
    }
  }

  /** One-shot clients: each request runs after the one before it was answered. */
  private serial(conn: Conn, outcome: () => Promise<Outcome>): void {
    conn.serialPending++;
    conn.chain = conn.chain.then(async () => {
      const o = await outcome();
      conn.serialPending--;
      this.answer(conn, o);
    });
  }

  private answer(conn: Conn, o: Outcome): void {
    if (conn.closed) return;
    const res = o.build ? o.build() : o.res;
    if (res) conn.write(res);
    o.after?.();
  }

  private onLine(conn: Conn, line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      const o = { res: { ok: false, error: 'request is not valid JSON', code: PROTOCOL_CODES.badRequest } } as const;
      if (conn.hello) this.answer(conn, o);
      else this.serial(conn, async () => o);
      return;
    }
    const id = idOf(raw);
    const parsed = requestSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
      const o: Outcome = {
        res: { id, ok: false, error: `bad request: ${where}${issue.message}`, code: PROTOCOL_CODES.badRequest },
      };
      if (conn.hello) this.answer(conn, o);
      else this.serial(conn, async () => o);
      return;
    }
    const req = parsed.data;
    if (req.verb === 'hello') {
      // Its effect is now (the next line already runs as a long-lived client's); its answer
      // comes in turn after what the connection asked before.
      const o = this.hello(conn, req);
      if (conn.serialPending === 0) this.answer(conn, o);
      else this.serial(conn, async () => o);
      return;
    }
    if (conn.hello) void this.run(conn, req).then((o) => this.answer(conn, o));
    else this.serial(conn, () => this.run(conn, req));
  }

  private hello(conn: Conn, req: Extract<ControlRequest, { verb: 'hello' }>): Outcome {
    const version = this.engine?.version ?? AO_CONSOLE_VERSION;
    const who = `${req.client ?? 'client'}${req.version ? `, ao-console ${req.version}` : ''}`;
    if (req.protocol !== PROTOCOL_VERSION) {
      conn.ending = true;
      this.log(
        `client ${conn.n} (${who}) refused: it speaks control protocol ${req.protocol}, not ${PROTOCOL_VERSION}`,
      );
      return {
        res: {
          id: req.id,
          ok: false,
          code: PROTOCOL_CODES.protocolMismatch,
          error: protocolMismatchMessage({
            engineProtocol: PROTOCOL_VERSION,
            engineVersion: version,
            clientProtocol: req.protocol,
            clientVersion: req.version,
            enginePid: process.pid,
          }),
        },
        after: () => conn.socket.end(),
      };
    }
    const first = conn.hello === null;
    conn.hello = { client: req.client ?? 'client', version: req.version ?? null };
    if (first) this.log(`client ${conn.n} (${who}) connected`);
    const data: HelloData = {
      engine: 'ao-console',
      version,
      protocol: PROTOCOL_VERSION,
      capabilities: [...CAPABILITIES],
      pid: process.pid,
      sessionId: this.sup.sessionId,
      repoRoot: this.sup.repoRoot,
      startedAt: this.engine?.startedAt ?? Date.now(),
      notes: this.engine?.notes() ?? [],
    };
    const bye = this.byeReason;
    return {
      res: { id: req.id, ok: true, data },
      after: bye === null ? undefined : () => conn.write({ push: 'bye', reason: bye }),
    };
  }

  /** One validated request (not hello) to its outcome; never throws. */
  private async run(conn: Conn, req: Exclude<ControlRequest, { verb: 'hello' }>): Promise<Outcome> {
    const id = req.id;
    const ok = (data: unknown, after?: () => void): Outcome => ({ res: { id, ok: true, data: data ?? null }, after });
    try {
      switch (req.verb) {
        case 'subscribe':
          requireHello(conn, req.verb);
          return { build: () => this.subscribe(conn, id) };
        case 'watch':
          requireHello(conn, req.verb);
          await this.watch(conn, req.lanes);
          return ok(null);
        case 'attach':
          requireHello(conn, req.verb);
          return await this.attach(conn, req);
        case 'detach': {
          const a = conn.attached.get(req.lane);
          conn.attached.delete(req.lane);
          a?.detach?.();
          return ok(null);
        }
        case 'engine-status': {
          const engine = this.requireEngine();
          const status: EngineStatusData = { ...engine.status(), clients: this.helloCount(), socket: this.socketPath };
          return ok(status);
        }
        case 'engine-stop': {
          const engine = this.requireEngine();
          const lanes = this.sup.listLanes().filter((l) => l.alive).length;
          const by = req.by ?? conn.hello?.client ?? 'a control client';
          return ok({ lanes }, () => {
            void engine.stop(by).catch((err: unknown) => {
              this.log(`engine stop failed: ${err instanceof Error ? err.message : String(err)}`);
            });
          });
        }
        default:
          return ok(await handleRequest(this.sup, req, conn.abort.signal));
      }
    } catch (err) {
      return { res: errorResponse(id, err) };
    }
  }

  private requireEngine(): EngineHooks {
    if (!this.engine) {
      throw new ProtocolError(
        'this console does not run as an engine (engine verbs need `ao-console serve` or a background engine)',
        PROTOCOL_CODES.notEngine,
      );
    }
    return this.engine;
  }

  // ------------------------------------------------------------ subscribe: events and the lane list

  private subscribe(conn: Conn, id: string | number | undefined): ControlResponse {
    const lanes = this.sup.listLanes();
    conn.subscribed = true;
    conn.lastLanes = JSON.stringify(lanes);
    this.unsubscribe ??= this.sup.on((ev) => this.onEvent(ev));
    this.lanesTimer ??= setInterval(() => this.pushLanes(), LANES_EVERY_MS);
    this.lanesTimer.unref();
    return { id, ok: true, data: { lanes } };
  }

  private onEvent(ev: SupervisorEvent): void {
    let line: string | null = null;
    for (const conn of this.conns) {
      if (!conn.subscribed || conn.closed) continue;
      line ??= JSON.stringify({ push: 'event', event: ev });
      conn.writeLine(line);
    }
    if (line && !this.lanesSoon) {
      this.lanesSoon = setTimeout(() => {
        this.lanesSoon = null;
        this.pushLanes();
      }, LANES_DEBOUNCE_MS);
      this.lanesSoon.unref();
    }
  }

  /** The lane list to each subscribed client whose last one differs. */
  private pushLanes(): void {
    if (this.closing) return;
    let lanes: string | null = null;
    for (const conn of this.conns) {
      if (!conn.subscribed || conn.closed) continue;
      lanes ??= JSON.stringify(this.sup.listLanes());
      if (conn.lastLanes === lanes) continue;
      conn.lastLanes = lanes;
      conn.writeLine(`{"push":"lanes","lanes":${lanes}}`);
    }
  }

  // ------------------------------------------------------------ watch: screens

  private async watch(conn: Conn, lanes: string[]): Promise<void> {
    const before = conn.watching;
    conn.watching = new Set(lanes);
    for (const name of before) if (!conn.watching.has(name)) conn.sent.delete(name);
    this.updateWatched();
    const fresh = [...conn.watching].filter((name) => !before.has(name) && this.sup.getLane(name));
    // Their current screen at once: wait (briefly) for each emulator to catch up with its output.
    await Promise.all(fresh.map((name) => this.synced(name)));
    if (conn.closed) return;
    const sizes = this.laneSizes();
    for (const name of fresh) {
      const size = sizes.get(name);
      if (!size || !conn.watching.has(name)) continue;
      conn.sent.delete(name);
      if (!conn.congested) this.pushScreen(conn, name, this.readLane(name, size));
    }
    this.screenTimer ??= setInterval(() => this.screenTick(), SCREEN_EVERY_MS);
    this.screenTimer.unref();
  }

  private synced(name: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, WATCH_SYNC_MS);
      timer.unref();
      this.sup.syncScreen(name).then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        () => {
          clearTimeout(timer);
          resolve();
        },
      );
    });
  }

  /** Tells the supervisor which lanes some client draws (their emulators keep styled snapshots). */
  private updateWatched(): void {
    const all = new Set<string>();
    for (const conn of this.conns) for (const name of conn.watching) all.add(name);
    const key = [...all].sort().join('\n');
    if (key === this.watchedKey) return;
    this.watchedKey = key;
    this.sup.watchScreens?.([...all]);
    for (const name of this.screens.keys()) if (!all.has(name)) this.screens.delete(name);
  }

  private laneSizes(): Map<string, { cols: number; rows: number }> {
    return new Map(this.sup.listLanes().map((l) => [l.name, { cols: l.cols, rows: l.rows }]));
  }

  private readLane(name: string, size: { cols: number; rows: number }): LaneScreen {
    const screen = readScreen(this.screens.get(name), this.sup.screenStyled(name), this.sup.cursor(name), size);
    this.screens.set(name, screen);
    return screen;
  }

  private pushScreen(conn: Conn, name: string, screen: LaneScreen): void {
    const next = screenPush(name, screen, conn.sent.get(name));
    if (!next) return;
    conn.sent.set(name, next.sent);
    if (next.push) conn.write(next.push);
  }

  /** Every SCREEN_EVERY_MS: each watched lane read once, each client that can take it sent its changes. */
  private screenTick(): void {
    const wanted = new Map<string, Conn[]>();
    for (const conn of this.conns) {
      if (conn.closed) continue;
      for (const name of conn.watching) {
        const list = wanted.get(name);
        if (list) list.push(conn);
        else wanted.set(name, [conn]);
      }
    }
    if (wanted.size === 0 || this.closing) {
      if (this.screenTimer) clearInterval(this.screenTimer);
      this.screenTimer = null;
      return;
    }
    const sizes = this.laneSizes();
    for (const [name, conns] of wanted) {
      const size = sizes.get(name);
      if (!size) continue;
      const ready = conns.filter((c) => !c.congested);
      if (ready.length === 0) continue;
      const screen = this.readLane(name, size);
      for (const conn of ready) this.pushScreen(conn, name, screen);
    }
  }

  // ------------------------------------------------------------ attach: raw output

  private async attach(conn: Conn, req: Extract<ControlRequest, { verb: 'attach' }>): Promise<Outcome> {
    if ((req.cols === undefined) !== (req.rows === undefined)) {
      throw new ProtocolError('attach: give both cols and rows, or neither', PROTOCOL_CODES.badRequest);
    }
    laneOf(this.sup, req.lane);
    conn.attached.get(req.lane)?.detach?.();
    const entry: Attachment = { ready: false, queue: [], detach: null };
    conn.attached.set(req.lane, entry);
    const lane = req.lane;
    const onData = (data: string) => {
      if (entry.ready) conn.write({ push: 'output', lane, data });
      else entry.queue.push(data);
    };
    const size = req.cols !== undefined && req.rows !== undefined ? { cols: req.cols, rows: req.rows } : undefined;
    let handle;
    try {
      handle = await this.sup.attach(lane, onData, size);
    } catch (err) {
      if (conn.attached.get(lane) === entry) conn.attached.delete(lane);
      throw err;
    }
    entry.detach = handle.detach;
    // Detached (or gone) while the screen was being synced.
    if (conn.closed || conn.attached.get(lane) !== entry) {
      handle.detach();
      if (!conn.closed) return { res: { id: req.id, ok: false, error: `detached from ${lane}`, code: 'bad-state' } };
      return {};
    }
    const data: AttachData = { rows: handle.rows, cursor: handle.cursor };
    return {
      res: { id: req.id, ok: true, data },
      after: () => {
        entry.ready = true;
        const queued = entry.queue.join('');
        entry.queue = [];
        if (queued) conn.write({ push: 'output', lane, data: queued });
      },
    };
  }

  // ------------------------------------------------------------ the end

  sayBye(reason: string): void {
    this.byeReason ??= reason;
    for (const conn of this.conns) if (conn.hello && !conn.closed) conn.write({ push: 'bye', reason });
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const t of [this.lanesTimer, this.screenTimer]) if (t) clearInterval(t);
    if (this.lanesSoon) clearTimeout(this.lanesSoon);
    for (const conn of this.conns) {
      conn.ending = true;
      for (const a of conn.attached.values()) a.detach?.();
      conn.attached.clear();
      conn.socket.end();
      const t = setTimeout(() => conn.socket.destroy(), CLOSE_GRACE_MS);
      t.unref();
    }
  }
}

/** One request line to its response, as a one-shot client gets it; never throws. */
export async function respond(supervisor: SupervisorApi, line: string, signal?: AbortSignal): Promise<ControlResponse> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, error: 'request is not valid JSON', code: PROTOCOL_CODES.badRequest };
  }
  const id = idOf(raw);
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    return { id, ok: false, error: `bad request: ${where}${issue.message}`, code: PROTOCOL_CODES.badRequest };
  }
  try {
    const data = await handleRequest(supervisor, parsed.data, signal);
    return { id, ok: true, data: data ?? null };
  } catch (err) {
    return errorResponse(id, err);
  }
}

function laneOf(supervisor: SupervisorApi, name: string): LaneSnapshot {
  const lane = supervisor.getLane(name);
  if (!lane) throw new ActionError(`no lane named ${name}`, 'not-found');
  return lane;
}

function optional<T>(fn: T | undefined, verb: string): T {
  if (!fn) throw new ProtocolError(`this console does not answer ${verb}`, PROTOCOL_CODES.badRequest);
  return fn;
}

/**
 * Runs one validated request against the supervisor; the result is the response's `data`. The
 * verbs that need a long-lived connection (hello, subscribe, watch, attach, detach, engine-*)
 * are answered by the server's connection, not here.
 */
export async function handleRequest(
  supervisor: SupervisorApi,
  req: ControlRequest,
  signal?: AbortSignal,
): Promise<unknown> {
  switch (req.verb) {
    case 'status':
      return { sessionId: supervisor.sessionId, repoRoot: supervisor.repoRoot, lanes: supervisor.listLanes() };
    case 'new':
      return supervisor.newLane({ name: req.name, profile: req.profile, task: req.task, base: req.base });
    case 'screen': {
      laneOf(supervisor, req.lane);
      await supervisor.syncScreen(req.lane);
      const rows = req.ansi ? supervisor.screenAnsi(req.lane) : supervisor.screenText(req.lane);
      return { lane: req.lane, rows, cursor: supervisor.cursor(req.lane) };
    }
    case 'send': {
      laneOf(supervisor, req.lane);
      const bytes = sendBytes(req.text, req.keys);
      if (!bytes) throw new ProtocolError('nothing to send: give text or keys', PROTOCOL_CODES.badRequest);
      supervisor.send(req.lane, bytes);
      return { lane: req.lane, bytes: Buffer.byteLength(bytes) };
    }
    case 'wait':
      return waitForState(supervisor, req.lane, req.state, req.timeoutMs, signal);
    case 'handoff':
      await supervisor.handoff(req.lane, 'control');
      return laneOf(supervisor, req.lane);
    case 'waiting':
      supervisor.reportWaiting(req.lane, 'agent hook');
      return laneOf(supervisor, req.lane);
    case 'approve':
      await supervisor.approve(req.lane, { override: req.override ?? false, by: 'control', wait: req.wait });
      return laneOf(supervisor, req.lane);
    case 'queue':
      return optional(supervisor.mergeQueue?.bind(supervisor), req.verb)();
    case 'queue-move':
      laneOf(supervisor, req.lane);
      return optional(supervisor.moveInQueue?.bind(supervisor), req.verb)(req.lane, req.position);
    case 'queue-remove':
      await optional(supervisor.removeFromQueue?.bind(supervisor), req.verb)(req.lane);
      return laneOf(supervisor, req.lane);
    case 'queue-pause':
    case 'queue-resume':
      return optional(supervisor.pauseQueue?.bind(supervisor), req.verb)(req.verb === 'queue-pause');
    case 'reject':
      await supervisor.reject(req.lane, { reason: req.reason, mode: req.mode, by: 'control' });
      return laneOf(supervisor, req.lane);
    case 'stop':
      await supervisor.stop(req.lane);
      return laneOf(supervisor, req.lane);
    case 'remove':
      await supervisor.remove(req.lane);
      return laneOf(supervisor, req.lane);
    case 'resume':
      await supervisor.resume(req.lane);
      return laneOf(supervisor, req.lane);
    case 'learn':
      if (req.lane) laneOf(supervisor, req.lane);
      await supervisor.addLearning(req.text, req.lane);
      return { text: req.text, lane: req.lane ?? null };
    case 'resize':
      laneOf(supervisor, req.lane);
      supervisor.resize(req.lane, req.cols, req.rows);
      return null;
    case 'review':
      laneOf(supervisor, req.lane);
      return supervisor.review(req.lane);
    case 'rerun-gates':
      await supervisor.rerunGates(req.lane);
      return laneOf(supervisor, req.lane);
    case 'learnings':
      return optional(supervisor.listLearnings?.bind(supervisor), req.verb)(req.query, {
        includeTombstoned: req.includeTombstoned,
        limit: req.limit,
      });
    case 'learning-tombstone':
      await optional(supervisor.tombstoneLearning?.bind(supervisor), req.verb)(req.learning, req.reason);
      return null;
    case 'learning-edit':
      await optional(supervisor.editLearning?.bind(supervisor), req.verb)(req.learning, req.text);
      return null;
    case 'metrics':
      return optional(supervisor.metrics?.bind(supervisor), req.verb)();
    case 'past-outcomes':
      return optional(supervisor.pastOutcomes?.bind(supervisor), req.verb)(req.since);
    case 'comment':
      laneOf(supervisor, req.lane);
      return optional(supervisor.addComment?.bind(supervisor), req.verb)(req.lane, {
        file: req.file,
        line: req.line,
        endLine: req.endLine,
        text: req.text,
      });
    case 'comment-edit':
      laneOf(supervisor, req.lane);
      return optional(supervisor.editComment?.bind(supervisor), req.verb)(req.lane, req.comment, req.text);
    case 'comment-delete':
      laneOf(supervisor, req.lane);
      await optional(supervisor.deleteComment?.bind(supervisor), req.verb)(req.lane, req.comment);
      return null;
    case 'comments':
      laneOf(supervisor, req.lane);
      return optional(supervisor.listComments?.bind(supervisor), req.verb)(req.lane);
    case 'hello':
    case 'subscribe':
    case 'watch':
    case 'attach':
    case 'detach':
    case 'engine-status':
    case 'engine-stop':
      throw new ProtocolError(`${req.verb} is answered by the control server's connection`, PROTOCOL_CODES.badRequest);
  }
}

/**
 * Resolves with the lane's snapshot once it is in `state`. Rejects with `timeout` after
 * `timeoutMs`, with `wait-ended` when the lane settles in a state it only leaves by an operator
 * action, and stops listening when `signal` aborts (the client went away).
 */
export function waitForState(
  supervisor: SupervisorApi,
  name: string,
  state: string,
  timeoutMs: number | undefined,
  signal?: AbortSignal,
): Promise<LaneSnapshot> {
  return new Promise<LaneSnapshot>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanups: (() => void)[] = [];
    const finish = (fn: () => void) => {
      for (const c of cleanups) c();
      if (timer) clearTimeout(timer);
      fn();
    };
    const check = (current: LaneState): boolean => {
      if (current === state) {
        finish(() => resolve(laneOf(supervisor, name)));
        return true;
      }
      // settled: it only leaves by an operator action (resume) or never
      if (isSettled(current)) {
        finish(() => reject(new ProtocolError(`lane ${name} is ${current}, not ${state}`, PROTOCOL_CODES.waitEnded)));
        return true;
      }
      return false;
    };
    // Subscribe before reading the current state, so no transition falls between the two.
    cleanups.push(
      supervisor.on((ev: SupervisorEvent) => {
        if (ev.type === 'lane-state' && ev.lane === name) check(ev.to);
      }),
    );
    let lane: LaneSnapshot;
    try {
      lane = laneOf(supervisor, name);
    } catch (err) {
      finish(() => reject(err));
      return;
    }
    if (check(lane.state)) return;
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        const now = supervisor.getLane(name)?.state ?? 'gone';
        finish(() =>
          reject(
            new ProtocolError(
              `timed out after ${timeoutMs / 1000}s waiting for lane ${name} to be ${state} (it is ${now})`,
              PROTOCOL_CODES.timeout,
            ),
          ),
        );
      }, timeoutMs);
    }
    if (signal) {
      const onAbort = () => finish(() => reject(new ProtocolError('client went away', PROTOCOL_CODES.internal)));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
  });
}
