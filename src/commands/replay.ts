/**
 * `ao-console replay [session | lane]`: the replay player in the terminal (no argument: the
 * latest session with lanes). It reads the store read-only, so it runs next to a console that is
 * still writing, and replays sessions that were cut short. Keys: the `replay` scope of the keymap.
 */
import path from 'node:path';
import { createElement } from 'react';
import type { Command } from 'commander';
import { ActionError, type SupervisorApi } from '../../lanes/supervisor/api.js';
import { dbFile } from '../../lanes/config/paths.js';
import { CliError, EXIT, repoOf } from './common.js';

export interface ReplayOptions {
  idleCap: string;
  speed: string;
  play?: boolean;
}

function parseSeconds(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new CliError(`${what} must be a number of seconds ≥ 0, got ${JSON.stringify(value)}`, EXIT.usage);
  return n;
}

/** A SupervisorApi with no engine behind it: the player needs the store, not a console. */
export function offlineSupervisor(sessionId: string, repoRoot: string): SupervisorApi {
  const refuse = (): never => {
    throw new ActionError('this is a replay: no console is running here', 'bad-state');
  };
  return {
    sessionId,
    repoRoot,
    listLanes: () => [],
    getLane: () => undefined,
    screenText: () => [],
    screenAnsi: () => [],
    screenStyled: () => [],
    cursor: () => ({ x: 0, y: 0, visible: false }),
    on: () => () => {},
    shutdown: async () => {},
    newLane: refuse,
    send: refuse,
    resize: refuse,
    syncScreen: refuse,
    attach: refuse,
    handoff: refuse,
    reportWaiting: refuse,
    rerunGates: refuse,
    review: refuse,
    approve: refuse,
    reject: refuse,
    stop: refuse,
    remove: refuse,
    resume: refuse,
    addLearning: refuse,
    listLearnings: refuse,
    tombstoneLearning: refuse,
    editLearning: refuse,
    metrics: refuse,
  };
}

export function registerReplay(program: Command): void {
  program
    .command('replay [target]')
    .description(
      'replay a session or a lane in the terminal (default: the latest session): play, pause, seek, jump between events, switch lanes',
    )
    .option('--idle-cap <seconds>', 'play pauses longer than this as this long (0: real time)', '2')
    .option('--speed <x>', 'start at this speed (0.25 to 16)', '1')
    .option('--play', 'start playing at once')
    .action(async (target: string | undefined, opts: ReplayOptions, cmd: Command) => {
      const idleCapMs = parseSeconds(opts.idleCap, '--idle-cap') * 1000;
      const speed = Number(opts.speed);
      if (!(speed >= 0.25 && speed <= 16))
        throw new CliError(`--speed must be between 0.25 and 16, got ${JSON.stringify(opts.speed)}`, EXIT.usage);
      if (!process.stdin.isTTY || !process.stdout.isTTY) {
        throw new CliError(
          'replay needs an interactive terminal; `ao-console export <lane> --format cast` writes a file to play elsewhere',
          EXIT.usage,
        );
      }
      const repo = await repoOf(cmd);
      const { resolveReplayTarget } = await import('../replay/service.js');
      const { openReplayDb } = await import('../../lanes/recording/reader.js');
      const db = openReplayDb(dbFile(repo.stateDir));
      let resolved;
      try {
        resolved = resolveReplayTarget(db, target);
      } catch (err) {
        throw new CliError((err as Error).message, EXIT.failure);
      } finally {
        db.close();
      }
      await runPlayer({
        repoRoot: repo.root,
        stateDir: repo.stateDir,
        sessionId: resolved.session.id,
        laneId: resolved.laneId,
        idleCapMs,
        speed,
        play: !!opts.play,
      });
    });
}

async function runPlayer(o: {
  repoRoot: string;
  stateDir: string;
  sessionId: string;
  laneId: number;
  idleCapMs: number;
  speed: number;
  play: boolean;
}): Promise<void> {
  const [{ render }, { App }, { StoreProvider }, { createAppStore }, { createReplayService }, modes] =
    await Promise.all([
      import('ink'),
      import('../../components/App.js'),
      import('../../components/StoreContext.js'),
      import('../state/store.js'),
      import('../replay/service.js'),
      import('../ui/terminalModes.js'),
    ]);
  const service = createReplayService(dbFile(o.stateDir));
  const store = createAppStore(offlineSupervisor(o.sessionId, o.repoRoot), {
    repoLabel: path.basename(o.repoRoot),
    refreshMs: 0,
    size: { cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 },
  });
  store.actions.setReplayService(service);
  await store.actions.openReplay(o.laneId, 'command', { idleCapMs: o.idleCapMs, play: o.play });
  const opened = store.getState().overlay;
  if (opened.kind !== 'replay') {
    store.dispose();
    service.close();
    throw new CliError(store.getState().flash?.text ?? 'cannot open the replay', EXIT.failure);
  }
  store.setState({ overlay: { ...opened, view: { ...opened.view, speed: o.speed } } });
  const stdout = process.stdout;
  const leave = (): void =>
    void stdout.write(modes.RESTORE_TERMINAL_MODES + modes.LEAVE_ALT_SCREEN + modes.SHOW_CURSOR);
  process.on('exit', leave);
  stdout.write(modes.ENTER_ALT_SCREEN);
  const ink = render(createElement(StoreProvider, { store, children: createElement(App) }), {
    exitOnCtrlC: false,
    patchConsole: false,
  });
  await new Promise<void>((resolve) => {
    const unsubscribe = store.subscribe((s) => {
      if (!s.request.quit) return;
      unsubscribe();
      resolve();
    });
    process.once('SIGTERM', () => store.actions.closeReplay());
    process.once('SIGHUP', () => store.actions.closeReplay());
  });
  ink.unmount();
  store.dispose();
  service.close();
  leave();
  process.off('exit', leave);
}
