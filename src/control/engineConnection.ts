/**
 * One long-lived connection to a repo's engine (docs/control-protocol.md): JSON lines both ways
 * over a unix socket, or over any other byte stream (an `ssh` child's pipes: src/control/ssh.ts). It says `hello` with this client's protocol version, sends
 * requests with ids (many in flight; each response is matched by its id), hands the engine's
 * pushes (`{"push": kind, ...}`) to listeners, and tells when the connection ends and why: the
 * engine said `bye` (it was stopped), it went away without a word (killed), or we closed it.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import {
  PROTOCOL_VERSION,
  protocolMismatchMessage,
  type ControlPush,
  type HelloData,
} from '../../lanes/control/protocol.js';
import { ActionError } from '../../lanes/supervisor/api.js';
import { NoConsoleError, resolveSocketPath } from './client.js';
import { AO_CONSOLE_VERSION } from '../../lanes/engine/version.js';

/** What the engine answers to `hello`. */
export type EngineHello = HelloData;

/** A push from the engine: never has `ok`, always has `push`. */
export type EnginePush = ControlPush;

/** Why a connection ended. */
export interface CloseInfo {
  /** `bye`: the engine was stopped and said so; `lost`: it went away without a word; `closed`: we closed it */
  kind: 'bye' | 'lost' | 'closed';
  reason: string;
}

/** The engine speaks another protocol version: the message names both and what to do. */
export class ProtocolMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolMismatchError';
  }
}

/** True for a connect error that means nobody listens on the socket (no engine). */
export function noListener(err: NodeJS.ErrnoException): boolean {
  return err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTDIR';
}

/** Opens the socket; rejects with NoConsoleError when nothing listens on it. */
export function openSocket(socketPath: string): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect(socketPath);
    const onError = (err: NodeJS.ErrnoException): void => {
      socket.destroy();
      reject(
        noListener(err) ? new NoConsoleError(socketPath) : new Error(`control socket ${socketPath}: ${err.message}`),
      );
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

interface Pending {
  verb: string;
  resolve: (data: unknown) => void;
  reject: (err: Error) => void;
}

export class EngineConnection {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly pushListeners = new Set<(push: EnginePush) => void>();
  private readonly closeListeners = new Set<(info: CloseInfo) => void>();
  private bye: string | null = null;
  private closedBy: CloseInfo | null = null;
  private selfClosed = false;
  /** the engine's answer to hello (after hello()) */
  info: EngineHello | null = null;

  /**
   * A connection over `socket` (a unix socket, or a duplex over a child's pipes whose 'close'
   * says the link ended); `socketPath` names where it leads, for messages.
   */
  constructor(
    private readonly socket: Duplex,
    readonly socketPath: string,
    /** why the link ended when the engine did not say bye (a dropped ssh link says more than "gone") */
    private readonly lostReason: () => string | null = () => null,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => {
      // 'close' follows and says what happened
    });
    socket.on('close', () => this.handleClose());
  }

  /** Connects to the engine listening on `socketPath` (NoConsoleError when none does), without hello. */
  static async open(socketPath: string): Promise<EngineConnection> {
    return new EngineConnection(await openSocket(socketPath), socketPath);
  }

  /**
   * Connects to the engine of `stateDir` and says hello. Rejects with NoConsoleError when no
   * engine listens, ProtocolMismatchError when it speaks another protocol version.
   */
  static async connect(stateDir: string, client = 'client'): Promise<EngineConnection> {
    const conn = await EngineConnection.open(resolveSocketPath(stateDir));
    try {
      await conn.hello(client);
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  get closed(): CloseInfo | null {
    return this.closedBy;
  }

  /** Says hello; resolves with the engine's description of itself. */
  async hello(client: string): Promise<EngineHello> {
    try {
      this.info = await this.request<EngineHello>('hello', {
        protocol: PROTOCOL_VERSION,
        client,
        version: AO_CONSOLE_VERSION,
      });
    } catch (err) {
      if (err instanceof ActionError && err.code === 'protocol-mismatch') throw new ProtocolMismatchError(err.message);
      if (err instanceof ActionError && err.code === 'bad-request')
        throw new ProtocolMismatchError(
          `the engine listening on ${this.socketPath} speaks control protocol 1 (an older ao-console), ` +
            `this client speaks protocol ${PROTOCOL_VERSION} (ao-console ${AO_CONSOLE_VERSION}): stop it ` +
            '(`ao-console engine stop`, or quit that console), then start `ao-console` again with one version',
        );
      throw err;
    }
    const info = this.info;
    if (info.protocol !== PROTOCOL_VERSION)
      throw new ProtocolMismatchError(
        protocolMismatchMessage({
          engineProtocol: info.protocol,
          engineVersion: info.version,
          clientProtocol: PROTOCOL_VERSION,
          clientVersion: AO_CONSOLE_VERSION,
          enginePid: info.pid,
        }),
      );
    return info;
  }

  /**
   * Sends one request and resolves with its `data`; a refusal rejects with ActionError carrying the
   * engine's code (not-found, bad-state, ...); a connection that ends first rejects with an Error.
   */
  request<T = unknown>(verb: string, params: Record<string, unknown> = {}): Promise<T> {
    if (this.closedBy) return Promise.reject(new Error(`the engine connection is closed: ${this.closedBy.reason}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { verb, resolve: resolve as (d: unknown) => void, reject });
      this.socket.write(`${JSON.stringify({ ...params, id, verb })}\n`);
    });
  }

  /** Every push; returns the function that stops listening. */
  onPush(listener: (push: EnginePush) => void): () => void {
    this.pushListeners.add(listener);
    return () => this.pushListeners.delete(listener);
  }

  /** Called once when the connection ends (at once when it already has). */
  onClose(listener: (info: CloseInfo) => void): () => void {
    if (this.closedBy) {
      const info = this.closedBy;
      queueMicrotask(() => listener(info));
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Closes the connection (the engine and its lanes keep running). */
  close(): void {
    this.selfClosed = true;
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not ours to crash on; the engine logs its own faults
    }
    if (typeof msg.push === 'string') {
      if (msg.push === 'bye') this.bye = typeof msg.reason === 'string' ? msg.reason : 'the engine was stopped';
      for (const l of [...this.pushListeners]) {
        try {
          l(msg as unknown as EnginePush);
        } catch {
          // one listener's fault must not cut the others off
        }
      }
      return;
    }
    let id = typeof msg.id === 'number' ? msg.id : undefined;
    // A response without an id (a line the engine could not read) answers the oldest request.
    if (id === undefined || !this.pending.has(id)) id = this.pending.keys().next().value;
    if (id === undefined) return;
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (!p) return;
    if (msg.ok === true) p.resolve(msg.data ?? null);
    else p.reject(new ActionError(String(msg.error ?? `${p.verb} failed`), String(msg.code ?? 'internal')));
  }

  private handleClose(): void {
    if (this.closedBy) return;
    const info: CloseInfo = this.selfClosed
      ? { kind: 'closed', reason: 'the connection was closed' }
      : this.bye !== null
        ? { kind: 'bye', reason: this.bye }
        : { kind: 'lost', reason: this.lostReason() ?? 'the engine is gone (the connection ended without a word)' };
    this.closedBy = info;
    for (const p of this.pending.values()) p.reject(new Error(`${p.verb}: ${info.reason}`));
    this.pending.clear();
    for (const l of [...this.closeListeners]) {
      try {
        l(info);
      } catch {
        // keep telling the others
      }
    }
    this.closeListeners.clear();
  }
}
