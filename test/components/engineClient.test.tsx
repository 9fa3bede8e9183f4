/**
 * The dashboard as an engine client: the quit dialog (lanes keep running by default; stopping
 * them and the engine is a separate key; ctrl-c twice quits) and the engine-gone overlay.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSupervisor, makeLane, plain, renderApp, sleep, type Rendered } from './harness.js';

let r: Rendered | null = null;
afterEach(() => {
  r?.unmount();
  r = null;
});

const client = (sup: FakeSupervisor): Rendered =>
  renderApp(sup, { cols: 120, rows: 30, store: { lanesOutlive: true } });

describe('quit dialog of an engine client', () => {
  it('says how many lanes keep running; enter quits leaving them running', async () => {
    const sup = new FakeSupervisor([
      makeLane('one', { state: 'running' }),
      makeLane('two', { state: 'awaiting-approval', alive: true }),
      makeLane('done', { state: 'merged', alive: false }),
    ]);
    r = client(sup);
    await r.waitFor((f) => f.includes('done'));
    await r.press('q');
    const frame = plain(await r.waitFor((f) => plain(f).includes('keep running')));
    expect(frame).toContain('2 lanes keep running');
    expect(frame).toContain('`ao-console engine stop`');
    expect(frame).toContain('s stop every lane and the engine');
    expect(r.store.getState().request.quit).toBe(false);
    await r.press('enter');
    expect(r.store.getState().request).toMatchObject({ quit: true });
    expect(r.store.getState().request.stopEngine).toBeFalsy();
    // quitting a client never stops a lane by itself
    expect(sup.callsOf('stop')).toEqual([]);
    expect(sup.callsOf('shutdown')).toEqual([]);
  });

  it('asks even with no lane, and s is the explicit "stop every lane and the engine"', async () => {
    r = client(new FakeSupervisor([]));
    await r.press('q');
    await r.waitFor((f) => plain(f).includes('0 lanes keep running'));
    await r.press('s');
    expect(r.store.getState().request).toMatchObject({ quit: true, stopEngine: true });
  });

  it('n goes back; one ctrl-c asks, a second within a second quits like y', async () => {
    r = client(new FakeSupervisor([makeLane('one')]));
    await r.press('q');
    await r.waitFor((f) => plain(f).includes('1 lane keeps running'));
    await r.press('n');
    expect(r.store.getState().overlay.kind).toBe('none');
    await r.press('ctrl-c');
    expect(r.store.getState().overlay.kind).toBe('confirm');
    await r.press('ctrl-c');
    expect(r.store.getState().request.quit).toBe(true);
    expect(r.store.getState().request.stopEngine).toBeFalsy();
  });

  it('a second ctrl-c after more than a second only closes the dialog', async () => {
    r = client(new FakeSupervisor([makeLane('one')]));
    await r.press('ctrl-c');
    expect(r.store.getState().overlay.kind).toBe('confirm');
    await sleep(1100);
    await r.press('ctrl-c');
    expect(r.store.getState().overlay.kind).toBe('none');
    expect(r.store.getState().request.quit).toBe(false);
  });

  it('an in-process console (no engine) keeps the old question and has no stop-the-engine choice', async () => {
    r = renderApp(new FakeSupervisor([makeLane('one', { state: 'running' })]), { cols: 120, rows: 30 });
    await r.press('q');
    const frame = plain(await r.waitFor((f) => plain(f).includes('Quit and stop every agent?')));
    expect(frame).not.toContain('stop every lane and the engine');
    await r.press('s');
    expect(r.store.getState().request.quit).toBe(false);
  });
});

describe('engine-gone overlay', () => {
  it('says the engine is gone and offers r to start it again and q to quit; other keys do nothing', async () => {
    r = client(new FakeSupervisor([makeLane('one')]));
    await r.waitFor((f) => f.includes('one'));
    r.store.actions.engineGone('the engine is gone (the connection ended without a word)');
    const frame = plain(await r.waitFor((f) => plain(f).includes('The engine is gone')));
    expect(frame).toContain('r start it again');
    expect(frame).toContain('q quit');
    await r.press('n'); // the dashboard's "new lane" does nothing here
    expect(r.store.getState().overlay.kind).toBe('engine-gone');
    await r.press('escape');
    expect(r.store.getState().overlay.kind).toBe('engine-gone');

    await r.press('r');
    expect(r.store.getState().request.restartEngine).toBe(true);
    await r.waitFor((f) => plain(f).includes('starting the engine…'));
    // the host failed to start it: the overlay stays with the reason
    r.store.actions.engineBack('could not start the engine again: boom');
    await r.waitFor((f) => plain(f).includes('boom'));
    expect(r.store.getState().request.restartEngine).toBe(false);
    await r.press('r');
    r.store.actions.engineBack(null, ['lane one was interrupted: resumable']);
    await r.waitFor((f) => plain(f).includes('engine started again: lane one was interrupted'));
    expect(r.store.getState().overlay.kind).toBe('none');
  });

  it('q quits from the overlay', async () => {
    r = client(new FakeSupervisor([makeLane('one')]));
    r.store.actions.engineGone('gone');
    await r.waitFor((f) => plain(f).includes('The engine is gone'));
    await r.press('q');
    expect(r.store.getState().request.quit).toBe(true);
  });
});

describe('attach is allowed whenever the agent process runs', () => {
  it('enter attaches to a lane awaiting approval with its agent alive, and not to one whose agent ended', async () => {
    const sup = new FakeSupervisor([
      makeLane('handed', { state: 'awaiting-approval', alive: true }),
      makeLane('ended', { state: 'awaiting-approval', alive: false }),
    ]);
    r = client(sup);
    await r.waitFor((f) => f.includes('ended'));
    r.store.actions.focusLane('handed');
    await r.press('enter');
    expect(r.store.getState().request.attach).toBe('handed');
    r.store.actions.attachDone();
    r.store.actions.focusLane('ended');
    await r.press('enter');
    expect(r.store.getState().request.attach).toBeNull();
  });
});
