import { afterEach, describe, expect, it } from 'vitest';
import { LANE_NAME_RULE } from '../../lanes/lane/names.js';
import type { LaneState } from '../../lanes/lane/types.js';
import { emptyNewLaneForm } from '../../src/state/slices.js';
import type { Overlay } from '../../src/state/types.js';
import { STATE_LOOK } from '../../src/ui/theme.js';
import { FakeSupervisor, makeLane, plain, renderApp, sampleReview, sampleVerdict, type Rendered } from './harness.js';

let r: Rendered | null = null;
afterEach(() => {
  r?.unmount();
  r = null;
});

const lines = (frame: string): string[] => plain(frame).split('\n');

describe('lane list', () => {
  it('shows every lane with its state label and symbol, profile, time in state, rate and gate summary', async () => {
    const sup = new FakeSupervisor([
      makeLane('fix-login', { state: 'running', profile: 'claude' }),
      makeLane('add-docs', { state: 'awaiting-approval', gateSummary: '3/4 pass', profile: 'codex' }),
      makeLane('broken', { state: 'failed', lastLine: 'Error: boom' }),
      makeLane('asks', { state: 'waiting-input', lastLine: 'Allow edit? [y/n]' }),
    ]);
    r = renderApp(sup, { cols: 120, rows: 30 });
    const frame = plain(await r.waitFor((f) => f.includes('asks')));
    for (const [name, state] of [
      ['fix-login', 'running'],
      ['add-docs', 'awaiting-approval'],
      ['broken', 'failed'],
      ['asks', 'waiting-input'],
    ] as Array<[string, LaneState]>) {
      const row = frame.split('\n').find((l) => l.includes(name) && l.includes(STATE_LOOK[state].label));
      expect(row, `row of ${name}`).toBeDefined();
      expect(row).toContain(STATE_LOOK[state].symbol);
    }
    expect(frame).toContain('3/4 pass');
    expect(frame).toContain('1m05s');
    expect(frame).toContain('2.0K/s');
    expect(frame).toContain('Allow edit? [y/n]');
    expect(frame).toContain('claude');
    // the selection marker moves with j
    expect(lines(frame).find((l) => l.startsWith('›'))).toContain('fix-login');
    await r.pressBinding('lanes.next');
    const after = await r.waitFor(
      (f) => lines(f).some((l) => l.startsWith('›') && l.includes('add-docs')),
      'selection on add-docs',
    );
    expect(lines(after).filter((l) => l.startsWith('›'))).toHaveLength(1);
  });

  it("header counts lanes by state and today's outcomes", async () => {
    const sup = new FakeSupervisor([
      makeLane('a', { state: 'running' }),
      makeLane('b', { state: 'running' }),
      makeLane('c', { state: 'merged', stateSince: Date.now() }),
      makeLane('d', { state: 'discarded', stateSince: Date.now() }),
    ]);
    r = renderApp(sup, { cols: 160, rows: 30 });
    const frame = plain(await r.waitFor((f) => f.includes('session')));
    expect(frame).toContain('repo demo-repo');
    expect(frame).toContain('base main');
    expect(frame).toContain('session sess-1');
    expect(frame).toContain('▶ 2 running');
    expect(frame).toContain('✓ 1 merged');
    expect(frame).toContain('⊘ 1 rejected');
    expect(frame).toContain('✗ 0 failed');
  });

  it('draws the focused lane screen from styled runs, without raw agent escapes', async () => {
    const sup = new FakeSupervisor([makeLane('agent')]);
    sup.screens.set('agent', [
      [
        { text: 'Hello from ', fg: 'p2' },
        { text: 'the agent', bold: true },
      ],
      [{ text: 'evil\x1b]52;c;aGk=\x07tail' }],
    ]);
    r = renderApp(sup);
    const frame = await r.waitFor((f) => f.includes('Hello from'));
    expect(plain(frame)).toContain('Hello from the agent');
    expect(frame).not.toContain('\x1b]52');
    expect(plain(frame)).toContain('evil]52;c;aGk=tail');
    // the focused live lane's pty is fitted to the focus pane
    expect(sup.callsOf('resize').length).toBeGreaterThan(0);
  });
});

