/**
 * The live dashboard: builds the store over the supervisor, enters the alternate screen and
 * renders App with Ink. Attach mode unmounts Ink, hands the terminal to the lane and mounts Ink
 * again after detach.
 *
 * With an engine link (the usual case: the supervisor is the engine's, over its socket) the
 * lanes outlive the dashboard: quitting leaves them running (or, as the quit dialog's second
 * choice, stops every lane and the engine); an engine that was stopped says bye and the
 * dashboard exits; an engine that went away without a word gets the engine-gone overlay (start
 * it again, or quit). SIGHUP or a terminal that fails (EIO) ends the dashboard at once, lanes
 * untouched. Without a link (an in-process supervisor) quitting shuts the supervisor down.
 * Resolves with what to print on the normal screen once the alternate screen is left.
 *
 * The switch key (A, with `viewSwitch`) ends the dashboard with cause `switch-view` and leaves
 * the alternate screen to the next view the host opens (this repo's, or every engine's): the
 * operator sees one screen change, not the shell in between; leaveHandedOverScreen() leaves it
 * when the host opens none.
 */
import { appendFileSync } from 'node:fs';
import { render, type Instance, type RenderOptions } from 'ink';
import { App } from '../../components/App.js';
import { StoreProvider } from '../../components/StoreContext.js';
import { createAppStore, type AppStore } from '../state/store.js';
import type { AppState, SupervisorApi } from '../state/types.js';
import { keepRunningMessage } from '../state/laneActions.js';
import { errorText } from '../state/sync.js';
import { splashTakenOver } from '../splash.js';
import { attachLane } from './attach.js';
import { BRACKETED_PASTE_OFF, BRACKETED_PASTE_ON } from './keys.js';
import { startTerminalNotifier } from './notifyTerminal.js';
import {
  CLEAR_SCREEN,
  ENTER_ALT_SCREEN,
  LEAVE_ALT_SCREEN,
  RESET_TERMINAL_MODES,
  SHOW_CURSOR,
} from './terminalModes.js';

/** What the dashboard needs of an engine it is a client of (RemoteSupervisor, and a restart). */
export interface EngineLink {
  /** the engine said bye (stopped) or went away without a word (lost) */
  onLost(listener: (info: { kind: 'bye' | 'lost'; reason: string }) => void): () => void;
  /** the supervisor's caches changed (pushes): refresh soon */
  onChange(listener: () => void): () => void;
  /** starts the engine again after it was lost and moves onto it; resolves with its recovery notes */
  restart(): Promise<string[]>;
  /** stops every lane and the engine; resolves once the engine is gone */
  stopEngine(): Promise<{ lanes: number }>;
  /** leaves the engine; its lanes keep running */
  disconnect(): void;
}

/** How the dashboard ended, and the sentence for the normal screen. */
export interface DashboardExit {
  cause: 'quit' | 'stop-engine' | 'bye' | 'sigterm' | 'sighup' | 'tty-lost' | 'crash' | 'switch-view';
  /** printed on the normal screen after the alternate screen is left (empty: nothing) */
  message: string;
  /** the process's exit code */
  exitCode: number;
}

export interface RunDashboardOptions {
  supervisor: SupervisorApi;
  /** the supervisor is an engine's (the lanes outlive this dashboard) */
  engine?: EngineLink;
  /** recovery notes to show when the dashboard opens */
  notes?: string[];
  profiles: string[];
  /** the form's default profile and the profiles whose command is missing (profiles/availability) */
  profileChoices?: { defaultProfile: string | null; missing: Record<string, string> };
  repoLabel: string;
  baseBranch: string;
  /** the repo config's commands are not allowed yet: the question to open with, and how to allow them */
  trust?: { message: string; allow: () => string } | null;
  /** the view the switch key (A) opens: the dashboard then ends with cause `switch-view` */
  viewSwitch?: 'all' | 'repo';
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

export const NOT_A_TTY_MESSAGE =
  'ao-console: the dashboard needs an interactive terminal (stdin and stdout must be a TTY).\n' +
  'Without one, use the subcommands:\n' +
  '  ao-console serve          run the engine in the foreground, with the control socket\n' +
  '  ao-console ctl <command>  drive the engine (new, handoff, approve, reject, ...)\n' +
  '  ao-console lanes          list the lanes\n' +
  'See ao-console --help.';

export class NotATtyError extends Error {
  readonly code = 'not-a-tty';
  constructor() {
    super(NOT_A_TTY_MESSAGE);
    this.name = 'NotATtyError';
  }
}

/**
 * `AO_FRAME_LOG=<file>` (bench/scale.mjs): Ink's time to render each frame (`renderTime`, ms:
 * the tree to the frame's text, not React's commit or the write) appended to that file, one
 * number a line. Flushed at most once a second, so a dashboard killed by a signal loses at most
 * a second of them and the frames themselves pay no file write. Unset: nothing is passed to Ink.
 */
function frameLog(file: string | undefined): RenderOptions['onRender'] {
  if (!file) return undefined;
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const lines = pending.map((t) => t.toFixed(3)).join('\n') + '\n';
    pending = [];
    try {
      appendFileSync(file, lines, { mode: 0o600 });
    } catch {
      // a measurement aid: a file that cannot be written must not end the dashboard
    }
  };
  setInterval(flush, 1000).unref();
  process.on('exit', flush);
  return ({ renderTime }) => void pending.push(renderTime);
}
const onRender = frameLog(process.env.AO_FRAME_LOG);

