/**
 * The control socket client: one request, one response, then the connection is closed.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { socketFile } from '../../lanes/config/paths.js';
import { responseSchema, type ControlRequest, type ControlResponse } from '../../lanes/control/protocol.js';
import { socketPathFile } from '../../lanes/control/server.js';

/** No console is running for this repo (nothing listens on its socket). `ctl` exits 3. */
export class NoConsoleError extends Error {
  constructor(readonly socketPath: string) {
    super(
      `no engine runs for this repo (nothing listens on ${socketPath}); start one with \`ao-console\` (the dashboard starts it), \`ao-console engine start\` or \`ao-console serve\``,
    );
    this.name = 'NoConsoleError';
  }
}

/** Where the console of `stateDir` listens: `<stateDir>/ao.sock`, or the path named in `ao.sock.path`. */
export function resolveSocketPath(stateDir: string): string {
  try {
    const named = readFileSync(socketPathFile(stateDir), 'utf8').trim();
    if (named) return named;
  } catch {
    // no redirect file: the socket is in the state dir
  }
  return socketFile(stateDir);
}

/**
 * Sends one request to the console of `stateDir` and resolves with its response (ok or not).
 * Throws NoConsoleError when no console listens, and an Error when the connection breaks.
 */
export function sendRequest(stateDir: string, req: ControlRequest): Promise<ControlResponse> {
  const socketPath = resolveSocketPath(stateDir);
  return new Promise<ControlResponse>((resolve, reject) => {
    const socket = net.connect(socketPath);
    let buffer = '';
    let connected = false;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      fn();
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(req)}\n`);
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      const line = buffer.slice(0, nl);
      settle(() => {
        try {
          resolve(responseSchema.parse(JSON.parse(line)));
        } catch {
          reject(new Error(`the console sent a malformed response: ${line.slice(0, 200)}`));
        }
      });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTDIR')) {
        settle(() => reject(new NoConsoleError(socketPath)));
      } else {
        settle(() => reject(new Error(`control socket ${socketPath}: ${err.message}`)));
      }
    });
    socket.on('close', () => settle(() => reject(new Error('the console closed the connection without answering'))));
  });
}
