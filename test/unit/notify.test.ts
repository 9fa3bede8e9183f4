/**
 * Notifications (lanes/notify/rules.ts, src/ui/notifyTerminal.ts, the `notify` config):
 *
 * - the decision part on an injected clock: debounce, flapping, a lane that stays waiting rings
 *   once, the rate window, the events filter, attached lanes skipped, merge-failed;
 * - sanitizing: no escape sequence, control or bidi character survives; bounded;
 * - the terminal bytes: bell + OSC 9 / OSC 777, tmux passthrough;
 * - the config: defaults, values, errors that name the field;
 * - the dashboard (runDashboard on a fake terminal): bell and OSC when a lane waits, nothing
 *   while attached, what fell due then written after detaching.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseRepoConfig } from '../../lanes/config/repoConfig.js';
import type { LaneState } from '../../lanes/lane/types.js';
import {
  DEFAULT_NOTIFY_EVENTS,
  NOTIFY_HOLD_MS,
  NOTIFY_RATE_MS,
  NotifyDecider,
  notificationText,
  notifyEventOf,
  notifyPayload,
  sanitizeText,
  type Notification,
  type NotifyEvent,
} from '../../lanes/notify/rules.js';
import type { SupervisorEvent } from '../../lanes/supervisor/api.js';
import { oscKind, startTerminalNotifier, terminalNotification, tmuxPassthrough } from '../../src/ui/notifyTerminal.js';
import { runDashboard } from '../../src/ui/runDashboard.js';
import { FakeSupervisor, makeLane, plain, sleep, TestStdin, TestStdout } from '../components/harness.js';
import { waitFor } from '../helpers/waitFor.js';

// ------------------------------------------------------------------ the decision part

class Clock {
  t = 1_000_000;
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

function setup(opts: { events?: NotifyEvent[]; attached?: string[] } = {}) {
  const clock = new Clock();
  const attached = new Set(opts.attached ?? []);
  const decider = new NotifyDecider({
    events: () => opts.events ?? DEFAULT_NOTIFY_EVENTS,
    now: clock.now,
    attached: () => attached,
  });
  const states = new Map<string, LaneState>();
  const move = (lane: string, to: LaneState, cause = 'test'): void => {
    const from = states.get(lane) ?? 'running';
    states.set(lane, to);
    decider.observe({ type: 'lane-state', lane, from, to, cause });
  };
  return { clock, decider, move, attached };
}

const laneState = (lane: string, from: LaneState, to: LaneState, cause = 'c'): SupervisorEvent => ({
  type: 'lane-state',
  lane,
  from,
  to,
  cause,
});

describe('the notification kinds', () => {
  it('waiting-input, awaiting-approval (from gating), merge-failed (merging → awaiting-approval), failed; nothing else', () => {
    expect(notifyEventOf(laneState('a', 'running', 'waiting-input'))).toBe('waiting-input');
    expect(notifyEventOf(laneState('a', 'gating', 'awaiting-approval'))).toBe('awaiting-approval');
    expect(notifyEventOf(laneState('a', 'merging', 'awaiting-approval'))).toBe('merge-failed');
    expect(notifyEventOf(laneState('a', 'gating', 'failed'))).toBe('failed');
    for (const to of ['running', 'idle', 'gating', 'merging', 'merged', 'stopped', 'queued'] as LaneState[])
      expect(notifyEventOf(laneState('a', 'running', to))).toBeNull();
    expect(notifyEventOf({ type: 'lane-created', lane: 'a' })).toBeNull();
    expect(notifyEventOf({ type: 'error', lane: 'a', message: 'x' })).toBeNull();
  });
});

describe('NotifyDecider', () => {
  it('debounces: nothing before the state held for the hold time, one notification after', () => {
    const { clock, decider, move } = setup();
    move('a', 'waiting-input', 'asks: Allow write?');
    expect(decider.take()).toEqual([]);
    expect(decider.nextAt()).toBe(clock.t + NOTIFY_HOLD_MS);
    clock.advance(NOTIFY_HOLD_MS - 1);
    expect(decider.take()).toEqual([]);
    clock.advance(1);
    const got = decider.take();
    expect(got).toEqual([
      { event: 'waiting-input', lane: 'a', state: 'waiting-input', reason: 'asks: Allow write?', time: clock.t },
    ]);
    expect(decider.nextAt()).toBeNull();
  });

  it('a lane that stays waiting rings once', () => {
    const { clock, decider, move } = setup();
    move('a', 'waiting-input');
    clock.advance(NOTIFY_HOLD_MS);
    expect(decider.take()).toHaveLength(1);
    for (let i = 0; i < 20; i++) {
      clock.advance(60_000);
      expect(decider.take()).toEqual([]);
    }
  });

  it('a lane flapping between busy and waiting rings not while it flaps, once when it settles', () => {
    const { clock, decider, move } = setup();
    let rings = 0;
    for (let i = 0; i < 50; i++) {
      move('a', 'waiting-input');
      clock.advance(300);
      rings += decider.take().length;
      move('a', 'running');
      clock.advance(300);
      rings += decider.take().length;
    }
    expect(rings).toBe(0);
    move('a', 'waiting-input');
    clock.advance(NOTIFY_HOLD_MS);
    expect(decider.take()).toHaveLength(1);
  });

  it('rate limit: at most one per lane per kind per window; a later one waits for the window, dropped if the lane moves on', () => {
    const { clock, decider, move } = setup();
    move('a', 'waiting-input');
    clock.advance(NOTIFY_HOLD_MS);
    expect(decider.take()).toHaveLength(1);
    const first = clock.t;
    // flaps with holds long enough to count, ten times within the window: no ring
    let rings = 0;
    for (let i = 0; i < 10; i++) {
      move('a', 'running');
      clock.advance(500);
      move('a', 'waiting-input');
      clock.advance(2000);
      rings += decider.take().length;
    }
    expect(rings).toBe(0);
    // still waiting: rings once the window has passed
    expect(decider.nextAt()).toBe(first + NOTIFY_RATE_MS);
    clock.t = first + NOTIFY_RATE_MS;
    expect(decider.take()).toHaveLength(1);
    // in the next window it leaves the state before it ends: nothing
    move('a', 'running');
    clock.advance(100);
    move('a', 'waiting-input');
    clock.advance(NOTIFY_HOLD_MS);
    expect(decider.take()).toEqual([]);
    move('a', 'running');
    clock.advance(NOTIFY_RATE_MS * 2);
    expect(decider.take()).toEqual([]);
    expect(decider.nextAt()).toBeNull();
  });

  it('kinds and lanes are limited apart: another kind or another lane is not held back', () => {
    const { clock, decider, move } = setup();
    move('a', 'waiting-input');
    move('b', 'waiting-input');
    clock.advance(NOTIFY_HOLD_MS);
    expect(
      decider
        .take()
        .map((n) => n.lane)
        .sort(),
    ).toEqual(['a', 'b']);
    move('a', 'failed', 'the agent exited with code 3');
    clock.advance(NOTIFY_HOLD_MS);
    expect(decider.take()).toMatchObject([{ lane: 'a', event: 'failed', reason: 'the agent exited with code 3' }]);
  });

  it('the events filter selects the kinds; merge-failed is its own kind', () => {
    const { clock, decider, move } = setup({ events: ['failed', 'merge-failed'] });
    move('a', 'waiting-input');
    move('b', 'gating');
    move('b', 'awaiting-approval');
    move('c', 'merging');
    move('c', 'awaiting-approval', 'conflict in README.md');
    move('d', 'failed', 'spawn failed');
    clock.advance(NOTIFY_HOLD_MS);
    expect(decider.take().map((n) => `${n.lane}:${n.event}:${n.state}`)).toEqual([
      'c:merge-failed:awaiting-approval',
      'd:failed:failed',
    ]);
  });

  it('an empty events list notifies nothing', () => {
    const { clock, decider, move } = setup({ events: [] });
    move('a', 'waiting-input');
    move('b', 'failed');
    clock.advance(NOTIFY_HOLD_MS * 10);
    expect(decider.take()).toEqual([]);
  });

  it('a lane the operator is attached to is skipped, and not notified after detaching', () => {
    const { clock, decider, move, attached } = setup({ attached: ['a'] });
    move('a', 'waiting-input');
    move('b', 'waiting-input');
    clock.advance(NOTIFY_HOLD_MS);
    expect(decider.take().map((n) => n.lane)).toEqual(['b']);
    attached.clear();
    clock.advance(NOTIFY_RATE_MS);
    expect(decider.take()).toEqual([]);
    // a new wait after detaching is notified
    move('a', 'running');
    move('a', 'waiting-input');
    clock.advance(NOTIFY_HOLD_MS);
    expect(decider.take().map((n) => n.lane)).toEqual(['a']);
  });

  it('sanitizes the reason (and the lane) it carries', () => {
    const { clock, decider, move } = setup();
    move('a', 'failed', 'boom\x1b]0;pwned\x07\x1b[31mred\x1b[0m\r\nnext\u202eevil\x00');
    clock.advance(NOTIFY_HOLD_MS);
    const [n] = decider.take();
    expect(n.reason).toBe('boom red next evil');
  });
});

// ------------------------------------------------------------------ sanitizing and texts

const CONTROL = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

describe('sanitizeText', () => {
  it('removes escape sequences and turns control, bidi and invisible characters into spaces', () => {
    const hostile = [
      'a\x1b[2J\x1b[?1049hb',
      'c\x1b]52;c;ZXZpbA==\x07d',
      'e\x1bP+q544e\x1b\\f',
      'g\x9b31mh',
      'i\x07\x08\x7f\x85j',
      'k\u202el\u2066m\u200bn\ufeffo',
      'p\ttab\nline\rq',
      'trailing\x1b',
      'half\x1b]0;never ended',
    ];
    for (const s of hostile) {
      const clean = sanitizeText(s);
      expect(clean, JSON.stringify(s)).not.toMatch(CONTROL);
      expect(clean).not.toContain('\x1b');
    }
    expect(sanitizeText('a\x1b[2J\x1b[?1049hb')).toBe('a b');
    expect(sanitizeText('  many   \n\n spaces ')).toBe('many spaces');
    expect(sanitizeText('plain text: ok; fine')).toBe('plain text: ok; fine');
  });

  it('bounds the length (in characters, an ellipsis marks the cut)', () => {
    const long = 'é'.repeat(500);
    const s = sanitizeText(long, 50);
    expect(Array.from(s)).toHaveLength(50);
    expect(s.endsWith('…')).toBe(true);
    expect(sanitizeText('short', 50)).toBe('short');
  });
});

const sample = (over: Partial<Notification> = {}): Notification => ({
  event: 'waiting-input',
  lane: 'asker',
  state: 'waiting-input',
  reason: 'Allow write to x.txt? [y/n]',
  time: Date.UTC(2025, 0, 2, 3, 4, 5),
  ...over,
});

describe('notification texts and the hook payload', () => {
  it('title and body', () => {
    expect(notificationText(sample())).toEqual({
      title: 'ao-console: lane asker waits for input',
      body: 'Allow write to x.txt? [y/n]',
    });
    expect(notificationText(sample({ event: 'merge-failed', state: 'awaiting-approval', reason: '' }))).toEqual({
      title: 'ao-console: lane asker merge failed',
      body: 'merge failed',
    });
  });

  it('the payload has event, lane, state, reason, repo and an ISO time', () => {
    expect(notifyPayload(sample(), '/repo')).toEqual({
      event: 'waiting-input',
      lane: 'asker',
      state: 'waiting-input',
      reason: 'Allow write to x.txt? [y/n]',
      repo: '/repo',
      time: '2025-01-02T03:04:05.000Z',
    });
  });
});

describe('terminal bytes', () => {
  it('bell + OSC 9 by default, OSC 777 on VTE / foot / urxvt', () => {
    expect(oscKind({})).toBe(9);
    expect(oscKind({ TERM: 'xterm-256color', TERM_PROGRAM: 'WezTerm' })).toBe(9);
    expect(oscKind({ VTE_VERSION: '7600' })).toBe(777);
    expect(oscKind({ TERM: 'foot' })).toBe(777);
    expect(oscKind({ TERM: 'rxvt-unicode-256color' })).toBe(777);
    expect(terminalNotification(sample(), {})).toBe(
      '\x07\x1b]9;ao-console: lane asker waits for input: Allow write to x.txt? [y/n]\x07',
    );
    expect(terminalNotification(sample({ reason: 'a;b' }), { VTE_VERSION: '7600' })).toBe(
      '\x07\x1b]777;notify;ao-console: lane asker waits for input;a;b\x07',
    );
  });

  it('inside tmux the OSC goes through the passthrough with every ESC doubled; the bell stays outside', () => {
    expect(tmuxPassthrough('\x1b]9;hi\x07')).toBe('\x1bPtmux;\x1b\x1b]9;hi\x07\x1b\\');
    expect(terminalNotification(sample(), { TMUX: '/tmp/tmux-1/default,1,0' })).toBe(
      '\x07\x1bPtmux;\x1b\x1b]9;ao-console: lane asker waits for input: Allow write to x.txt? [y/n]\x07\x1b\\',
    );
  });

  it('no control character of a lane name or a reason reaches the terminal', () => {
    const hostile = sample({ lane: 'x\x1b]0;t\x07', reason: 'r\x1b[2J\x07\x1b\\\x9c\u202e;' });
    for (const env of [{}, { VTE_VERSION: '1' }, { TMUX: '1' }]) {
      const bytes = terminalNotification(hostile, env);
      // framing only: the leading bell, the OSC introducer and its BEL (and tmux's DCS)
      const framing = bytes
        .replace(/^\x07/, '')
        .replace(/^\x1bPtmux;/, '')
        .replace(/\x1b\\$/, '')
        .replace(/^\x1b{1,2}\](9|777);/, '')
        .replace(/\x07$/, '');
      expect(framing, JSON.stringify(bytes)).not.toMatch(CONTROL);
    }
  });
});

// ------------------------------------------------------------------ the config

describe('the notify config', () => {
  const parse = (raw: unknown) => parseRepoConfig(raw, { file: '.ao/config.json', hasTestScript: false });
  const bad = (raw: unknown): string => {
    try {
      parse(raw);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('defaults: every kind, no hook, no notify-send', () => {
    expect(parse({}).notify).toEqual({
      events: ['waiting-input', 'awaiting-approval', 'merge-failed', 'failed', 'budget'],
      desktop: false,
    });
  });

  it('takes command, events and desktop', () => {
    expect(
      parse({ notify: { command: ['node', 'hook.mjs', ''], events: ['failed', 'failed'], desktop: true } }).notify,
    ).toEqual({ command: ['node', 'hook.mjs', ''], events: ['failed'], desktop: true });
  });

  it('errors name the field', () => {
    expect(bad({ notify: { command: 'notify.sh' } })).toMatch(/^\.ao\/config\.json: notify\.command: expected array/);
    expect(bad({ notify: { command: [] } })).toContain('notify.command: needs at least the program');
    expect(bad({ notify: { command: [''] } })).toContain('notify.command');
    expect(bad({ notify: { events: ['idle'] } })).toContain('notify.events[0]:');
    expect(bad({ notify: { desktop: 'yes' } })).toContain('notify.desktop: expected boolean');
    expect(bad({ notify: { sound: true } })).toContain('notify: unknown field "sound"');
  });
});

// ------------------------------------------------------------------ the dashboard

const disposers: (() => void)[] = [];
afterEach(() => {
  for (const d of disposers.splice(0)) d();
});

describe('the terminal notifier', () => {
  it('writes bell + OSC for a lane that waits; nothing while attached; what fell due then after detaching, if still so', async () => {
    const sup = new FakeSupervisor([makeLane('a'), makeLane('b'), makeLane('c')]);
    const out = new TestStdout(80, 24);
    const n = startTerminalNotifier({
      supervisor: sup,
      stdout: out,
      env: {},
      events: DEFAULT_NOTIFY_EVENTS,
      holdMs: 20,
    });
    disposers.push(() => n.dispose());

    sup.setState('a', 'waiting-input');
    await waitFor(() => out.all().includes('\x1b]9;ao-console: lane a waits for input'), 'a notification for a');
    expect(out.all().startsWith('\x07')).toBe(true);

    n.setAttached('b');
    sup.setState('b', 'waiting-input'); // the lane attached to: skipped
    sup.setState('c', 'failed'); // another lane: held until detaching
    await sleep(300);
    expect(out.all()).not.toContain('lane b');
    expect(out.all()).not.toContain('lane c');
    n.setAttached(null);
    expect(out.all()).toContain('\x07\x1b]9;ao-console: lane c failed: test\x07');
    expect(out.all()).not.toContain('lane b');
  });
});

describe('runDashboard notifications', () => {
  it('rings and notifies on its own terminal when a lane waits, and not for the lane it is attached to', async () => {
    const sup = new FakeSupervisor([makeLane('agent', { state: 'running' }), makeLane('other', { state: 'running' })]);
    sup.screens.set('agent', [[{ text: 'agent says hi' }]]);
    const stdin = new TestStdin();
    const stdout = new TestStdout(100, 30);
    const run = runDashboard({
      supervisor: sup,
      profiles: ['demo'],
      repoLabel: 'repo',
      baseBranch: 'main',
      stdin: stdin as unknown as NodeJS.ReadStream,
      stdout: stdout as unknown as NodeJS.WriteStream,
    });
    const osc = (lane: string) => new RegExp(`\\x1b+\\](9|777);(notify;)?ao-console: lane ${lane} waits for input`);
    await waitFor(() => plain(stdout.all()).includes('agent says hi'), 'the dashboard frame', 10_000);

    // attached to a lane: its wait is not notified, not even after detaching
    stdin.write('\r');
    await waitFor(() => sup.callsOf('attach').length === 1, 'attach', 10_000);
    const attached = sup.callsOf('attach')[0][0] as string;
    const other = attached === 'agent' ? 'other' : 'agent';
    sup.setState(attached, 'waiting-input');
    await sleep(NOTIFY_HOLD_MS + 500);
    stdin.write('\x1d');
    await waitFor(() => plain(stdout.all()).includes(`detached from ${attached}`), 'back in the dashboard', 10_000);
    await sleep(300);
    expect(osc(attached).test(stdout.all())).toBe(false);

    // another lane waits: bell and OSC on this terminal
    sup.setState(other, 'waiting-input');
    await waitFor(() => osc(other).test(stdout.all()), `the notification for ${other}`, 10_000);
    const at = stdout.all().search(osc(other));
    expect(stdout.all().lastIndexOf('\x07', at)).toBeGreaterThanOrEqual(0);

    stdin.write('q');
    await waitFor(() => plain(stdout.all()).includes('Quit and stop every agent?'), 'the quit question', 10_000);
    stdin.write('y');
    await run;
  });
});
