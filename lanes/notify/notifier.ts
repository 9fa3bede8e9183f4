/**
 * The engine's notifier: when a lane needs the operator (lanes/notify/rules.ts decides when),
 * it runs the repo's `notify.command` hook and, with `notify.desktop`, `notify-send`. It runs in
 * the engine, so it fires with no dashboard open.
 *
 * - The hook: argv only, cwd the repo root, one JSON object (NotifyPayload) and a newline on its
 *   stdin, its own process group, killed with the group after 10 s.
 * - notify-send: `notify-send <title> <body>` when it is on PATH, same limits.
 * - The config is read again before each notification (the last good one stays on an error), so
 *   an edit of `.ao/config.json` needs no restart.
 * - Nothing here affects a lane or the engine: a hook that cannot start, fails or hangs is a
 *   line in the engine's log. At most MAX_RUNNING commands run at once; more are skipped (logged).
 * - Lanes the operator is attached to (any client) are skipped.
 * - The hook is the repo's command: it runs only while the operator allows the repo's commands
 *   (lanes/trust/, asked before each run); otherwise it is skipped with a line in the log.
 */
import type { SupervisorApi } from '../supervisor/api.js';
import type { TrustDecision } from '../trust/trust.js';
import { describeOutcome, findOnPath, runCommand, type RunningCommand } from './command.js';
import {
  NOTIFY_COMMAND_TIMEOUT_MS,
  NotifyDecider,
  notificationText,
  notifyPayload,
  startNotifyLoop,
  type Notification,
  type NotifyConfig,
} from './rules.js';

/** Commands (hooks and notify-send) running at once, at most. */
export const MAX_RUNNING = 8;

export interface EngineNotifierOptions {
  repoRoot: string;
  supervisor: Pick<SupervisorApi, 'on'>;
  /** the repo config's `notify` when the engine started */
  config: NotifyConfig;
  /** reads the config again (before each notification); a rejection keeps the last good one */
  reloadConfig?: () => Promise<NotifyConfig>;
  /** the commands' environment (PATH finds notify-send) */
  env: NodeJS.ProcessEnv;
  /** one line for the engine's log */
  log: (line: string) => void;
  /** whether the repo's commands (the hook among them) may run now (lanes/trust/) */
  trust: () => Promise<TrustDecision>;
  /** lanes some client is attached to now */
  attachedLanes?: () => ReadonlySet<string>;
  /** tests: shorter hold, rate window and timeout */
  holdMs?: number;
  rateMs?: number;
  timeoutMs?: number;
}

export interface EngineNotifier {
  /** stops listening and kills every command still running; safe to call twice */
  dispose(): void;
}

export function startEngineNotifier(opts: EngineNotifierOptions): EngineNotifier {
  const { log } = opts;
  const timeoutMs = opts.timeoutMs ?? NOTIFY_COMMAND_TIMEOUT_MS;
  let config = opts.config;
  let disposed = false;
  const running = new Set<RunningCommand>();

  const decider = new NotifyDecider({
    events: () => config.events,
    now: Date.now,
    attached: opts.attachedLanes,
    holdMs: opts.holdMs,
    rateMs: opts.rateMs,
  });

  const run = (what: string, argv: string[], input: string | undefined): void => {
    if (running.size >= MAX_RUNNING) {
      log(`notify: ${what} skipped: ${running.size} notification commands still running`);
      return;
    }
    const cmd = runCommand(argv, { cwd: opts.repoRoot, env: opts.env, input, timeoutMs });
    running.add(cmd);
    void cmd.done.then((outcome) => {
      running.delete(cmd);
      if (outcome.error !== undefined || outcome.timedOut || outcome.code !== 0)
        log(`notify: ${what} ${describeOutcome(outcome, timeoutMs)}`);
    });
  };

  const deliver = async (n: Notification): Promise<void> => {
    if (opts.reloadConfig) {
      try {
        config = await opts.reloadConfig();
      } catch (err) {
        log(`notify: config not read again (the last good one is used): ${(err as Error).message}`);
      }
    }
    if (disposed || !config.events.includes(n.event)) return;
    log(`notify: lane ${n.lane} ${n.event}${n.reason ? ` (${n.reason})` : ''}`);
    const trust = config.command && config.command.length > 0 ? await opts.trust() : undefined;
    if (trust && !trust.allowed) {
      log(`notify: hook ${JSON.stringify(config.command?.[0])} skipped: ${trust.reason}`);
    } else if (config.command && config.command.length > 0) {
      run(
        `hook ${JSON.stringify(config.command[0])}`,
        config.command,
        `${JSON.stringify(notifyPayload(n, opts.repoRoot))}\n`,
      );
    }
    if (config.desktop) {
      if (findOnPath('notify-send', opts.env.PATH)) {
        const { title, body } = notificationText(n);
        // `--`: a body that starts with '-' is text, not an option
        run('notify-send', ['notify-send', '--', title, body], undefined);
      }
    }
  };

  const loop = startNotifyLoop({
    decider,
    subscribe: (listener) => opts.supervisor.on(listener),
    deliver: (n) => void deliver(n).catch((err: unknown) => log(`notify: ${(err as Error).message}`)),
  });

  return {
    dispose() {
      if (disposed) return;
      disposed = true;
      loop.dispose();
      for (const cmd of running) cmd.kill();
      running.clear();
    },
  };
}
