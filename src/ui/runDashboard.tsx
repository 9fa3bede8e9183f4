/**
 * The live dashboard: builds the store over the supervisor, enters the alternate screen and
 * renders App with Ink. Attach mode unmounts Ink, hands the terminal to the lane and mounts Ink
 * again after detach. Resolves once the operator quit and `supervisor.shutdown('quit')` is done.
 */
import { render, type Instance } from 'ink';
import { App } from '../../components/App.js';
import { StoreProvider } from '../../components/StoreContext.js';
import { createAppStore, type AppStore } from '../state/store.js';
import type { AppState, SupervisorApi } from '../state/types.js';
import { attachLane } from './attach.js';
import {
  CLEAR_SCREEN,
  ENTER_ALT_SCREEN,
  LEAVE_ALT_SCREEN,
  RESTORE_TERMINAL_MODES,
  SHOW_CURSOR,
} from './terminalModes.js';

export interface RunDashboardOptions {
  supervisor: SupervisorApi;
  profiles: string[];
  repoLabel: string;
  baseBranch: string;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

export const NOT_A_TTY_MESSAGE =
  'ao-console: the dashboard needs an interactive terminal (stdin and stdout must be a TTY).\n' +
  'Without one, use the subcommands:\n' +
  '  ao-console serve          run the supervisor headless, with the control socket\n' +
  '  ao-console ctl <command>  drive a running console (new, handoff, approve, reject, ...)\n' +
  '  ao-console lanes          list the lanes\n' +
  'See ao-console --help.';

export class NotATtyError extends Error {
  readonly code = 'not-a-tty';
  constructor() {
    super(NOT_A_TTY_MESSAGE);
    this.name = 'NotATtyError';
  }
}

/** The alternate screen, left exactly once: on quit, on a crash, on SIGTERM or at process exit. */
function alternateScreen(stdout: NodeJS.WriteStream): { enter(): void; leave(): void } {
  let inside = false;
  const leave = (): void => {
    if (!inside) return;
    inside = false;
    process.off('exit', leave);
    try {
      stdout.write(RESTORE_TERMINAL_MODES + LEAVE_ALT_SCREEN + SHOW_CURSOR);
    } catch {
      // stdout may be gone during process exit
    }
  };
  return {
    enter() {
      if (inside) return;
      inside = true;
      process.on('exit', leave);
      stdout.write(ENTER_ALT_SCREEN);
    },
    leave,
  };
}

export async function runDashboard(opts: RunDashboardOptions): Promise<void> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  if (!stdin.isTTY || !stdout.isTTY) throw new NotATtyError();

  const { supervisor } = opts;
  const store: AppStore = createAppStore(supervisor, {
    profiles: opts.profiles,
    repoLabel: opts.repoLabel,
    baseBranch: opts.baseBranch,
    size: { cols: stdout.columns || 80, rows: stdout.rows || 24 },
  });
  const screen = alternateScreen(stdout);

  return new Promise<void>((resolve, reject) => {
    let ink: Instance | null = null;
    let busy = false;
    let finished = false;

    const mount = (): void => {
      stdout.write(CLEAR_SCREEN);
      ink = render(
        <StoreProvider store={store}>
          <App />
        </StoreProvider>,
        { stdin, stdout, exitOnCtrlC: false, patchConsole: false },
      );
      ink.waitUntilExit().catch((err: unknown) => void finish('crash', err));
    };
    const unmount = (): void => {
      const i = ink;
      ink = null;
      i?.unmount();
    };

    const finish = async (cause: string, error?: unknown): Promise<void> => {
      if (finished) return;
      finished = true;
      unsubscribe();
      process.off('SIGTERM', onSigterm);
      process.off('SIGHUP', onSighup);
      if (!error && store.getState().lanes.length > 0) store.actions.flash('stopping every lane…');
      let shutdownError: unknown;
      try {
        await supervisor.shutdown(cause);
      } catch (err) {
        shutdownError = err;
      }
      try {
        unmount();
      } catch {
        // the crash that brought us here may have left Ink half torn down
      }
      store.dispose();
      screen.leave();
      if (error ?? shutdownError) reject(error ?? shutdownError);
      else resolve();
    };

    const runAttach = async (lane: string): Promise<void> => {
      busy = true;
      unmount();
      let message: string | undefined;
      try {
        message = (await attachLane({ supervisor, lane, stdin, stdout })).message;
      } catch (err) {
        message = `attach ${lane}: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (finished) return;
      store.actions.attachDone(message);
      mount();
      busy = false;
      check(store.getState());
    };

    const check = (s: AppState): void => {
      if (busy || finished) return;
      if (s.request.quit) void finish('quit');
      else if (s.request.attach) void runAttach(s.request.attach);
    };
    const unsubscribe = store.subscribe(check);
    const onSigterm = (): void => void finish('sigterm');
    const onSighup = (): void => void finish('sighup');
    process.on('SIGTERM', onSigterm);
    process.on('SIGHUP', onSighup);

    try {
      screen.enter();
      mount();
    } catch (err) {
      void finish('crash', err);
    }
  });
}
