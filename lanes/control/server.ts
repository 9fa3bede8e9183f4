/**
 * The control socket server: JSON lines on a unix socket (mode 0600) that drive the supervisor's
 * actions. One request per line, one response line per request, answered in order.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ActionError, type SupervisorApi, type SupervisorEvent } from '../supervisor/api.js';
import type { LaneSnapshot, LaneState } from '../lane/types.js';
import { isSettled } from '../lane/rules.js';
import { PROTOCOL_CODES, requestSchema, sendBytes, type ControlRequest, type ControlResponse } from './protocol.js';

/** Linux's sun_path holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;
/** A request line longer than this is refused and the connection closed. */
const MAX_LINE_BYTES = 1024 * 1024;

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

export interface ControlServer {
  /** where the server actually listens (differs from the requested path after the short-path fallback) */
  readonly socketPath: string;
  close(): Promise<void>;
}

/**
 * Listens on `socketPath` (normally `socketFile(stateDir)`; its directory is the state dir).
 * The socket is created under umask 0177 inside a 0700 directory and chmod-ed 0600, so there is
 * no moment it is reachable by another user. A stale socket file (nobody listening) is removed;
 * a live one makes this throw. A path over 107 bytes falls back to shortSocketPath() and the
 * real path is written to `<stateDir>/ao.sock.path` for clients.
 */
export async function startControlServer(supervisor: SupervisorApi, socketPath: string): Promise<ControlServer> {
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

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(supervisor, socket);
  });
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
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
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

function serveConnection(supervisor: SupervisorApi, socket: net.Socket): void {
  const abort = new AbortController();
  socket.on('close', () => abort.abort());
  socket.on('error', () => abort.abort());
  let buffer = '';
  let chain = Promise.resolve();
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (Buffer.byteLength(buffer) > MAX_LINE_BYTES && !buffer.includes('\n')) {
      reply(socket, {
        ok: false,
        error: `request line longer than ${MAX_LINE_BYTES} bytes`,
        code: PROTOCOL_CODES.badRequest,
      });
      socket.end();
      return;
    }
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line) continue;
      chain = chain.then(async () => {
        const res = await respond(supervisor, line, abort.signal);
        if (!abort.signal.aborted) reply(socket, res);
      });
    }
  });
}

function reply(socket: net.Socket, res: ControlResponse): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(res)}\n`);
}

/** One request line to its response; never throws. */
export async function respond(supervisor: SupervisorApi, line: string, signal?: AbortSignal): Promise<ControlResponse> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, error: 'request is not valid JSON', code: PROTOCOL_CODES.badRequest };
  }
  const reqId = typeof raw === 'object' && raw !== null && 'id' in raw ? (raw as { id: unknown }).id : undefined;
  const id = typeof reqId === 'string' || typeof reqId === 'number' ? reqId : undefined;
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
    if (err instanceof ActionError || err instanceof ProtocolError)
      return { id, ok: false, error: err.message, code: err.code };
    return { id, ok: false, error: err instanceof Error ? err.message : String(err), code: PROTOCOL_CODES.internal };
  }
}

function laneOf(supervisor: SupervisorApi, name: string): LaneSnapshot {
  const lane = supervisor.getLane(name);
  if (!lane) throw new ActionError(`no lane named ${name}`, 'not-found');
  return lane;
}

/** Runs one validated request against the supervisor; the result is the response's `data`. */
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
      await supervisor.approve(req.lane, { override: req.override ?? false, by: 'control' });
      return laneOf(supervisor, req.lane);
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
