/**
 * The engine: the one long-lived process per repo that owns the lanes (ptys, emulators,
 * recording, gates, merge, store). It holds the repo's console lock, runs the supervisor and
 * serves the control socket; every dashboard, `ctl` call and hook is a client of it.
 *
 * - `ao-console serve` runs it in the foreground; a dashboard that finds none starts it in the
 *   background (`serve --background`: its own session, stdio to `<state dir>/engine.log`).
 * - It stops on `engine-stop`, SIGINT/SIGTERM, or after `engine.idleExitMinutes` (config,
 *   default 10; 0: never) with no client and no lane at work (no running agent, no gates or
 *   merge under way). A background engine ignores
 *   SIGHUP (it has no terminal).
 * - Stopping says `bye` to every client, stops every lane cleanly, closes the socket and releases
 *   the lock, in that order.
 */
import { ensureStateDir, socketFile, type RepoPaths } from '../config/paths.js';
import { loadRepoConfig } from '../config/repoConfig.js';
import { acquireLock, type ConsoleLock } from '../control/lock.js';
import { PROTOCOL_VERSION, type EngineStatusData } from '../control/protocol.js';
import { startControlServer, type ControlServer, type EngineHooks } from '../control/server.js';
import { isBusy } from '../lane/rules.js';
import type { LaneState } from '../lane/types.js';
import { startEngineNotifier, type EngineNotifier } from '../notify/notifier.js';
import { checkTrust, decide } from '../trust/trust.js';
import type { SupervisorApi } from '../supervisor/api.js';
import { AO_CONSOLE_VERSION } from './version.js';
import { registerEngine, registryDir } from './registry.js';

import { engineLogPath } from './log.js';

export { ENGINE_LOG_MAX_BYTES, engineLogPath, engineLogger, rotateEngineLog } from './log.js';

export interface EngineOptions {
  repo: RepoPaths;
  /** size of new lanes' terminals until a client resizes them */
  cols: number;
  rows: number;
  env: NodeJS.ProcessEnv;
  mode: EngineStatusData['mode'];
  /** one line for the engine's log */
  log: (line: string) => void;
  /** overrides the config's engine.idleExitMinutes (tests) */
  idleExitMinutes?: number;
  /** how often the idle rule is checked; default a tenth of the idle time, 1 s to 30 s */
  idleCheckMs?: number;
}

export interface Engine {
  readonly supervisor: SupervisorApi;
  readonly server: ControlServer;
  readonly lock: ConsoleLock;
  /** resolves with the cause once the engine has stopped (engine-stop, a signal, idle, a crash) */
  readonly stopped: Promise<string>;
  /** says bye, stops every lane, closes the socket, releases the lock; safe to call twice */
  stop(cause: string): Promise<void>;
}

/** Lanes whose agent process runs now. */
function aliveLanes(sup: SupervisorApi): number {
  return sup.listLanes().filter((l) => l.alive).length;
}

/** Lanes still at work: an agent runs, or gates, a merge or a start are under way (stopping would interrupt them). */
function workingLanes(sup: SupervisorApi): number {
  return sup.listLanes().filter((l) => l.alive || isBusy(l.state)).length;
}

/**
 * Starts the repo's engine: takes the lock (LockHeldError when another engine runs), recovers
 * earlier sessions, and listens on the control socket.
 */
