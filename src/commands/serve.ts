/**
 * `ao-console serve`: the engine and the control socket without the dashboard, in the
 * foreground. Supervisor events are printed as JSON lines on stdout; SIGINT/SIGTERM stop every
 * lane cleanly and exit 0. Also home of startConsole, which the dashboard shares.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { SupervisorApi } from '../../lanes/supervisor/api.js';
import { startControlServer, type ControlServer } from '../../lanes/control/server.js';
import { acquireLock, LockHeldError, type ConsoleLock } from '../../lanes/control/lock.js';
import { ensureStateDir, socketFile, type RepoPaths } from '../../lanes/config/paths.js';
import { CliError, EXIT, repoOf } from './common.js';

export const DEFAULT_COLS = 120;
export const DEFAULT_ROWS = 40;

export interface RunningConsole {
  supervisor: SupervisorApi;
  server: ControlServer;
  lock: ConsoleLock;
  /** shuts the supervisor down, closes the socket and releases the lock; safe to call twice */
  stop(cause: string): Promise<void>;
}

/**
 * Takes the repo's console lock (refusing when another console runs), creates the supervisor
 * (which recovers earlier sessions) and starts the control socket.
 */
export async function startConsole(repo: RepoPaths, size: { cols: number; rows: number }): Promise<RunningConsole> {
  ensureStateDir(repo.stateDir);
  let lock: ConsoleLock;
  try {
    lock = acquireLock(repo.stateDir);
  } catch (err) {
    if (err instanceof LockHeldError) throw new CliError(err.message, EXIT.failure);
    throw err;
  }
  let supervisor: SupervisorApi | undefined;
  try {
    // Loaded here, not at the top: `ctl` and the read-only commands never pay for the engine.
    const { createSupervisor } = await import('../../lanes/supervisor/supervisor.js');
    supervisor = await createSupervisor({
      repoRoot: repo.root,
      stateDir: repo.stateDir,
      cols: size.cols,
      rows: size.rows,
      env: process.env,
    });
    const server = await startControlServer(supervisor, socketFile(repo.stateDir));
    let stopping: Promise<void> | undefined;
    const sup = supervisor;
    return {
      supervisor: sup,
      server,
      lock,
      stop(cause) {
        stopping ??= (async () => {
          try {
            await server.close();
            await sup.shutdown(cause);
          } finally {
            lock.release();
          }
        })();
        return stopping;
      },
    };
  } catch (err) {
    if (supervisor) await supervisor.shutdown('startup-failed').catch(() => {});
    lock.release();
    throw err;
  }
}

function parseSize(what: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${what} must be a whole number from ${min} to ${max}`);
    return n;
  };
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'run the console without the dashboard: the engine and the control socket, events as JSON lines on stdout',
    )
    .option('--cols <n>', 'width of lane terminals', parseSize('--cols', 20, 1000), DEFAULT_COLS)
    .option('--rows <n>', 'height of lane terminals', parseSize('--rows', 5, 500), DEFAULT_ROWS)
    .addHelpText(
      'after',
      `
The first line on stdout is {"type":"ready",...}; every later line is one supervisor event
with a "t" (epoch ms). SIGINT or SIGTERM stops every lane cleanly and exits 0; a second
signal exits at once (the next start recovers the lanes). Messages go to stderr.
Only one console (dashboard or serve) runs per repo; a second one exits 1 naming the first's pid.`,
    )
    .action(async (opts: { cols: number; rows: number }, cmd: Command) => {
      const repo = await repoOf(cmd);
      const console_ = await startConsole(repo, opts);
      const { supervisor, server } = console_;
      const emit = (obj: object) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...obj })}\n`);
      supervisor.on((ev) => emit(ev));
      emit({
        type: 'ready',
        pid: process.pid,
        sessionId: supervisor.sessionId,
        repo: repo.root,
        socket: server.socketPath,
      });
      process.stderr.write(
        `ao-console serving ${repo.root} (pid ${process.pid}, socket ${server.socketPath}); Ctrl-C stops\n`,
      );
      // A bug that escapes the engine still stops the lanes and frees the lock; exit 1.
      const onFatal = (err: unknown) => {
        process.stderr.write(`ao-console: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        emit({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
        const force = setTimeout(() => process.exit(EXIT.failure), 10_000);
        force.unref();
        console_.stop('crash').finally(() => process.exit(EXIT.failure));
      };
      process.once('uncaughtException', onFatal);
      process.once('unhandledRejection', onFatal);
      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (sig: NodeJS.Signals) => {
          signals++;
          if (signals > 1) {
            process.stderr.write(`ao-console: second ${sig}, exiting without a clean stop\n`);
            console_.lock.release();
            process.exit(EXIT.failure);
          }
          process.stderr.write(`ao-console: ${sig}, stopping every lane\n`);
          console_.stop('signal').then(resolve, (err: unknown) => {
            process.stderr.write(`ao-console: shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`);
            process.exitCode = EXIT.failure;
            resolve();
          });
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      emit({ type: 'stopped' });
      // Lanes are stopped and the store closed; do not wait on a handle some library left open.
      process.exit(process.exitCode ?? EXIT.ok);
    });
}
