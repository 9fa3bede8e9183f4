/**
 * Issue 17, more of the dashboard's rough edges: a terminal below 40x12 says so instead of a
 * garbled frame; the help pages and searches; the header counts the lanes that wait on the
 * operator and the lane list marks them; the diff viewer wraps long lines instead of cutting them;
 * the message log (m) keeps the flash line's last 100 messages with their times; "today" counts
 * the lanes of earlier sessions too; double ctrl-c quits an in-process console; a lane with no live
 * screen (an earlier session's) shows the last screen of its recording.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LANE_STATES } from '../../lanes/lane/states.js';
import type { ReplayService } from '../../src/replay/service.js';
import { needsOperator } from '../../src/state/selectors.js';
import { FakeSupervisor, makeLane, plain, renderApp, sampleReview, type Rendered } from './harness.js';

let r: Rendered | null = null;
afterEach(() => {
  r?.unmount();
  r = null;
});

const lines = (frame: string): string[] => plain(frame).split('\n');

describe('a terminal too small for the dashboard', () => {
  for (const [cols, rows] of [
    [39, 30],
    [100, 11],
    [20, 5],
  ]) {
    it(`${cols}x${rows} says "terminal too small (need 40x12)" and draws nothing else`, async () => {
      r = renderApp(new FakeSupervisor([makeLane('one')]), { cols, rows });
      const frame = plain(await r.waitFor((f) => plain(f).includes('terminal too small')));
      // a terminal narrower than the sentence gets it on several lines
      expect(
        frame
          .split('\n')
          .map((l) => l.trim())
          .join(' '),
      ).toContain('terminal too small (need 40x12');
      expect(frame).not.toContain('one');
      for (const l of frame.split('\n')) expect(Array.from(l).length).toBeLessThanOrEqual(cols);
    });
  }

  it('draws the dashboard again when the terminal grows, and keys still act while small', async () => {
    r = renderApp(new FakeSupervisor([makeLane('one')]), { cols: 30, rows: 8 });
    await r.waitFor((f) => plain(f).includes('terminal too small'));
    await r.press('q');
    expect(r.store.getState().overlay.kind).toBe('confirm');
    await r.press('n');
    r.stdout.resize(40, 12);
    const frame = plain(await r.waitFor((f) => plain(f).includes('one'), 'the lane list'));
    expect(frame).not.toContain('terminal too small');
  });
});

describe('help pages and searches', () => {
  const title = (frame: string): string => lines(frame).find((l) => l.startsWith('Keys —')) ?? '';
  const range = (frame: string): [number, number] => {
    const m = /\((\d+)-(\d+) of (\d+)\)/.exec(title(frame));
    expect(m, title(frame)).not.toBeNull();
    return [Number(m?.[1]), Number(m?.[2])];
  };

  it('space and pagedown move a page, b and pageup back, end and home to the ends', async () => {
    r = renderApp(new FakeSupervisor([makeLane('one')]), { cols: 100, rows: 30 });
    await r.press('?');
    const first = range(await r.waitFor((f) => title(f) !== ''));
    expect(first[0]).toBe(1);
    await r.press('space');
    // a page is the body less one line kept from the page before (30 rows: 22 lines)
    const afterSpace = range(r.lastFrame())[0];
    expect(afterSpace).toBe(1 + 22);
    await r.press('pagedown');
    expect(range(r.lastFrame())[0]).toBeGreaterThan(afterSpace);
    await r.press('b');
    expect(range(r.lastFrame())[0]).toBe(afterSpace);
    await r.press('pageup');
    expect(range(r.lastFrame())[0]).toBe(1);
    await r.press('end');
    const m = /of (\d+)\)/.exec(title(r.lastFrame()));
    expect(range(r.lastFrame())[1]).toBe(Number(m?.[1]));
    await r.press('home');
    expect(range(r.lastFrame())[0]).toBe(1);
  });

  it('/ searches: only matching keys, letters typed into the search, enter keeps it, esc clears it', async () => {
    r = renderApp(new FakeSupervisor([makeLane('one')]), { cols: 100, rows: 30 });
    await r.press('?');
    await r.waitFor((f) => title(f) !== '');
    await r.press('/');
    // q and ? would close the help: while searching they are text
    await r.type('quit');
    let frame = plain(await r.waitFor((f) => plain(f).includes('search: quit')));
    expect(r.store.getState().overlay.kind).toBe('help');
    expect(frame).toContain('Quit (asks)');
    expect(frame).not.toContain('Select the next lane');
    await r.press('enter');
    frame = plain(r.lastFrame());
    expect(frame).toContain('search: quit');
    expect(frame).not.toContain('Select the next lane');
    await r.press('escape');
    frame = plain(await r.waitFor((f) => !plain(f).includes('search:'), 'the search cleared'));
    expect(frame).toContain('Select the next lane');
    expect(r.store.getState().overlay.kind).toBe('help');
    await r.press('escape');
    expect(r.store.getState().overlay.kind).toBe('none');
  });

  it('a search that matches nothing says so; backspace edits it', async () => {
    r = renderApp(new FakeSupervisor([]), { cols: 100, rows: 30 });
    await r.press('?');
    await r.press('/');
    await r.type('zzzq');
    await r.waitFor((f) => plain(f).includes('no key matches "zzzq"'));
    for (let i = 0; i < 4; i++) await r.press('backspace');
    await r.type('approve');
    const frame = plain(await r.waitFor((f) => plain(f).includes('search: approve')));
    expect(frame).toContain('Approve the selected lane');
  });
});

describe('lanes that need the operator', () => {
  it('are the lanes waiting for input, awaiting approval or failed', () => {
    expect(LANE_STATES.filter(needsOperator).sort()).toEqual(['awaiting-approval', 'failed', 'waiting-input']);
  });

  it('the header counts them and the lane list marks each with *', async () => {
    const sup = new FakeSupervisor([
      makeLane('busy', { state: 'running' }),
      makeLane('asks', { state: 'waiting-input' }),
      makeLane('review', { state: 'awaiting-approval' }),
      makeLane('broken', { state: 'failed' }),
      makeLane('done', { state: 'merged' }),
    ]);
    r = renderApp(sup, { cols: 120, rows: 30 });
    const frame = await r.waitFor((f) => plain(f).includes('broken'));
    const ls = lines(frame);
    expect(ls[1]).toMatch(/^\* 3 need you/);
    const row = (name: string): string => ls.find((l) => new RegExp(`^[› ][* ]\\S ${name}\\s`).test(l)) ?? '';
    for (const name of ['asks', 'review', 'broken']) expect(row(name)[1], name).toBe('*');
    for (const name of ['busy', 'done']) expect(row(name)[1], name).toBe(' ');
    sup.setState('asks', 'running');
    sup.setState('broken', 'stopped');
    r.store.actions.refresh();
    const after = await r.waitFor((f) => lines(f)[1]?.startsWith('* 1 needs you') ?? false, 'one left');
    expect(lines(after).find((l) => /^[› ][* ]\S asks\s/.test(l))?.[1]).toBe(' ');
  });

  it('no lane needs the operator: no count', async () => {
    r = renderApp(new FakeSupervisor([makeLane('busy')]), { cols: 120, rows: 30 });
    const frame = await r.waitFor((f) => plain(f).includes('busy'));
    expect(lines(frame)[1]).toMatch(/^today/);
  });
});

describe('the diff viewer and long lines', () => {
  it('wraps a line wider than the terminal: every character is shown', async () => {
    const sup = new FakeSupervisor([makeLane('feat', { state: 'awaiting-approval' })]);
    const long = '+' + Array.from({ length: 30 }, (_, i) => `w${String(i).padStart(2, '0')}`).join('-') + '-END';
    sup.reviews.set('feat', sampleReview('feat', { diff: `${long}\n+short\n` }));
    r = renderApp(sup, { cols: 50, rows: 30 });
    await r.waitFor((f) => plain(f).includes('feat'));
    await r.pressBinding('review.diff');
    const frame = plain(await r.waitFor((f) => plain(f).includes('+short'), 'the diff'));
    const ls = frame.split('\n');
    const start = ls.findIndex((l) => l.startsWith('+w00'));
    expect(start).toBeGreaterThanOrEqual(0);
    const joined = ls
      .slice(
        start,
        ls.findIndex((l) => l.startsWith('+short')),
      )
      .map((l) => l.trimEnd())
      .join('');
    expect(joined).toBe(long);
    for (const l of ls) expect(Array.from(l).length).toBeLessThanOrEqual(50);
  });
});

describe('the message log', () => {
  it('m shows the flash messages with their times, newest last, whole, after the flash line cleared', async () => {
    r = renderApp(new FakeSupervisor([makeLane('one')]), { cols: 60, rows: 30 });
    await r.waitFor((f) => plain(f).includes('one'));
    const long = `a long message ${'x'.repeat(80)} END`;
    r.store.actions.flash('first message');
    r.store.actions.flash(long, 'error');
    r.store.actions.clearFlash();
    await r.press('m');
    const frame = plain(await r.waitFor((f) => plain(f).includes('Messages (2')));
    const ls = frame.split('\n');
    const first = ls.findIndex((l) => /^\d\d:\d\d:\d\d • first message/.test(l));
    const second = ls.findIndex((l) => /^\d\d:\d\d:\d\d ✗ a long message/.test(l));
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    // the message whole, wrapped under its time
    expect(
      ls
        .slice(second, second + 3)
        .map((l) => l.trim())
        .join(''),
    ).toContain(long);
    await r.press('escape');
    expect(r.store.getState().overlay.kind).toBe('none');
  });

  it('keeps the last 100, oldest dropped, and opens scrolled to the newest', async () => {
    r = renderApp(new FakeSupervisor([]), { cols: 80, rows: 24 });
    for (let i = 0; i < 130; i++) r.store.actions.flash(`message number ${i}`);
    expect(r.store.getState().messages).toHaveLength(100);
    expect(r.store.getState().messages[0].text).toBe('message number 30');
    await r.press('m');
    let frame = plain(await r.waitFor((f) => plain(f).includes('Messages (100')));
    expect(frame).toContain('message number 129');
    expect(frame).not.toContain('message number 30\n');
    for (let i = 0; i < 7; i++) await r.press('pageup');
    frame = plain(r.lastFrame());
    expect(frame).toMatch(/message number 30\s*\n/);
  });
});

describe('double ctrl-c', () => {
  it('quits an in-process console with working lanes too, the same as q then y', async () => {
    r = renderApp(new FakeSupervisor([makeLane('one', { state: 'running' })]), { cols: 100, rows: 30 });
    await r.waitFor((f) => plain(f).includes('one'));
    await r.press('ctrl-c');
    await r.waitFor((f) => plain(f).includes('Quit and stop every agent?'));
    await r.press('ctrl-c');
    expect(r.store.getState().request.quit).toBe(true);
  });
});

describe('today across sessions', () => {
  it("the header adds how the engine says earlier sessions' lanes ended since local midnight", async () => {
    const asked: number[] = [];
    const sup = Object.assign(new FakeSupervisor([makeLane('now', { state: 'merged', stateSince: Date.now() })]), {
      pastOutcomes: async (since: number) => {
        asked.push(since);
        return [
          { outcome: 'merged', n: 2 },
          { outcome: 'discarded', n: 1 },
          { outcome: 'rejected', n: 1 },
          { outcome: 'failed', n: 1 },
          { outcome: 'created', n: 4 },
        ];
      },
    });
    r = renderApp(sup, { cols: 120, rows: 30, store: { todayFromHistory: false } });
    await r.waitFor((f) => plain(f).includes('today ✓ 1 merged  ⊘ 0 rejected  ✗ 0 failed'));
    await r.store.actions.loadTodayPast();
    await r.waitFor(
      (f) => plain(f).includes('today ✓ 3 merged  ⊘ 2 rejected  ✗ 1 failed'),
      'the earlier sessions counted',
    );
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    expect(asked).toEqual([midnight.getTime()]);
  });

  it('an engine that cannot answer leaves this session counted alone', async () => {
    const sup = Object.assign(new FakeSupervisor([makeLane('now', { state: 'merged', stateSince: Date.now() })]), {
      pastOutcomes: () => Promise.reject(new Error('unknown verb past-outcomes')),
    });
    r = renderApp(sup, { cols: 120, rows: 30, store: { todayFromHistory: false } });
    await r.store.actions.loadTodayPast();
    await r.waitFor((f) => plain(f).includes('today ✓ 1 merged  ⊘ 0 rejected  ✗ 0 failed'));
    expect(r.store.getState().todayPast).toBeUndefined();
  });
});

describe("a lane whose agent is gone (an earlier session's)", () => {
  const recorded = [[{ text: 'RECORDED-TOP' }], [], [{ text: '$ npm test — 3 passed' }]];
  function fakeService(opened: number[]): ReplayService {
    return {
      history: () => [],
      lanesOfSession: () => [],
      close: () => undefined,
      openPlayer: (laneId: number) => {
        opened.push(laneId);
        let at = 0;
        return {
          durationMs: 5000,
          seek: async (ms: number) => {
            at = ms;
          },
          screenStyled: () => (at >= 5000 ? recorded : []),
          dispose: () => undefined,
        };
      },
    } as unknown as ReplayService;
  }

  it('shows the last screen of its recording, said in the title; read once', async () => {
    const opened: number[] = [];
    const sup = new FakeSupervisor([makeLane('old', { id: 7, state: 'interrupted', alive: false })]);
    r = renderApp(sup, { cols: 100, rows: 30, store: { todayFromHistory: false } });
    r.store.actions.setReplayService(fakeService(opened));
    const frame = plain(await r.waitFor((f) => plain(f).includes('RECORDED-TOP'), 'the recorded screen'));
    expect(frame).toContain('$ npm test — 3 passed');
    expect(frame).toContain('old · demo · interrupted · last screen, from the recording');
    r.store.actions.refresh();
    await r.press('j');
    expect(opened).toEqual([7]);
  });

  it('a live lane shows its own screen, never the recording', async () => {
    const opened: number[] = [];
    const sup = new FakeSupervisor([makeLane('live', { id: 8, state: 'running' })]);
    sup.screens.set('live', [[{ text: 'LIVE-SCREEN' }]]);
    r = renderApp(sup, { cols: 100, rows: 30, store: { todayFromHistory: false } });
    r.store.actions.setReplayService(fakeService(opened));
    const frame = plain(await r.waitFor((f) => plain(f).includes('LIVE-SCREEN')));
    expect(frame).not.toContain('RECORDED-TOP');
    expect(opened).toEqual([]);
  });
});
