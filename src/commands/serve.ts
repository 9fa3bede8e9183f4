/**
 * `ao-console serve`: the repo's engine (lanes/engine/engine.ts) in the foreground, events as
 * JSON lines on stdout; `serve --background` is how a dashboard starts it detached (no events,
 * every line to `<state dir>/engine.log`). SIGINT/SIGTERM stop every lane cleanly and exit 0.
 */
import { Command, InvalidArgumentError } from 'commander';
import { LockHeldError } from '../../lanes/control/lock.js';
import type { Engine, EngineOptions } from '../../lanes/engine/engine.js';
import { engineLogger } from '../../lanes/engine/log.js';
import { emulatorWorkerLimit } from '../../lanes/terminal/remoteTerminal.js';
import type { RepoPaths } from '../../lanes/config/paths.js';
import { CliError, EXIT, repoOf } from './common.js';

export const DEFAULT_COLS = 120;
export const DEFAULT_ROWS = 40;

/** Starts the repo's engine in this process; another engine running is a CliError (exit 1). */
export async function startConsole(repo: RepoPaths, opts: Partial<Omit<EngineOptions, 'repo'>> = {}): Promise<Engine> {
  // The engine (supervisor, store, ptys, emulators) loads only when one starts: every other
  // command, the dashboard first, starts without it.
  const { startEngine } = await import('../../lanes/engine/engine.js');
  try {
    return await startEngine({
      repo,
      cols: opts.cols ?? DEFAULT_COLS,
      rows: opts.rows ?? DEFAULT_ROWS,
      env: opts.env ?? process.env,
      mode: opts.mode ?? 'foreground',
      log: opts.log ?? engineLogger(repo.stateDir),
      idleExitMinutes: opts.idleExitMinutes,
    });
  } catch (err) {
    if (err instanceof LockHeldError) throw new CliError(err.message, EXIT.failure);
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
      "run the repo's engine in the foreground (the lanes, the control socket), events as JSON lines on stdout",
    )
    .option('--cols <n>', 'width of lane terminals', parseSize('--cols', 20, 1000), DEFAULT_COLS)
    .option('--rows <n>', 'height of lane terminals', parseSize('--rows', 5, 500), DEFAULT_ROWS)
    .addHelpText(
      'after',
      `
The first line on stdout is {"type":"ready",...}; every later line is one supervisor event
with a "t" (epoch ms). SIGINT or SIGTERM stops every lane cleanly and exits 0; a second
signal exits at once (the next start recovers the lanes). Messages go to stderr and to
<state dir>/engine.log. Dashboards and \`ctl\` are clients of it. Only one engine runs per repo;
a second one exits 1 naming the first's pid. The engine exits on its own after
engine.idleExitMinutes (.ao/config.json, default 10, 0: never) with no client, no running
agent and no lane gating, merging or queued. --background is what a dashboard uses to start one: no events, every line to the log.`,
    )
    .option('--background', 'run as a background engine: no events on stdout, every line to the engine log')
    .action(async (opts: { cols: number; rows: number; background?: boolean }, cmd: Command) => {
      const repo = await repoOf(cmd);
      // a bad AO_EMULATOR_WORKERS stops the engine here, not its first lane
      try {
        emulatorWorkerLimit();
      } catch (err) {
        throw new CliError((err as Error).message, EXIT.usage);
      }
      const background = !!opts.background;
      const fileLog = engineLogger(repo.stateDir);
      const log = background
        ? fileLog
        : (line: string) => (process.stderr.write(`ao-console: ${line}\n`), fileLog(line));
      const engine = await startConsole(repo, {
        cols: opts.cols,
        rows: opts.rows,
        mode: background ? 'background' : 'foreground',
        log,
      });
      const { supervisor, server } = engine;
      const emit = (obj: object) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...obj })}\n`);
      if (background) {
        // No terminal: a hangup is not ours (a dashboard's window closing), and a broken stdout is no reason to die.
        process.on('SIGHUP', () => log('SIGHUP ignored (a background engine has no terminal)'));
        for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
      }
      // A bug that escapes the engine still stops the lanes and frees the lock; exit 1.
      const onFatal = (err: unknown) => {
        log(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        if (!background) emit({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
        const force = setTimeout(() => process.exit(EXIT.failure), 10_000);
        force.unref();
        engine.stop('crash').finally(() => process.exit(EXIT.failure));
      };
      process.once('uncaughtException', onFatal);
      process.once('unhandledRejection', onFatal);
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          log(`second ${sig}, exiting without a clean stop`);
          engine.lock.release();
          process.exit(EXIT.failure);
        }
        log(`${sig}, stopping every lane`);
        engine.stop(sig).catch((err: unknown) => {
          log(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
          process.exitCode = EXIT.failure;
        });
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      // Ready only now: a signal sent on seeing it finds the handlers in place (before them, the
      // default action would kill the process without stopping the lanes).
      if (!background) {
        supervisor.on((ev) => emit(ev));
        emit({
          type: 'ready',
          pid: process.pid,
          sessionId: supervisor.sessionId,
          repo: repo.root,
          socket: server.socketPath,
        });
      }
      await engine.stopped;
      if (!background) emit({ type: 'stopped' });
      // Lanes are stopped and the store closed; do not wait on a handle some library left open.
      process.exit(process.exitCode ?? EXIT.ok);
    });
}
