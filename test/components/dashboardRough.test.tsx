/**
 * Issue 17, the dashboard's rough edges: the screen drawn row for row (live and replay), a
 * bracketed paste into the new-lane form, today's counters over every session, the learnings
 * browser following captures, a resize that keeps the time in state, the message log, the diff's
 * long lines, help paging and search, and the too-small terminal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StyledRow } from '../../lanes/lane/types.js';
import type { ReplayView } from '../../src/state/types.js';
import { FakeSupervisor, makeLane, plain, renderApp, type Rendered } from './harness.js';

let r: Rendered | null = null;
afterEach(() => {
  r?.unmount();
  r = null;
});

const lines = (frame: string): string[] => plain(frame).split('\n');

/** A full-screen TUI's screen: text with blank rows between. */
function tuiScreen(): StyledRow[] {
  return [
    [{ text: 'TOP-ROW' }],
    [],
    [],
    [{ text: 'MIDDLE-ROW' }],
    [{ text: '   ' }],
    [],
    [{ text: 'BOTTOM-ROW', bold: true }],
  ];
}

function rowDistance(frame: string, a: string, b: string): number {
  const ls = lines(frame);
  const ia = ls.findIndex((l) => l.includes(a));
  const ib = ls.findIndex((l) => l.includes(b));
  expect(ia, `${a} on screen`).toBeGreaterThanOrEqual(0);
  expect(ib, `${b} on screen`).toBeGreaterThanOrEqual(0);
  return ib - ia;
}

describe('the screen row for row', () => {
  it('the focus pane keeps blank rows of the agent screen', async () => {
    const sup = new FakeSupervisor([makeLane('tui')]);
    sup.screens.set('tui', tuiScreen());
    r = renderApp(sup, { cols: 100, rows: 30 });
    const frame = await r.waitFor((f) => f.includes('BOTTOM-ROW'));
    expect(rowDistance(frame, 'TOP-ROW', 'MIDDLE-ROW')).toBe(3);
    expect(rowDistance(frame, 'MIDDLE-ROW', 'BOTTOM-ROW')).toBe(3);
  });

  it('the replay player keeps blank rows of the recorded screen', async () => {
    const sup = new FakeSupervisor([makeLane('tui')]);
    r = renderApp(sup, { cols: 100, rows: 30 });
    const view: ReplayView = {
      laneId: 1,
      lane: 'tui',
      task: 't',
      sessionId: 's',
      outcome: 'merged',
      lanes: [],
      from: 'history',
      playing: false,
      speed: 1,
      positionMs: 0,
      durationMs: 1000,
      idleCapMs: 2000,
      marks: [],
      markIndex: -1,
      screen: tuiScreen(),
      cursor: { x: 0, y: 0, visible: true },
      cols: 80,
      rows: 7,
      live: false,
    };
    r.store.setState({ overlay: { kind: 'replay', view } });
    const frame = await r.waitFor((f) => f.includes('BOTTOM-ROW'));
    expect(rowDistance(frame, 'TOP-ROW', 'MIDDLE-ROW')).toBe(3);
    expect(rowDistance(frame, 'MIDDLE-ROW', 'BOTTOM-ROW')).toBe(3);
  });
});

describe('a multi-line paste into the new-lane form', () => {
  it('goes into the task as text, lines kept, and creates nothing until enter', async () => {
    const sup = new FakeSupervisor([]);
    r = renderApp(sup, { cols: 100, rows: 30 });
    await r.press('n');
    await r.type('pasted');
    await r.press('tab');
    await r.press('tab');
    // the terminal wraps a paste in ESC[200~ … ESC[201~ (bracketed paste)
    await r.press('\x1b[200~first line of the task\rsecond line\r\nthird line\x1b[201~');
    const frame = await r.waitFor((f) => f.includes('third line'), 'the pasted task');
    expect(sup.callsOf('newLane')).toEqual([]);
    const ls = lines(frame);
    const first = ls.findIndex((l) => l.includes('first line of the task'));
    expect(ls[first + 1]).toContain('second line');
    expect(ls[first + 2]).toContain('third line');
    // alt-enter adds a line by hand
    await r.press('\x1b\r');
    await r.type('fourth');
    const o = r.store.getState().overlay;
    expect(o.kind === 'new-lane-form' ? o.form.task : null).toBe(
      'first line of the task\nsecond line\nthird line\nfourth',
    );
    await r.press('enter');
    await r.waitFor(() => sup.callsOf('newLane').length === 1, 'the lane created');
    expect(sup.callsOf('newLane')[0][0]).toMatchObject({
      name: 'pasted',
      task: 'first line of the task\nsecond line\nthird line\nfourth',
    });
  });

  it('a paste on the dashboard presses no keys', async () => {
    const sup = new FakeSupervisor([makeLane('a', { state: 'awaiting-approval' })]);
    r = renderApp(sup, { cols: 100, rows: 30 });
    await r.waitFor((f) => f.includes('a'));
    await r.press('\x1b[200~xa\rX\x1b[201~');
    expect(sup.callsOf('approve')).toEqual([]);
    expect(sup.callsOf('stop')).toEqual([]);
    expect(r.store.getState().overlay.kind).toBe('none');
  });
});