export async function startEngine(opts: EngineOptions): Promise<Engine> {
  const { repo, log } = opts;
  ensureStateDir(repo.stateDir);
  const lock = acquireLock(repo.stateDir);
  const startedAt = Date.now();
  let supervisor: SupervisorApi | undefined;
  let server: ControlServer | undefined;
  let notifier: EngineNotifier | undefined;
  // removes this engine's entry from the per-user registry (lanes/engine/registry.ts)
  let unregister = (): void => {};
  try {
    const config = await loadRepoConfig(repo.root);
    const idleExitMinutes = opts.idleExitMinutes ?? config.engine.idleExitMinutes;
    // Loaded here, not at the top: importing this module costs nothing until an engine starts.
    const { createSupervisor } = await import('../supervisor/supervisor.js');
    const sup = await createSupervisor({
      repoRoot: repo.root,
      stateDir: repo.stateDir,
      cols: opts.cols,
      rows: opts.rows,
      env: opts.env,
    });
    supervisor = sup;
    // Notifications (lanes/notify/): the notify hook and notify-send when a lane needs the operator.
    notifier = startEngineNotifier({
      repoRoot: repo.root,
      supervisor: sup,
      config: config.notify,
      reloadConfig: async () => (await loadRepoConfig(repo.root)).notify,
      trust: async () => decide(checkTrust(repo.root, await loadRepoConfig(repo.root), opts.env)),
      env: opts.env,
      log,
      attachedLanes: () => server?.attachedLanes() ?? new Set<string>(),
    });
    const notes = sup.recoveryNotes;
    for (const note of notes) log(`recovery: ${note}`);

    let resolveStopped!: (cause: string) => void;
    const stopped = new Promise<string>((r) => (resolveStopped = r));
    let stopping: Promise<void> | undefined;
    let idleTimer: NodeJS.Timeout | undefined;
    const stop = (cause: string): Promise<void> => {
      stopping ??= (async () => {
        // Out of the registry first: a client listing engines now should not pick a stopping one.
        unregister();
        if (idleTimer) clearInterval(idleTimer);
        notifier?.dispose();
        log(`stopping (${cause}); ${aliveLanes(sup)} lanes with a running agent`);
        try {
          server?.sayBye(cause);
          await sup.shutdown(cause);
        } finally {
          // the socket goes whatever the shutdown met (its failure is what stop rejects with)
          await server?.close().catch((err: Error) => log(`closing the control socket: ${err.message}`));
          lock.release();
          log('stopped');
          resolveStopped(cause);
        }
      })();
      return stopping;
    };

    const hooks: EngineHooks = {
      version: AO_CONSOLE_VERSION,
      startedAt,
      notes: () => notes,
      log,
      status() {
        const lanes: Partial<Record<LaneState, number>> = {};
        for (const l of sup.listLanes()) lanes[l.state] = (lanes[l.state] ?? 0) + 1;
        return {
          pid: process.pid,
          version: AO_CONSOLE_VERSION,
          protocol: PROTOCOL_VERSION,
          startedAt,
          repo: repo.root,
          stateDir: repo.stateDir,
          socket: server?.socketPath ?? socketFile(repo.stateDir),
          log: engineLogPath(repo.stateDir),
          sessionId: sup.sessionId,
          lanes,
          alive: aliveLanes(sup),
          idleExitMinutes,
          mode: opts.mode,
        };
      },
      stop: (by) => stop(`stopped by ${by}`),
    };
    server = await startControlServer(sup, socketFile(repo.stateDir), { engine: hooks });
    const srv = server;
    log(
      `engine started (pid ${process.pid}, ao-console ${AO_CONSOLE_VERSION}, protocol ${PROTOCOL_VERSION}, ${opts.mode}) ` +
        `for ${repo.root}; socket ${srv.socketPath}`,
    );
    unregister = listInRegistry(srv.socketPath, startedAt, opts);

    // Idle exit: no client and no lane at work (agent, gates, merge) for idleExitMinutes.
    if (idleExitMinutes > 0) {
      const idleMs = idleExitMinutes * 60_000;
      const checkMs = opts.idleCheckMs ?? Math.min(30_000, Math.max(1000, idleMs / 10));
      let idleSince: number | null = null;
      idleTimer = setInterval(() => {
        const idle = srv.connections === 0 && workingLanes(sup) === 0;
        if (!idle) {
          idleSince = null;
          return;
        }
        idleSince ??= Date.now();
        if (Date.now() - idleSince >= idleMs) void stop(`idle for ${idleExitMinutes} min`);
      }, checkMs);
      idleTimer.unref();
    }

    return { supervisor: sup, server: srv, lock, stopped, stop };
  } catch (err) {
    unregister();
    notifier?.dispose();
    await server?.close().catch(() => {});
    if (supervisor) await supervisor.shutdown('startup-failed').catch(() => {});
    lock.release();
    throw err;
  }
}

/**
 * Writes this engine's entry in the per-user registry (`ao-console engines`, the dashboard over
 * every repo) and returns what removes it: on stop, or at process exit after a crash that skipped
 * the stop. A registry that cannot be written costs only the listing, never the engine.
 */
function listInRegistry(socketPath: string, startedAt: number, opts: EngineOptions): () => void {
  const { repo, env, log } = opts;
  let remove: () => void;
  try {
    remove = registerEngine(
      {
        pid: process.pid,
        repoRoot: repo.root,
        stateDir: repo.stateDir,
        socketPath,
        version: AO_CONSOLE_VERSION,
        protocol: PROTOCOL_VERSION,
        startedAt,
      },
      env,
    );
  } catch (err) {
    log(
      `not listed in the engine registry ${registryDir(env)} (${err instanceof Error ? err.message : String(err)}); ` +
        '`ao-console engines` will not show this engine, everything else works',
    );
    return () => {};
  }
  let done = false;
  const onExit = () => unregisterNow();
  function unregisterNow(): void {
    if (done) return;
    done = true;
    process.off('exit', onExit);
    remove();
  }
  process.on('exit', onExit);
  return unregisterNow;
}