/**
 * Frames a second at most (Ink's throttle, leading and trailing: a key after a pause draws at
 * once). A watched lane's screen comes at most every 80 ms and the lane list every 250 ms; at
 * Ink's default 30 they were drawn as separate frames (12 a second for one spinner in view),
 * at 10 a screen and a list change that come close share one.
 */
const MAX_FPS = 10;

/** The alternate screen a dashboard that ended with `switch-view` left to the next one. */
let handedOver: { leave(): void; forget(): void } | null = null;

/** Leaves the alternate screen a `switch-view` handed over, when no next view took it (an error). */
export function leaveHandedOverScreen(): void {
  const h = handedOver;
  handedOver = null;
  h?.leave();
}

/**
 * The alternate screen, left exactly once: on quit, on a crash, on SIGTERM or at process exit;
 * or handed over to the next dashboard (`switch-view`), whose enter takes it.
 */
function alternateScreen(stdout: NodeJS.WriteStream): { enter(): void; leave(): void; handOver(): void } {
  let inside = false;
  const leave = (): void => {
    if (!inside) return;
    inside = false;
    process.off('exit', leave);
    try {
      // the modes first, on the alternate screen (resetting the scroll region homes the cursor
      // there), then back to the operator's screen and cursor, where a last message goes
      stdout.write(RESET_TERMINAL_MODES + LEAVE_ALT_SCREEN + SHOW_CURSOR);
    } catch {
      // stdout may be gone during process exit
    }
  };
  return {
    enter() {
      if (inside) return;
      inside = true;
      // the view before this one kept the screen for us: it is ours to leave now
      const before = handedOver;
      handedOver = null;
      before?.forget();
      process.on('exit', leave);
      // the splash is on the alternate screen already: this one leave ends both
      splashTakenOver();
      stdout.write(ENTER_ALT_SCREEN);
    },
    leave,
    handOver() {
      if (!inside) return;
      // still left at process exit, until the next view's enter forgets this one
      handedOver = {
        leave,
        forget: () => {
          inside = false;
          process.off('exit', leave);
        },
      };
    },
  };
}

