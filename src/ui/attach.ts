/**
 * Attach mode (no React): the focused lane gets the whole terminal minus one status line, and
 * raw bytes pass straight between the operator's terminal and the lane's pty. The caller has
 * unmounted Ink before and mounts it again after. `ctrl-]` detaches.
 *
 * The lane's screen is drawn first from the headless terminal (SGR only, so it is safe), so a
 * full-screen agent shows at once. The last row is kept out of the scroll region (DECSTBM) for
 * the status line, which is redrawn after output pauses in case the agent reset the region or
 * cleared the screen. On detach every terminal mode the agent may have set is switched off.
 */
import { StringDecoder } from 'node:string_decoder';
import { allows } from '../state/selectors.js';
import type { SupervisorApi } from '../state/types.js';
import {
  CLEAR_SCREEN,
  cursorTo,
  ENTER_ALT_SCREEN,
  HIDE_CURSOR,
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
export function initialFrame(supervisor: SupervisorApi, lane: string, cols: number, rows: number): string {
  const body = Math.max(1, rows - 1);
  let out = CLEAR_SCREEN;
  let screen: string[] = [];
  let cursor = { x: 0, y: 0, visible: true };
  try {
    screen = supervisor.screenAnsi(lane);
    cursor = supervisor.cursor(lane);
  } catch {
    // an empty screen is still a start
  }
  // Show the bottom of the screen when the emulator is taller than the space we have.
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

export async function attachLane(opts: AttachOptions): Promise<AttachResult> {
  const { supervisor, lane, stdin, stdout } = opts;
  const quietMs = opts.statusQuietMs ?? 150;
  // The lane may have ended between the key press and now: then the terminal is left alone.
  const snap = supervisor.getLane(lane);
  if (!snap || !allows(snap.state, 'attach')) {
    return {
      reason: 'lane-ended',
      message: snap ? `${lane} is ${snap.state}: nothing to attach to` : `no lane named ${lane}`,
    };
  }
  // Size the lane first, then wait until its screen holds every byte so far: output from here
  // on is handed to attach(), so the first frame plus the raw stream miss nothing.
  try {
    supervisor.resize(lane, stdout.columns || 80, Math.max(1, (stdout.rows || 24) - 1));
    await supervisor.syncScreen(lane);
  } catch {
    // the lane may have ended; the state listener below detaches
  }
  return new Promise<AttachResult>((resolve) => {
    let cols = stdout.columns || 80;
    let rows = stdout.rows || 24;
    let done = false;
    let statusTimer: ReturnType<typeof setTimeout> | null = null;
    const decoder = new StringDecoder('utf8');

    const fitLane = (): void => {
      try {
        supervisor.resize(lane, cols, Math.max(1, rows - 1));
      } catch {
        // the lane may have ended; the state listener detaches
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

    fitLane();
    stdout.write(initialFrame(supervisor, lane, cols, rows));

    const detachOutput = supervisor.attach(lane, (data) => {
      if (done) return;
      stdout.write(data);
      scheduleStatus();
    });

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
        supervisor.send(lane, text);
      } catch (err) {
        finish({ reason: 'lane-ended', message: `${lane}: ${err instanceof Error ? err.message : String(err)}` });
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
      } else if (ev.type === 'lane-state' && ev.lane === lane && !allows(ev.to, 'attach')) {
        finish({ reason: 'lane-ended', message: `${lane} is ${ev.to}: detached` });
      }
    });

    /** Ends attach mode; `rest` is input after the detach key, handed back for the dashboard to read. */
    function finish(result: AttachResult, rest = ''): void {
      if (done) return;
      done = true;
      if (statusTimer) clearTimeout(statusTimer);
      detachOutput();
      offEvents();
      stdin.off('data', onInput);
      stdout.off('resize', onResize);
      // Raw mode stays on: the dashboard takes the keyboard back at once, and a cooked-mode gap
      // would hold keys typed right after the detach until Enter (the dashboard restores the
      // terminal's own mode when it exits).
      stdin.pause();
      if (rest) stdin.unshift(Buffer.from(rest, 'utf8'));
      stdout.write(RESTORE_TERMINAL_MODES + (opts.altScreen === false ? CLEAR_SCREEN : ENTER_ALT_SCREEN));
      resolve(result);
    }

    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.ref?.();
    stdin.on('data', onInput);
    stdin.resume();
    stdout.on('resize', onResize);
  });
}
