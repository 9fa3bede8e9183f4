/**
 * When a lane needs the operator, and what the notification says: the one place for the rules
 * that the engine's notifier (lanes/notify/notifier.ts: the hook command, notify-send) and each
 * dashboard's terminal notifier (src/ui/notifyTerminal.ts: bell, OSC 9 / 777) share.
 *
 * - A notification kind is a lane-state event into a state that needs the operator:
 *   waiting-input, awaiting-approval (from the gates), merge-failed (a merge refused, back to
 *   awaiting approval with git's reason) and failed; or a lane's budget (`budget` events of the
 *   usage tracker, lanes/usage/tracker.ts: 80% used, or paused at 100%), given at once, with no
 *   hold (the tracker tells each limit once). `notify.events` selects the kinds.
 * - Debounced: the lane must hold the state for `holdMs` (default 1 s); any state change before
 *   that cancels it, so a lane flapping between busy and waiting rings not at all until it settles.
 * - Rate-limited: at most one notification per lane per kind per `rateMs` (default 30 s); one
 *   that comes sooner waits for the window to pass and is dropped if the lane moves on.
 * - A lane that stays in the state rings once (a notification is taken out when it is given).
 * - A lane the operator is attached to is skipped (they are looking at it).
 * - Every text is sanitized: no control characters, escape sequences or bidi overrides from lane
 *   names or reasons reach a terminal, a desktop notification or a hook; bounded in length.
 *
 * Pure: the clock is injected; nothing here runs a timer or a process.
 */
import type { LaneState } from '../lane/types.js';
import type { SupervisorEvent } from '../supervisor/api.js';

