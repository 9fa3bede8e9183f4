/**
 * Attach mode (no React): the focused lane gets the whole terminal minus one status line, and
 * raw bytes pass straight between the operator's terminal and the lane's pty. The caller has
 * unmounted Ink before and mounts it again after. `ctrl-]` detaches.
 *
 * Attach goes through the supervisor (in a dashboard: the engine, over its socket): it sizes the
 * lane to this terminal and answers with the lane's screen (SGR only, so it is safe) and from
 * then on its raw output, atomically, so a full-screen agent shows at once and nothing is missed
 * or repeated. Allowed whenever the lane's process is alive (canAttach), also while it awaits
 * approval or runs its gates. The last row is kept out of the scroll region (DECSTBM) for the
 * status line, which is redrawn after output pauses in case the agent reset the region or
 * cleared the screen. The dashboard owns the outer terminal: the window title is saved before
 * and restored after, clipboard reads (OSC 52 queries) never reach the terminal, and on detach
 * every terminal mode the agent may have set is switched off (RESTORE_TERMINAL_MODES).
 */
import { StringDecoder } from 'node:string_decoder';
import { canAttach } from '../state/selectors.js';
import type { AttachHandle, SupervisorApi } from '../state/types.js';
import {
  CLEAR_SCREEN,
  cursorTo,
  ENTER_ALT_SCREEN,
  HIDE_CURSOR,
  OSC52_QUERY,
  POP_TITLE,
  PUSH_TITLE,
  RESTORE_CURSOR,
  RESTORE_TERMINAL_MODES,
  SAVE_CURSOR,
  scrollRegion,
  SHOW_CURSOR,
} from './terminalModes.js';

export interface AttachOptions {
  supervisor: SupervisorApi;
  lane: string;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  /** re-enter the alternate screen after detaching (the dashboard lives there); default true */
  altScreen?: boolean;
  /** how long output must pause before the status line is redrawn (ms) */
  statusQuietMs?: number;
  /** aborting ends attach mode (the engine went away) */
  signal?: AbortSignal;
}

export interface AttachResult {
  reason: 'detach' | 'lane-ended';
  message: string;
}

