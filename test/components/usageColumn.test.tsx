/**
 * Tokens and cost in the dashboard (lanes/usage/, docs/usage.md): the lane list's cost column (100
 * columns and wider), a paused lane's mark, and the review panel's usage line with where the cost
 * came from and why a lane is paused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSupervisor, makeLane, plain, renderApp, sampleReview, type Rendered } from './harness.js';
import { metricsLines } from '../../components/MetricsPanel.js';

let r: Rendered | null = null;
afterEach(() => {
  r?.unmount();
  r = null;
});

const usage = {
  inputTokens: 2500,
  cachedInputTokens: 500,
  outputTokens: 57,
  costUsd: 0.007005,
  priced: 'agent' as const,
};

describe('usage in the dashboard', () => {
  it('the lane list has a cost column: the cost, "-" before any record, ⏸ when paused for its budget', async () => {
    const sup = new FakeSupervisor([
      makeLane('spent', { usage }),
      makeLane('fresh'),
      makeLane('capped', { id: 3, usage: { ...usage, costUsd: 12.5, priced: 'table', paused: 'budget reached' } }),
    ]);
    r = renderApp(sup, { cols: 120, rows: 30 });
    const frame = plain(await r.waitFor((f) => plain(f).includes('capped')));
    const ls = frame.split('\n');
    expect(ls.find((l) => /Lanes 3/.test(l))).toMatch(/ cost /);
    const row = (name: string) => ls.find((l) => new RegExp(`^[› ][* ]\\S ${name}\\s`).test(l)) ?? '';
    expect(row('spent')).toMatch(/ \$0\.0070 /);
    expect(row('fresh')).toMatch(/ - +last line of fresh/);
    expect(row('capped')).toMatch(/ \$12\.50⏸ /);
  });

  it('below 100 columns there is no cost column (the last line keeps its room)', async () => {
    r = renderApp(new FakeSupervisor([makeLane('spent', { usage })]), { cols: 80, rows: 24 });
    const frame = plain(await r.waitFor((f) => plain(f).includes('spent')));
    expect(frame).not.toMatch(/\$0\.0070/);
    expect(frame.split('\n').find((l) => /Lanes 1/.test(l))).not.toMatch(/ cost /);
  });

  it('the focus pane of a lane paused for its budget says so first, with the way out', async () => {
    const reason =
      'budget reached: $1.02 of its lane budget $1.00; agent paused — raise usage.budget in .ao/config.json to go on, or stop the lane';
    const sup = new FakeSupervisor([
      makeLane('capped', { state: 'waiting-input', usage: { ...usage, paused: reason } }),
    ]);
    r = renderApp(sup, { cols: 200, rows: 30 });
    const frame = plain(await r.waitFor((f) => plain(f).includes('⏸ budget reached')));
    expect(frame).toContain(`capped · ⏸ ${reason} (x: stop)`);
  });

  it('the review panel says the tokens, the cost and who priced it, and why a lane is paused', async () => {
    const sup = new FakeSupervisor([
      makeLane('feat', { state: 'awaiting-approval', usage: { ...usage, paused: 'budget reached: $1.02 of $1.00' } }),
    ]);
    sup.reviews.set('feat', sampleReview('feat'));
    r = renderApp(sup, { cols: 120, rows: 30 });
    const frame = plain(await r.waitFor((f) => plain(f).includes('tokens 2.5k in')));
    expect(frame).toContain(
      'tokens 2.5k in (500 cached), 57 out · $0.0070 priced by the agent · PAUSED: budget reached: $1.02 of $1.00',
    );
  });

  it('the metrics panel says the cost per merged and per rejected lane', () => {
    const lines = metricsLines({
      gates: [],
      approvals: 2,
      rejections: 1,
      medianDecisionMs: null,
      reworkCount: 0,
      lanesReworked: 0,
      cost: {
        merged: { lanes: 2, usd: 3, perLane: 1.5 },
        rejected: { lanes: 0, usd: 0, perLane: null },
      },
    });
    expect(lines).toContain('cost per merged lane: $1.50 (2 lanes, $3.00 in all)');
    expect(lines).toContain('cost per rejected lane: — (0 lanes, $0.0000 in all)');
  });
});
