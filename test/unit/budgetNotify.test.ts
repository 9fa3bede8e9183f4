/**
 * The `budget` notification kind (lanes/notify/rules.ts): the usage tracker's budget events
 * (lanes/usage/tracker.ts: 80% used, paused at 100%) notify at once, with no hold, when
 * `notify.events` has `budget` (it does by default), sanitized like every notification.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_NOTIFY_EVENTS,
  NotifyDecider,
  notificationText,
  notifyEventOf,
  type NotifyEvent,
} from '../../lanes/notify/rules.js';
import type { SupervisorEvent } from '../../lanes/supervisor/api.js';

function decider(events: readonly NotifyEvent[] = DEFAULT_NOTIFY_EVENTS) {
  let t = 1_000_000;
  const d = new NotifyDecider({ events: () => events, now: () => t });
  return { d, advance: (ms: number) => (t += ms), now: () => t };
}

const budget = (message: string, level: 'warning' | 'paused' = 'warning'): SupervisorEvent => ({
  type: 'budget',
  lane: 'spend',
  state: 'running',
  level,
  message,
});

describe('budget notifications', () => {
  it('are a notification kind, on by default', () => {
    expect(DEFAULT_NOTIFY_EVENTS).toContain('budget');
    expect(notifyEventOf(budget('x'))).toBe('budget');
  });

  it('are due at once (no hold), each given once, beside a pending state notification', () => {
    const { d, advance, now } = decider();
    d.observe({ type: 'lane-state', lane: 'spend', from: 'running', to: 'waiting-input', cause: 'asks' });
    d.observe(budget('has used 81% of its lane budget ($0.81 of $1.00)'));
    expect(d.nextAt()).toBe(now());
    const due = d.take();
    expect(due).toEqual([
      {
        event: 'budget',
        lane: 'spend',
        state: 'running',
        reason: 'has used 81% of its lane budget ($0.81 of $1.00)',
        time: now(),
      },
    ]);
    expect(d.take()).toEqual([]);
    advance(1000); // the waiting-input one still comes after its hold
    expect(d.take().map((n) => n.event)).toEqual(['waiting-input']);
    expect(notificationText(due[0]).title).toBe('ao-console: lane spend reached a budget limit');
  });

  it('are not given when notify.events leaves them out; their text is sanitized', () => {
    const off = decider(['waiting-input']);
    off.d.observe(budget('x'));
    expect(off.d.nextAt()).toBeNull();
    expect(off.d.take()).toEqual([]);
    const on = decider();
    on.d.observe(budget('budget reached\x1b]0;evil\x07 now', 'paused'));
    expect(on.d.take()[0].reason).toBe('budget reached now');
  });
});