/** ctrl-] as a plain byte, or as kitty keyboard protocol reports it (`CSI 93;5u`). */
export const DETACH_KEYS = /\x1d|\x1b\[93;5(?::[0-9]+)?u/;

export function statusLine(lane: string, cols: number, note = ''): string {
  const text = ` attached to ${lane} — ctrl-] to detach${note ? ` · ${note}` : ''} `;
  const chars = Array.from(text);
  const cut = chars.length > cols ? chars.slice(0, Math.max(0, cols)).join('') : text + ' '.repeat(cols - chars.length);
  return `\x1b[0m\x1b[7m${cut}\x1b[0m`;
}

/** The first frame: the lane's current screen, the status line, the scroll region and the cursor. */
export function initialFrame(
  screen: readonly string[],
  cursor: { x: number; y: number; visible: boolean },
  lane: string,
  cols: number,
  rows: number,
): string {
  const body = Math.max(1, rows - 1);
  let out = CLEAR_SCREEN;
  // Show the bottom of the screen when the lane's screen is taller than the space we have.
  const skip = Math.max(0, screen.length - body, cursor.y - body + 1);
  screen.slice(skip, skip + body).forEach((row, i) => {
    out += `${cursorTo(i + 1, 1)}\x1b[0m${row}\x1b[0m`;
  });
  out += cursorTo(rows, 1) + statusLine(lane, cols);
  out += scrollRegion(1, body);
  out += cursorTo(Math.min(body, Math.max(1, cursor.y - skip + 1)), Math.min(cols, cursor.x + 1));
  out += cursor.visible ? SHOW_CURSOR : HIDE_CURSOR;
  return out;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export async function attachLane(opts: AttachOptions): Promise<AttachResult> {
  const { supervisor, lane, stdin, stdout } = opts;
  const quietMs = opts.statusQuietMs ?? 150;
  // The lane may have ended between the key press and now: then the terminal is left alone.
  const snap = supervisor.getLane(lane);
  if (!snap || !canAttach(snap)) {
    return {
      reason: 'lane-ended',
      message: snap
        ? `${lane} is ${snap.state} and its agent is not running: nothing to attach to`
        : `no lane named ${lane}`,
    };
  }
  if (opts.signal?.aborted) return { reason: 'lane-ended', message: 'the engine is gone' };
  let cols = stdout.columns || 80;
  let rows = stdout.rows || 24;
  // Output that arrives before the first frame is on the terminal waits for it.
  let held: string[] | null = [];
  let deliver: (data: string) => void = () => {};
  let handle: AttachHandle;
  try {
    handle = await supervisor.attach(lane, (data) => (held ? held.push(data) : deliver(data)), {
      cols,
      rows: Math.max(1, rows - 1),
    });
  } catch (err) {
    return { reason: 'lane-ended', message: `attach ${lane}: ${errorText(err)}` };
  }
  return new Promise<AttachResult>((resolve) => {
    let done = false;
    let statusTimer: ReturnType<typeof setTimeout> | null = null;
    const decoder = new StringDecoder('utf8');

    const fitLane = (): void => {
      try {
        supervisor.resize(lane, cols, Math.max(1, rows - 1));
      } catch {
        // the lane may have ended; the exit event detaches
      }
    };
    const drawStatus = (): void => {
      statusTimer = null;
      if (done) return;
      stdout.write(
        SAVE_CURSOR +
          scrollRegion(1, Math.max(1, rows - 1)) +
          RESTORE_CURSOR +
          SAVE_CURSOR +
          cursorTo(rows, 1) +
          statusLine(lane, cols) +
          RESTORE_CURSOR,
      );
    };
    const scheduleStatus = (): void => {
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = setTimeout(drawStatus, quietMs);
    };

    stdout.write(PUSH_TITLE + initialFrame(handle.rows, handle.cursor, lane, cols, rows));
    deliver = (data) => {
      if (done) return;
      stdout.write(data.includes('\x1b]52;') ? data.replace(OSC52_QUERY, '') : data);
      scheduleStatus();
    };
    const early = held ?? [];
    held = null;
    for (const d of early) deliver(d);

    const onInput = (chunk: string | Buffer): void => {
      if (done) return;
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      const m = DETACH_KEYS.exec(text);
      if (m) {
        if (m.index > 0) supervisor.send(lane, text.slice(0, m.index));
        // Keys typed right after ctrl-] (often in the same read: "ctrl-] q") are the dashboard's.
        finish({ reason: 'detach', message: `detached from ${lane}` }, text.slice(m.index + m[0].length));
        return;
      }
      try {
        // Two clients attached at different sizes: the one that types sets the size (tmux's "latest").
        const now = supervisor.getLane(lane);
        if (now && (now.cols !== cols || now.rows !== Math.max(1, rows - 1))) fitLane();
        supervisor.send(lane, text);
      } catch (err) {
        finish({ reason: 'lane-ended', message: `${lane}: ${errorText(err)}` });
      }
    };
    const onResize = (): void => {
      cols = stdout.columns || cols;
      rows = stdout.rows || rows;
      fitLane();
      drawStatus();
    };
    const offEvents = supervisor.on((ev) => {
      if (ev.type === 'lane-exit' && ev.lane === lane) {
        finish({
          reason: 'lane-ended',
          message: `${lane} exited (${ev.code !== null ? `code ${ev.code}` : `signal ${ev.signal}`})`,
        });
      }
    });
    const onAbort = (): void => finish({ reason: 'lane-ended', message: 'the engine is gone' });
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    /** Ends attach mode; `rest` is input after the detach key, handed back for the dashboard to read. */
    function finish(result: AttachResult, rest = ''): void {
      if (done) return;
      done = true;
      if (statusTimer) clearTimeout(statusTimer);
      handle.detach();
      offEvents();
      opts.signal?.removeEventListener('abort', onAbort);
      stdin.off('data', onInput);
      stdout.off('resize', onResize);
      // Raw mode stays on: the dashboard takes the keyboard back at once, and a cooked-mode gap
      // would hold keys typed right after the detach until Enter (the dashboard restores the
      // terminal's own mode when it exits).
      stdin.pause();
      if (rest) stdin.unshift(Buffer.from(rest, 'utf8'));
      try {
        stdout.write(RESTORE_TERMINAL_MODES + POP_TITLE + (opts.altScreen === false ? CLEAR_SCREEN : ENTER_ALT_SCREEN));
      } catch {
        // the terminal is gone (EIO): the dashboard exits
      }
      resolve(result);
    }

    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.ref?.();
    stdin.on('data', onInput);
    stdin.resume();
    stdout.on('resize', onResize);
  });
}