describe('review panel', () => {
  it('shows verdicts, the diff stat and a coloured diff for a lane awaiting approval', async () => {
    const sup = new FakeSupervisor([makeLane('feat', { state: 'awaiting-approval', gateSummary: '1/2 pass' })]);
    sup.reviews.set(
      'feat',
      sampleReview('feat', {
        requiredPassed: false,
        verdicts: [
          sampleVerdict({ status: 'FAIL', durationMs: 1500, exitCode: 1, output: 'expected 3, got -1', commit: 'abc' }),
          sampleVerdict({
            gate: 'lint',
            required: false,
            durationMs: 900,
            output: '',
            commit: 'abc',
            stale: true,
          }),
        ],
      }),
    );
    r = renderApp(sup, { cols: 100, rows: 30 });
    const frame = await r.waitFor((f) => f.includes('+export const add'), 'diff');
    const text = plain(frame);
    expect(text).toContain('✗ FAIL    test');
    expect(text).toContain('exit 1');
    expect(text).toContain('✓ PASS    lint');
    expect(text).toContain('STALE');
    expect(text).toContain('1 file changed, +3 -1 against main');
    expect(text).toContain('required gates did not pass');
    // added lines green, removed red (SGR 32 / 31)
    expect(frame).toMatch(/\x1b\[32m\+export const add = \(a, b\) => a \+ b;/);
    expect(frame).toMatch(/\x1b\[31m-export const add/);
  });

  it('approve over failed required gates asks first, then approves with override', async () => {
    const sup = new FakeSupervisor([makeLane('feat', { state: 'awaiting-approval' })]);
    sup.reviews.set(
      'feat',
      sampleReview('feat', {
        requiredPassed: false,
        verdicts: [sampleVerdict({ status: 'FAIL', durationMs: 1, exitCode: 1, output: '', commit: 'a' })],
      }),
    );
    r = renderApp(sup);
    await r.waitFor((f) => f.includes('FAIL'));
    await r.pressBinding('review.approve');
    await r.waitFor((f) => plain(f).includes('Approve feat anyway?'), 'override question');
    expect(sup.callsOf('approve')).toHaveLength(0);
    await r.pressBinding('confirm.yes');
    await r.waitFor(() => sup.callsOf('approve').length === 1, 'approve call');
    expect(sup.callsOf('approve')[0]).toEqual(['feat', { override: true, by: 'operator' }]);
  });

  it('approve with every required gate passed merges without asking', async () => {
    const sup = new FakeSupervisor([makeLane('ok', { state: 'awaiting-approval' })]);
    sup.reviews.set('ok', sampleReview('ok'));
    r = renderApp(sup);
    await r.waitFor((f) => plain(f).includes('required gates passed'));
    await r.press('a');
    await r.waitFor(() => sup.callsOf('approve').length === 1, 'approve call');
    expect(sup.callsOf('approve')[0]).toEqual(['ok', { override: false, by: 'operator' }]);
    expect(r.store.getState().overlay.kind).toBe('none');
  });
});

describe('diff and gate output viewer', () => {
  it('d shows the whole diff, scrolls, and stops at the end; tab switches to gate output', async () => {
    const sup = new FakeSupervisor([makeLane('feat', { state: 'awaiting-approval' })]);
    const diff = Array.from({ length: 100 }, (_, i) => `+line ${i}`).join('\n');
    sup.reviews.set('feat', sampleReview('feat', { diff }));
    r = renderApp(sup, { cols: 80, rows: 24 });
    await r.waitFor((f) => plain(f).includes('required gates passed'));
    await r.pressBinding('review.diff');
    await r.waitFor((f) => plain(f).includes('Diff of feat lines 1-'), 'diff viewer');
    await r.press('end');
    let f = plain(await r.waitFor((x) => plain(x).includes('+line 99'), 'end of diff'));
    expect(f).toMatch(/of 104/);
    // past the end is clamped: the line cursor stays on the last line, one page up leaves it
    await r.press('pagedown');
    await r.press('pageup');
    await r.press('pageup');
    f = plain(await r.waitFor((x) => !plain(x).includes('+line 99'), 'two pages up'));
    expect(f).toContain('+line 67');
    await r.pressBinding('viewer.toggle');
    f = plain(await r.waitFor((x) => plain(x).includes('Gate output of feat'), 'gate output'));
    expect(f).toContain('✓ test: PASS');
    expect(f).toContain('ok 3 tests');
    await r.press('escape');
    expect(r.store.getState().overlay.kind).toBe('none');
  });
});

describe('new lane form', () => {
  it('shows the lane name rule inline for a bad name and creates nothing', async () => {
    const sup = new FakeSupervisor([]);
    r = renderApp(sup, { cols: 80, rows: 24 });
    await r.waitFor((f) => f.includes('no lanes yet'));
    await r.pressBinding('lane.new');
    await r.waitFor((f) => plain(f).includes('New lane'));
    await r.type('Bad Name;rm');
    await r.press('tab'); // profile
    await r.press('tab'); // task
    await r.type('fix it');
    await r.press('enter');
    const frame = plain(await r.waitFor((f) => plain(f).includes('lowercase letters'), 'inline error'));
    // the whole rule is shown, wrapped under the field
    const flat = frame
      .split('\n')
      .map((l) => l.trim())
      .join(' ');
    // the rule broken first, then the whole rule
    expect(flat.replace(/\s+/g, ' ')).toContain(`✗ it contains "B" (only lowercase letters`);
    expect(flat.replace(/\s+/g, ' ')).toContain(LANE_NAME_RULE);
    expect(sup.callsOf('newLane')).toHaveLength(0);
    expect(r.store.getState().overlay.kind).toBe('new-lane-form');
  });

  it('creates a lane with the chosen profile, task and base', async () => {
    const sup = new FakeSupervisor([]);
    r = renderApp(sup, { profiles: ['claude', 'codex', 'demo'] });
    await r.press('n');
    await r.type('fix-login');
    await r.press('tab');
    await r.press('right');
    await r.press('right'); // demo
    await r.press('tab');
    await r.type('make login work');
    await r.press('enter');
    await r.waitFor(() => sup.callsOf('newLane').length === 1, 'newLane call');
    expect(sup.callsOf('newLane')[0]).toEqual([
      { name: 'fix-login', profile: 'demo', task: 'make login work', base: 'main' },
    ]);
    await r.waitFor((f) => plain(f).includes('lane fix-login created'));
    expect(r.store.getState().focused).toBe('fix-login');
  });
});

describe('reject form', () => {
  it('requires a reason before rework or discard can be chosen, then rejects with it', async () => {
    const sup = new FakeSupervisor([makeLane('feat', { state: 'awaiting-approval' })]);
    sup.reviews.set('feat', sampleReview('feat'));
    r = renderApp(sup);
    await r.waitFor((f) => plain(f).includes('required gates passed'));
    await r.pressBinding('review.reject');
    await r.waitFor((f) => plain(f).includes('Reject feat'));
    await r.press('enter');
    await r.waitFor((f) => plain(f).includes('a reason is required'), 'reason required');
    // 'D' types into the reason, it does not discard
    await r.press('D');
    expect(sup.callsOf('reject')).toHaveLength(0);
    await r.press('backspace');
    await r.type('tests do not cover the edge case');
    await r.press('enter');
    await r.waitFor((f) => plain(f).includes('←/→ choose'), 'choice step');
    await r.pressBinding('reject.discard');
    await r.waitFor(() => sup.callsOf('reject').length === 1, 'reject call');
    expect(sup.callsOf('reject')[0]).toEqual([
      'feat',
      { reason: 'tests do not cover the edge case', mode: 'discard', by: 'operator' },
    ]);
  });
});

describe('help overlay and footer', () => {
  it('lists every key, disabled ones with their reason', async () => {
    const sup = new FakeSupervisor([makeLane('busy', { state: 'running' })]);
    r = renderApp(sup, { cols: 140, rows: 120 });
    await r.waitFor((f) => f.includes('busy'));
    await r.pressBinding('app.help');
    const frame = plain(await r.waitFor((f) => plain(f).includes('Keys — esc closes')));
    const ls = frame.split('\n').map((l) => l.trim());
    const after = (start: RegExp): string => ls[ls.findIndex((l) => start.test(l)) + 1];
    expect(after(/^a\s+Approve the selected lane/)).toBe('disabled: no lane awaiting approval (busy is running)');
    expect(after(/^G\s+Re-run the selected lane's gates/)).toBe(
      'disabled: no lane awaiting approval (busy is running)',
    );
    expect(after(/^enter\s+Attach to the selected lane/)).not.toMatch(/disabled/);
    expect(after(/^h\s+Hand off/)).not.toMatch(/disabled/);
  });

  it('the footer shows only keys that act now', async () => {
    const sup = new FakeSupervisor([makeLane('busy', { state: 'running' })]);
    r = renderApp(sup, { cols: 120, rows: 30 });
    const footer = (f: string): string => lines(f).slice(-2).join('\n');
    let f = footer(await r.waitFor((x) => x.includes('busy')));
    expect(f).toContain('enter attach');
    expect(f).toContain('h handoff');
    expect(f).not.toContain('approve');
    expect(f).not.toContain('reject');
    // once the lane awaits approval, approve and reject show; attach stays while its agent runs
    sup.reviews.set('busy', sampleReview('busy'));
    sup.setState('busy', 'awaiting-approval', true);
    f = footer(await r.waitFor((x) => footer(x).includes('a approve'), 'approve in footer'));
    expect(f).toContain('r reject');
    expect(f).toContain('enter attach');
    // and goes once the agent has exited
    sup.setState('busy', 'awaiting-approval', false);
    f = footer(await r.waitFor((x) => !footer(x).includes('attach'), 'attach gone from the footer'));
    expect(f).toContain('a approve');
  });

  it('a disabled key says why in the flash line', async () => {
    const sup = new FakeSupervisor([makeLane('busy', { state: 'running' })]);
    r = renderApp(sup);
    await r.waitFor((f) => f.includes('busy'));
    await r.press('a');
    await r.waitFor((f) => plain(f).includes('a: no lane awaiting approval'), 'reason in flash');
    expect(sup.callsOf('approve')).toHaveLength(0);
  });
});

describe('remove (X)', () => {
  /** The harness's supervisor, with the engine's `remove` as a front end sees it. */
  class RemovingSupervisor extends FakeSupervisor {
    async remove(name: string): Promise<void> {
      this.calls.push({ method: 'remove', args: [name] });
      this.setState(name, 'discarded');
    }
  }

  it('asks first, then removes a lane stuck in gating', async () => {
    const sup = new RemovingSupervisor([makeLane('stuck', { state: 'gating' })]);
    r = renderApp(sup, { cols: 120, rows: 30 });
    await r.waitFor((f) => f.includes('stuck'));
    await r.pressBinding('lane.remove');
    const frame = plain(await r.waitFor((f) => plain(f).includes('Remove lane'), 'the confirm dialog'));
    expect(frame).toContain('Remove lane stuck?');
    expect(frame).toContain('y yes   n no');
    expect(sup.callsOf('remove')).toHaveLength(0);
    await r.press('y');
    await r.waitFor(() => sup.callsOf('remove').length === 1, 'remove call');
    expect(sup.callsOf('remove')[0]).toEqual(['stuck']);
    await r.waitFor((f) => plain(f).includes('stuck removed: its work is kept under refs/ao/archive/stuck/'), 'flash');
  });

  it('n keeps the lane', async () => {
    const sup = new RemovingSupervisor([makeLane('keep', { state: 'failed' })]);
    r = renderApp(sup);
    await r.waitFor((f) => f.includes('keep'));
    await r.pressBinding('lane.remove');
    await r.waitFor((f) => plain(f).includes('Remove lane keep?'), 'the confirm dialog');
    await r.press('n');
    await r.waitFor((f) => !plain(f).includes('Remove lane keep?'), 'the dialog gone');
    expect(sup.callsOf('remove')).toHaveLength(0);
  });

  it('says why it does nothing while a merge runs, in the flash line and the help', async () => {
    const sup = new RemovingSupervisor([makeLane('landing', { state: 'merging' })]);
    r = renderApp(sup, { cols: 160, rows: 120 });
    await r.waitFor((f) => f.includes('landing'));
    await r.press('X');
    await r.waitFor((f) => plain(f).includes('X: a merge is in progress; it finishes in seconds'), 'reason in flash');
    expect(r.store.getState().overlay.kind).toBe('none');
    await r.pressBinding('app.help');
    const frame = plain(await r.waitFor((f) => plain(f).includes('Keys — esc closes')));
    const ls = frame.split('\n').map((l) => l.trim());
    expect(ls[ls.findIndex((l) => /^X\s+Remove the selected lane/.test(l)) + 1]).toBe(
      'disabled: a merge is in progress; it finishes in seconds',
    );
    expect(ls[ls.findIndex((l) => /^x\s+Stop the selected lane/.test(l)) + 1]).toBe(
      'disabled: a merge is in progress; it finishes in seconds',
    );
    expect(sup.callsOf('remove')).toHaveLength(0);
  });
});

describe('quit', () => {
  it('asks first while lanes are running, and only then requests quit', async () => {
    const sup = new FakeSupervisor([makeLane('busy', { state: 'running' })]);
    r = renderApp(sup);
    await r.waitFor((f) => f.includes('busy'));
    await r.pressBinding('app.quit');
    await r.waitFor((f) => plain(f).includes('Quit and stop every agent?'));
    expect(r.store.getState().request.quit).toBe(false);
    await r.press('y');
    expect(r.store.getState().request.quit).toBe(true);
  });

  it('quits at once when no lane is working', async () => {
    const sup = new FakeSupervisor([makeLane('done', { state: 'merged' })]);
    r = renderApp(sup);
    await r.waitFor((f) => f.includes('done'));
    await r.press('q');
    expect(r.store.getState().request.quit).toBe(true);
  });
});

describe('bounded frames', () => {
  const many = (): FakeSupervisor => {
    const lanes = Array.from({ length: 20 }, (_, i) =>
      makeLane(`lane-${String(i).padStart(2, '0')}-with-a-rather-long-name`, {
        state: (['running', 'idle', 'waiting-input', 'gating', 'awaiting-approval', 'failed'] as LaneState[])[i % 6],
        lastLine: 'x'.repeat(300),
        task: 'y'.repeat(300),
      }),
    );
    const sup = new FakeSupervisor(lanes);
    for (const l of lanes)
      sup.screens.set(
        l.name,
        Array.from({ length: 80 }, (_, i) => [{ text: `row ${i} ` + 'z'.repeat(400) }]),
      );
    return sup;
  };

  for (const [cols, rows] of [
    [80, 24],
    [200, 60],
  ]) {
    it(`fits ${cols}x${rows} with 20 lanes: fewer lines than rows, none wider than cols`, async () => {
      const sup = many();
      r = renderApp(sup, { cols, rows });
      const check = (frame: string): void => {
        const ls = plain(frame).split('\n');
        expect(ls.length).toBeLessThan(rows);
        for (const l of ls) expect(Array.from(l).length).toBeLessThanOrEqual(cols);
      };
      check(await r.waitFor((f) => f.includes('lane-00')));
      // selection far down stays visible
      for (let i = 0; i < 15; i++) await r.press('j');
      const f = await r.waitFor(
        (x) => lines(x).some((l) => l.startsWith('›') && l.includes('lane-15')),
        'lane-15 selected and visible',
      );
      check(f);
      const overlays: Overlay[] = [
        { kind: 'help' },
        { kind: 'new-lane-form', form: emptyNewLaneForm('main') },
        { kind: 'viewer', view: 'diff' },
      ];
      for (const overlay of overlays) {
        r.store.setState({ overlay });
        await new Promise((res) => setTimeout(res, 30));
        check(r.lastFrame());
      }
    });
  }

  it('follows a terminal resize', async () => {
    const sup = many();
    r = renderApp(sup, { cols: 200, rows: 60 });
    await r.waitFor((f) => f.includes('lane-00'));
    r.stdout.resize(80, 24);
    const f = await r.waitFor((x) => plain(x).split('\n').length < 24, 'smaller frame');
    expect(r.store.getState().size).toEqual({ cols: 80, rows: 24 });
    for (const l of plain(f).split('\n')) expect(Array.from(l).length).toBeLessThanOrEqual(80);
  });
});