export const NOTIFY_EVENTS = ['waiting-input', 'awaiting-approval', 'merge-failed', 'failed', 'budget'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
/** The kinds notified when the config names none. */
export const DEFAULT_NOTIFY_EVENTS: readonly NotifyEvent[] = NOTIFY_EVENTS;

/** How long a lane must hold the state before it is notified. */
export const NOTIFY_HOLD_MS = 1000;
/** At most one notification per lane per kind in this window. */
export const NOTIFY_RATE_MS = 30_000;
/** The hook command (and notify-send) is killed, with its whole process group, after this. */
export const NOTIFY_COMMAND_TIMEOUT_MS = 10_000;
/** Longest reason (in characters) a notification carries. */
export const NOTIFY_TEXT_MAX = 200;

/** `notify` of the repo config (lanes/config/repoConfig.ts), defaults filled in. */
export interface NotifyConfig {
  /** argv of the hook command (no shell); none: no hook */
  command?: string[];
  events: NotifyEvent[];
  /** the engine also sends desktop notifications with notify-send */
  desktop: boolean;
}

export const DEFAULT_NOTIFY_CONFIG: NotifyConfig = { events: [...DEFAULT_NOTIFY_EVENTS], desktop: false };

/** One notification: a lane needs the operator. Every text in it is sanitized. */
export interface Notification {
  event: NotifyEvent;
  lane: string;
  state: LaneState;
  /** why (the state change's cause), sanitized; may be empty */
  reason: string;
  /** ms since the epoch, when it was given */
  time: number;
}

/** The JSON object a hook command reads on its stdin. */
export interface NotifyPayload {
  event: NotifyEvent;
  lane: string;
  state: LaneState;
  reason: string;
  /** the repo's top level */
  repo: string;
  /** ISO 8601 */
  time: string;
}

// Escape sequences: CSI, OSC / DCS / APC / PM / SOS strings (to BEL or ST), any other ESC + one char.
const ESCAPE_SEQUENCES =
  /\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[\s\S]?|\x9b[0-?]*[ -/]*[@-~]?/g;
// C0, DEL, C1, and the invisible formatting characters that can reorder or hide text.
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Text safe to show anywhere: escape sequences removed, control and bidi characters turned into
 * spaces, whitespace collapsed, at most `max` characters (an ellipsis marks a cut).
 */
export function sanitizeText(text: string, max = NOTIFY_TEXT_MAX): string {
  const clean = text.replace(ESCAPE_SEQUENCES, ' ').replace(CONTROLS, ' ').replace(/\s+/g, ' ').trim();
  const chars = Array.from(clean);
  if (chars.length <= max) return clean;
  return `${chars
    .slice(0, Math.max(0, max - 1))
    .join('')
    .trimEnd()}…`;
}

/** The notification kind of a supervisor event, or null when it needs nobody. */
export function notifyEventOf(ev: SupervisorEvent): NotifyEvent | null {
  if (ev.type === 'budget') return 'budget';
  if (ev.type !== 'lane-state') return null;
  switch (ev.to) {
    case 'waiting-input':
      return 'waiting-input';
    case 'failed':
      return 'failed';
    case 'awaiting-approval':
      return ev.from === 'merging' ? 'merge-failed' : 'awaiting-approval';
    default:
      return null;
  }
}

const LABELS: Record<NotifyEvent, string> = {
  'waiting-input': 'waits for input',
  'awaiting-approval': 'awaits approval',
  'merge-failed': 'merge failed',
  failed: 'failed',
  budget: 'reached a budget limit',
};

/** A short title and body for a desktop notification (sanitized, like everything here). */
export function notificationText(n: Notification): { title: string; body: string } {
  const title = sanitizeText(`ao-console: lane ${n.lane} ${LABELS[n.event]}`, 80);
  return { title, body: n.reason || LABELS[n.event] };
}

/** The hook command's stdin object. */
export function notifyPayload(n: Notification, repo: string): NotifyPayload {
  return {
    event: n.event,
    lane: n.lane,
    state: n.state,
    reason: n.reason,
    repo,
    time: new Date(n.time).toISOString(),
  };
}

export interface NotifyDeciderOptions {
  /** the kinds to notify (read at each event: a reloaded config applies at once) */
  events: () => readonly NotifyEvent[];
  /** the clock (ms) */
  now: () => number;
  /** lanes the operator is attached to now: skipped */
  attached?: () => ReadonlySet<string> | readonly string[];
  holdMs?: number;
  rateMs?: number;
}

interface Pending {
  event: NotifyEvent;
  state: LaneState;
  reason: string;
  since: number;
}

/**
 * The decision part: feed it supervisor events (`observe`), ask it what is due (`take`) at or
 * after `nextAt()`. Knows nothing of timers or processes.
 */
export class NotifyDecider {
  /** per lane: the state it entered that may need a notification */
  private readonly pending = new Map<string, Pending>();
  /** `lane\0event` → when it was last notified */
  private readonly sent = new Map<string, number>();
  /** budget notifications: given at the next take, no hold */
  private readonly urgent: Notification[] = [];
  private readonly holdMs: number;
  private readonly rateMs: number;

  constructor(private readonly opts: NotifyDeciderOptions) {
    this.holdMs = opts.holdMs ?? NOTIFY_HOLD_MS;
    this.rateMs = opts.rateMs ?? NOTIFY_RATE_MS;
  }

  /** A supervisor event: a lane's state change starts (or cancels) its pending notification. */
  observe(ev: SupervisorEvent): void {
    if (ev.type === 'budget') {
      if (!this.opts.events().includes('budget')) return;
      const reason = sanitizeText(ev.message);
      this.urgent.push({ event: 'budget', lane: sanitizeText(ev.lane, 80), state: ev.state, reason, time: 0 });
      return;
    }
    if (ev.type !== 'lane-state') return;
    // Any state change ends what the lane was held for.
    this.pending.delete(ev.lane);
    const event = notifyEventOf(ev);
    if (event === null || !this.opts.events().includes(event)) return;
    this.pending.set(ev.lane, { event, state: ev.to, reason: sanitizeText(ev.cause), since: this.opts.now() });
  }

  /** Drops a lane's pending notification (it is gone, or its state is known to be another). */
  forget(lane: string): void {
    this.pending.delete(lane);
  }

  /** When the next pending notification may be due (ms on the injected clock); null: none pending. */
  nextAt(): number | null {
    if (this.urgent.length > 0) return this.opts.now();
    let next: number | null = null;
    for (const [lane, p] of this.pending) {
      const at = this.dueAt(lane, p);
      if (next === null || at < next) next = at;
    }
    return next;
  }

  /** Takes out the notifications due now (held long enough, outside the rate window, not attached). */
  take(): Notification[] {
    const now = this.opts.now();
    for (const [key, at] of this.sent) if (now - at >= this.rateMs) this.sent.delete(key);
    const attached = new Set(this.opts.attached?.() ?? []);
    const events = this.opts.events();
    const due: Notification[] = this.urgent.splice(0).map((n) => ({ ...n, time: now }));
    for (const [lane, p] of this.pending) {
      if (this.dueAt(lane, p) > now) continue;
      this.pending.delete(lane);
      if (attached.has(lane) || !events.includes(p.event)) continue;
      this.sent.set(sentKey(lane, p.event), now);
      due.push({ event: p.event, lane: sanitizeText(lane, 80), state: p.state, reason: p.reason, time: now });
    }
    return due;
  }

  private dueAt(lane: string, p: Pending): number {
    const last = this.sent.get(sentKey(lane, p.event));
    const held = p.since + this.holdMs;
    return last === undefined ? held : Math.max(held, last + this.rateMs);
  }
}

const sentKey = (lane: string, event: NotifyEvent): string => `${lane}\0${event}`;

/** Runs a decider on real timers: observes the supervisor's events, delivers what becomes due. */
export interface NotifyLoop {
  /** checks again now (e.g. after the attached lanes changed) */
  poke(): void;
  dispose(): void;
}

export function startNotifyLoop(opts: {
  decider: NotifyDecider;
  subscribe: (listener: (ev: SupervisorEvent) => void) => () => void;
  deliver: (n: Notification) => void;
  /** the decider's clock (default Date.now) */
  now?: () => number;
}): NotifyLoop {
  const { decider } = opts;
  const now = opts.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let disposed = false;
  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (disposed) return;
    const at = decider.nextAt();
    if (at === null) return;
    timer = setTimeout(fire, Math.max(0, at - now()));
    timer.unref();
  };
  const fire = (): void => {
    timer = undefined;
    if (disposed) return;
    for (const n of decider.take()) {
      try {
        opts.deliver(n);
      } catch {
        // a notification never breaks the loop
      }
    }
    schedule();
  };
  const off = opts.subscribe((ev) => {
    if (ev.type !== 'lane-state' && ev.type !== 'budget') return;
    decider.observe(ev);
    schedule();
  });
  return {
    poke: () => fire(),
    dispose() {
      disposed = true;
      off();
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
