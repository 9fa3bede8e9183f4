/**
 * The dashboard's notifications: when a lane needs the operator (the rules of lanes/notify/rules.ts:
 * which events, debounce, rate limit, sanitizing), this dashboard's own terminal gets the bell
 * (BEL) and a desktop notification escape: OSC 777 (`ESC ] 777 ; notify ; title ; body BEL`) on
 * terminals known for it (VTE-based ones, foot, urxvt), OSC 9 (`ESC ] 9 ; text BEL`) elsewhere
 * (iTerm2, WezTerm, kitty, Windows Terminal, ghostty; ignored by terminals without it). Inside
 * tmux (TMUX set) the OSC goes through tmux's passthrough (`ESC P tmux ; … ESC \`, every ESC
 * doubled; tmux 3.3+ needs `set -g allow-passthrough on`); the bell goes to tmux itself.
 *
 * Written only while the dashboard draws: in attach mode the terminal belongs to the lane, so
 * what falls due then waits and is written after detaching, if its lane is still in that state.
 * The lane attached to is skipped. `notify.events` of the repo config selects the kinds.
 */
import { loadRepoConfig } from '../../lanes/config/repoConfig.js';
import {
  DEFAULT_NOTIFY_EVENTS,
  NotifyDecider,
  notificationText,
  sanitizeText,
  startNotifyLoop,
  type Notification,
  type NotifyEvent,
} from '../../lanes/notify/rules.js';
import type { SupervisorApi } from '../../lanes/supervisor/api.js';

const ESC = '\x1b';
const BEL = '\x07';

/** Which desktop notification escape this terminal understands (by its environment). */
export function oscKind(env: NodeJS.ProcessEnv): 9 | 777 {
  const term = env.TERM ?? '';
  if (env.VTE_VERSION || /^(foot|rxvt)/.test(term)) return 777;
  return 9;
}

/** Wraps an escape sequence for tmux's passthrough (every ESC doubled). */
export function tmuxPassthrough(seq: string): string {
  return `${ESC}Ptmux;${seq.split(ESC).join(ESC + ESC)}${ESC}\\`;
}

/** The bytes that ring and notify for `n` on a terminal with this environment. */
export function terminalNotification(n: Notification, env: NodeJS.ProcessEnv): string {
  const { title, body } = notificationText(n);
  // sanitized again: nothing in a text may end the OSC string early; in OSC 777 ';' separates fields
  const t = sanitizeText(title);
  const b = sanitizeText(body);
  const osc =
    oscKind(env) === 777 ? `${ESC}]777;notify;${t.replace(/;/g, ',')};${b}${BEL}` : `${ESC}]9;${t}: ${b}${BEL}`;
  return BEL + (env.TMUX ? tmuxPassthrough(osc) : osc);
}

export interface TerminalNotifierOptions {
  supervisor: Pick<SupervisorApi, 'on' | 'getLane' | 'repoRoot'>;
  stdout: { write(data: string): boolean };
  env: NodeJS.ProcessEnv;
  /** the kinds to notify; default: read from the repo config (the defaults until it is read, or when it is bad) */
  events?: readonly NotifyEvent[];
  /** tests: shorter hold and rate window */
  holdMs?: number;
  rateMs?: number;
}

export interface TerminalNotifier {
  /** the dashboard entered attach mode for `lane` (nothing is written), or left it (null) */
  setAttached(lane: string | null): void;
  dispose(): void;
}

export function startTerminalNotifier(opts: TerminalNotifierOptions): TerminalNotifier {
  let events: readonly NotifyEvent[] = opts.events ?? DEFAULT_NOTIFY_EVENTS;
  let attached: string | null = null;
  let disposed = false;
  /** due while attached: written after detaching */
  const held = new Map<string, Notification>();

  if (!opts.events) {
    loadRepoConfig(opts.supervisor.repoRoot).then(
      (c) => (events = c.notify.events),
      () => {}, // a bad config is reported elsewhere; the defaults stay
    );
  }

  const write = (n: Notification): void => {
    try {
      opts.stdout.write(terminalNotification(n, opts.env));
    } catch {
      // the terminal is gone
    }
  };

  const decider = new NotifyDecider({
    events: () => events,
    now: Date.now,
    attached: () => (attached === null ? [] : [attached]),
    holdMs: opts.holdMs,
    rateMs: opts.rateMs,
  });
  const loop = startNotifyLoop({
    decider,
    subscribe: (l) => opts.supervisor.on(l),
    deliver: (n) => {
      if (disposed) return;
      if (attached === null) write(n);
      else held.set(`${n.lane}\0${n.event}`, n);
    },
  });

  return {
    setAttached(lane) {
      attached = lane;
      if (lane !== null || disposed) return;
      for (const n of held.values()) {
        if (opts.supervisor.getLane(n.lane)?.state === n.state) write(n);
      }
      held.clear();
    },
    dispose() {
      disposed = true;
      held.clear();
      loop.dispose();
    },
  };
}
