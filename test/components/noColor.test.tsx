import { afterEach, describe, expect, it } from 'vitest';
import { colorEnabled } from '../../src/state/store.js';
import { FakeSupervisor, makeLane, renderApp, sampleReview, type Rendered } from './harness.js';

let r: Rendered | null = null;
afterEach(() => {
  r?.unmount();
  r = null;
});

const SGR_COLOUR = /\x1b\[(?:3[0-9]|4[0-9]|9[0-7]|10[0-7]|38;|48;)[0-9;]*m/;

function lanes(): FakeSupervisor {
  const sup = new FakeSupervisor([
    makeLane('ok', { state: 'awaiting-approval', gateSummary: '2/2 pass' }),
    makeLane('runs', { state: 'running' }),
    makeLane('bad', { state: 'failed' }),
  ]);
  sup.reviews.set('ok', sampleReview('ok'));
  sup.screens.set('runs', [[{ text: 'coloured', fg: '#ff0000', bg: 'p4' }]]);
  return sup;
}

describe('NO_COLOR', () => {
  it('reads NO_COLOR like no-color.org says: set and not empty', () => {
    expect(colorEnabled({})).toBe(true);
    expect(colorEnabled({ NO_COLOR: '' })).toBe(true);
    expect(colorEnabled({ NO_COLOR: '1' })).toBe(false);
  });

  it('with colour on, the frame carries colour escapes (so the next test can fail)', async () => {
    r = renderApp(lanes(), { store: { color: true } });
    const frame = await r.waitFor((f) => f.includes('+export'));
    expect(frame).toMatch(SGR_COLOUR);
  });

  it('with NO_COLOR, no colour escapes at all, and states still read by symbol', async () => {
    r = renderApp(lanes(), { store: { color: colorEnabled({ NO_COLOR: '1' }) } });
    let frame = await r.waitFor((f) => f.includes('+export'));
    expect(frame).not.toMatch(SGR_COLOUR);
    expect(frame).toContain('★ ok');
    expect(frame).toContain('✗ bad');
    await r.press('j');
    frame = await r.waitFor((f) => f.includes('coloured'));
    expect(frame).not.toMatch(SGR_COLOUR);
  });
});