export async function runDashboard(opts: RunDashboardOptions): Promise<DashboardExit> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  if (!stdin.isTTY || !stdout.isTTY) throw new NotATtyError();

  const { supervisor, engine } = opts;
  const store: AppStore = createAppStore(supervisor, {
    profiles: opts.profiles,
    profileChoices: opts.profileChoices,
    repoLabel: opts.repoLabel,
    baseBranch: opts.baseBranch,
    size: { cols: stdout.columns || 80, rows: stdout.rows || 24 },
    lanesOutlive: engine !== undefined,
    changes: engine ? (l) => engine.onChange(l) : undefined,
    // over several engines the header counts the lanes listed; one repo's history is not theirs
    todayFromHistory: 'members' in supervisor ? false : undefined,
  });
  if (opts.viewSwitch) store.setState({ viewSwitch: opts.viewSwitch });
  if (opts.notes && opts.notes.length > 0) store.actions.flash(opts.notes.join('; '), 'warn');
  const trust = opts.trust ?? null;
  if (trust) store.setState({ overlay: { kind: 'confirm', action: 'trust', message: trust.message } });
  const screen = alternateScreen(stdout);
  // Bell and desktop notification escapes when a lane needs the operator (src/ui/notifyTerminal.ts).
  const notifier = startTerminalNotifier({ supervisor, stdout, env: process.env });

  return new Promise<DashboardExit>((resolve, reject) => {
    let ink: Instance | null = null;
    let busy = false;
    let finished = false;
    let restarting = false;
    let attachAbort: AbortController | null = null;
    let lost: { kind: 'bye' | 'lost'; reason: string } | null = null;

    // Bracketed paste on while the dashboard draws (a multi-line paste into a field is text, not
    // keys), off while attached (the agent turns it on itself if it wants it).
    const mount = (): void => {
      stdout.write(CLEAR_SCREEN + BRACKETED_PASTE_ON);
      ink = render(
        <StoreProvider store={store}>
          <App />
        </StoreProvider>,
        { stdin, stdout, exitOnCtrlC: false, patchConsole: false, maxFps: MAX_FPS, ...(onRender ? { onRender } : {}) },
      );
      ink.waitUntilExit().catch((err: unknown) => void finish('crash', err));
    };
    const unmount = (): void => {
      const i = ink;
      ink = null;
      i?.unmount();
      try {
        stdout.write(BRACKETED_PASTE_OFF);
      } catch {
        // the terminal is gone
      }
    };

    const aliveLanes = (): number => store.getState().lanes.filter((l) => l.alive).length;

    const finish = async (cause: DashboardExit['cause'], error?: unknown, note = ''): Promise<void> => {
      if (finished) return;
      finished = true;
      notifier.dispose();
      unsubscribe();
      offLost?.();
      process.off('SIGTERM', onSigterm);
      process.off('SIGHUP', onSighup);
      stdin.off('error', onTtyError);
      stdout.off('error', onTtyError);
      attachAbort?.abort();
      let message = note;
      let exitCode = 0;
      let shutdownError: unknown;
      if (engine) {
        if (cause === 'stop-engine') {
          store.actions.flash('stopping every lane and the engine…');
          try {
            const { lanes } = await engine.stopEngine();
            message = `the engine stopped (${lanes} lane${lanes === 1 ? '' : 's'} stopped)`;
          } catch (err) {
            message = `could not stop the engine: ${errorText(err)}; see \`ao-console engine status\``;
            exitCode = 1;
          }
        } else if (cause !== 'bye') {
          if (!lost && cause !== 'crash' && cause !== 'switch-view') message ||= keepRunningMessage(aliveLanes());
          engine.disconnect();
        }
      } else {
        if (!error && cause !== 'sighup' && cause !== 'tty-lost' && store.getState().lanes.length > 0)
          store.actions.flash('stopping every lane…');
        try {
          await supervisor.shutdown(cause);
        } catch (err) {
          shutdownError = err;
        }
      }
      try {
        unmount();
      } catch {
        // the crash that brought us here may have left Ink half torn down
      }
      store.dispose();
      try {
        if (cause === 'switch-view' && !error) screen.handOver();
        else screen.leave();
      } catch {
        // the terminal is gone
      }
      if (error ?? shutdownError) reject(error ?? shutdownError);
      else resolve({ cause, message, exitCode: cause === 'bye' ? 0 : exitCode });
    };

    const runAttach = async (lane: string): Promise<void> => {
      busy = true;
      notifier.setAttached(lane);
      unmount();
      let message: string | undefined;
      attachAbort = new AbortController();
      try {
        message = (await attachLane({ supervisor, lane, stdin, stdout, signal: attachAbort.signal })).message;
      } catch (err) {
        message = `attach ${lane}: ${errorText(err)}`;
      }
      attachAbort = null;
      if (finished) return;
      store.actions.attachDone(message);
      if (lost?.kind === 'lost') store.actions.engineGone(lost.reason);
      mount();
      notifier.setAttached(null);
      busy = false;
      check(store.getState());
    };

    const restart = async (): Promise<void> => {
      if (!engine || restarting) return;
      restarting = true;
      try {
        const notes = await engine.restart();
        lost = null;
        store.actions.engineBack(null, notes);
      } catch (err) {
        store.actions.engineBack(`could not start the engine again: ${errorText(err)}`);
      } finally {
        restarting = false;
      }
    };

    const check = (s: AppState): void => {
      if (busy || finished) return;
      if (s.request.quit) void finish(s.request.stopEngine && !lost ? 'stop-engine' : 'quit');
      else if (s.request.switchView) void finish('switch-view');
      else if (s.request.restartEngine) void restart();
      else if (s.request.attach && !lost) void runAttach(s.request.attach);
      else if (s.request.trust) {
        try {
          store.actions.trustDone(trust ? trust.allow() : 'nothing to allow');
        } catch (err) {
          store.actions.trustDone(`could not allow the commands: ${errorText(err)}`, 'error');
        }
      }
    };
    const unsubscribe = store.subscribe(check);
    const onSigterm = (): void => void finish('sigterm');
    const onSighup = (): void => void finish('sighup');
    const onTtyError = (): void => void finish('tty-lost');
    const offLost = engine?.onLost((info) => {
      lost = info;
      if (info.kind === 'bye') {
        // Stopped by someone (`ao-console engine stop`, another dashboard): say so, then go.
        store.actions.flash(`${info.reason}; this dashboard exits`, 'warn');
        setTimeout(() => void finish('bye', undefined, `ao-console: ${info.reason}`), 700);
        attachAbort?.abort();
        return;
      }
      if (busy)
        attachAbort?.abort(); // runAttach shows the overlay after detaching
      else store.actions.engineGone(info.reason);
    });
    process.on('SIGTERM', onSigterm);
    process.on('SIGHUP', onSighup);
    stdin.on('error', onTtyError);
    stdout.on('error', onTtyError);

    try {
      screen.enter();
      mount();
    } catch (err) {
      void finish('crash', err);
    }
  });
}
