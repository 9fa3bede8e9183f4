import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ActionError, type SupervisorApi } from '../../lanes/supervisor/api.js';
import { isLive } from '../../lanes/lane/rules.js';
import { LANE_STATES, type LaneSnapshot } from '../../lanes/lane/types.js';
import { activeBindings, dispatchKey, KEYMAP, SCOPES, scopeOf } from '../../src/keymap/index.js';
import { allows, overlayOf, type LaneAction } from '../../src/state/selectors.js';
import { createAppStore } from '../../src/state/store.js';
import { OVERLAY_KINDS } from '../../src/state/types.js';
import { renderKeybindingsMarkdown } from '../../src/tools/genKeybindings.js';

describe('keymap table', () => {
  it('every binding has an id, a description, a footer label and at least one key', () => {
    for (const b of KEYMAP) {
      expect(b.id, JSON.stringify(b.keys)).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
      expect(b.description.trim().length, b.id).toBeGreaterThan(5);
      expect(b.short.trim().length, b.id).toBeGreaterThan(0);
      expect(b.keys.length, b.id).toBeGreaterThan(0);
      expect(SCOPES).toContain(b.scope);
    }
  });

  it('ids are unique', () => {
    const ids = KEYMAP.map((b) => b.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('no key is bound twice in one scope', () => {
    for (const scope of SCOPES) {
      const seen = new Map<string, string>();
      for (const b of KEYMAP.filter((x) => x.scope === scope)) {
        for (const k of b.keys) {
          expect(seen.get(k), `${scope}: "${k}" bound by ${seen.get(k)} and ${b.id}`).toBeUndefined();
          seen.set(k, b.id);
        }
      }
    }
  });

  it('every overlay maps to a scope that has a way out', () => {
    for (const m of OVERLAY_KINDS) {
      const scope = scopeOf(m);
      const keys = KEYMAP.filter((b) => b.scope === scope).flatMap((b) => b.keys);
      expect(keys.includes('escape') || keys.includes('q'), `${m} (${scope})`).toBe(true);
    }
  });

  it('docs/keybindings.md is up to date (npm run docs:keys regenerates it)', () => {
    const committed = readFileSync(resolve(import.meta.dirname, '../../docs/keybindings.md'), 'utf8');
    expect(committed).toBe(renderKeybindingsMarkdown());
  });

  it('the generated docs list every binding', () => {
    const md = renderKeybindingsMarkdown();
    for (const b of KEYMAP) expect(md).toContain(`\`${b.id}\``);
  });
});

const lane = (name: string, state: LaneSnapshot['state'], alive = isLive(state)): LaneSnapshot =>
  ({
    name,
    state,
    alive,
    profile: 'demo',
    task: '',
    stateSince: 0,
    gateSummary: '',
    reworkCount: 0,
    outputRate: 0,
    lastLine: '',
    worktree: `/tmp/wt/${name}`,
    cols: 80,
    rows: 24,
  }) as LaneSnapshot;
const supervisor = (lanes: LaneSnapshot[], calls: string[]): SupervisorApi =>
  ({
    sessionId: 's',
    repoRoot: '/r',
    listLanes: () => lanes,
    getLane: (n: string) => lanes.find((l) => l.name === n),
    screenStyled: () => [],
    cursor: () => ({ x: 0, y: 0, visible: true }),
    resize: () => undefined,
    on: () => () => undefined,
    handoff: async (n: string) => void calls.push(`handoff ${n}`),
    stop: async () => {
      throw new ActionError('lane is already stopping', 'bad-state');
    },
    review: async () => {
      throw new ActionError('no review', 'bad-state');
    },
  }) as unknown as SupervisorApi;

describe('dispatch', () => {
  it('a disabled key does nothing but say why; an enabled one runs', async () => {
    const calls: string[] = [];
    const store = createAppStore(supervisor([lane('one', 'running')], calls), { refreshMs: 0, profiles: ['demo'] });
    expect(dispatchKey('a', 'a', store.getState(), store.actions)).toBe('disabled');
    expect(store.getState().flash?.text).toBe('a: no lane awaiting approval (one is running)');
    expect(dispatchKey('h', 'h', store.getState(), store.actions)).toBe('ran');
    await new Promise((r) => setTimeout(r, 5));
    expect(calls).toEqual(['handoff one']);
    store.dispose();
  });

  it('an ActionError from the engine lands in the flash line', async () => {
    const store = createAppStore(supervisor([lane('one', 'running')], []), { refreshMs: 0 });
    dispatchKey('x', 'x', store.getState(), store.actions);
    expect(store.getState().overlay).toMatchObject({ kind: 'confirm', action: 'stop' });
    dispatchKey('y', 'y', store.getState(), store.actions);
    await new Promise((r) => setTimeout(r, 5));
    expect(store.getState().flash).toMatchObject({ kind: 'error', text: 'stop one: lane is already stopping' });
    store.dispose();
  });

  it('in a text field printable keys type instead of acting', () => {
    const store = createAppStore(supervisor([lane('one', 'running')], []), { refreshMs: 0, profiles: ['demo'] });
    store.actions.openNewLaneForm();
    for (const ch of 'qa?x') dispatchKey(ch, ch, store.getState(), store.actions);
    expect(overlayOf(store.getState(), 'new-lane-form')?.form.name).toBe('qa?x');
    expect(store.getState().overlay.kind).toBe('new-lane-form');
    expect(store.getState().request.quit).toBe(false);
    store.dispose();
  });

  it('the footer lists only enabled bindings of the current scope', () => {
    const store = createAppStore(supervisor([lane('one', 'awaiting-approval')], []), {
      refreshMs: 0,
      profiles: ['demo'],
    });
    const ids = activeBindings(store.getState()).map((b) => b.id);
    expect(ids).toContain('review.approve');
    expect(ids).not.toContain('lane.attach');
    expect(ids.every((id) => KEYMAP.find((b) => b.id === id)?.scope === 'dashboard')).toBe(true);
    store.dispose();
  });
});

describe('lane keys ask the lane rules', () => {
  const byRule: Array<[string, LaneAction]> = [
    ['lane.attach', 'attach'],
    ['lane.handoff', 'handoff'],
    ['review.approve', 'approve'],
    ['review.reject', 'reject'],
    ['gates.rerun', 'rerun-gates'],
    ['lane.stop', 'stop'],
    ['lane.remove', 'remove'],
    ['lane.resume', 'resume'],
  ];
  const binding = (id: string) => KEYMAP.find((b) => b.id === id)!;

  it('in every lane state, a lane key acts exactly when the rules allow its action', () => {
    for (const state of LANE_STATES) {
      const store = createAppStore(supervisor([lane('one', state)], []), { refreshMs: 0 });
      for (const [id, action] of byRule) {
        const ok = binding(id).enabled(store.getState());
        expect(ok === true, `${id} in ${state}: ${ok}`).toBe(allows(state, action));
        if (ok !== true) expect(ok, `${id} in ${state}`).toMatch(/\S/);
      }
      store.dispose();
    }
  });

  it("attach follows the lane's process, not its state: a live agent in review or gating, yes; a dead one, no", () => {
    for (const [state, alive, expected] of [
      ['awaiting-approval', true, true],
      ['gating', true, true],
      ['running', false, false],
      ['awaiting-approval', false, false],
    ] as const) {
      const store = createAppStore(supervisor([lane('one', state, alive)], []), { refreshMs: 0 });
      const ok = binding('lane.attach').enabled(store.getState());
      expect(ok === true, `attach in ${state}, alive ${alive}: ${ok}`).toBe(expected);
      store.dispose();
    }
  });

  it('x (stop) is offered while a lane is gating (its gates are cancelled), and asks first', () => {
    const store = createAppStore(supervisor([lane('one', 'gating')], []), { refreshMs: 0 });
    expect(activeBindings(store.getState()).map((b) => b.id)).toContain('lane.stop');
    expect(dispatchKey('x', 'x', store.getState(), store.actions)).toBe('ran');
    expect(store.getState().overlay).toMatchObject({ kind: 'confirm', action: 'stop', lane: 'one' });
    store.dispose();
  });

  it('x (stop) and X (remove) are not offered while a merge runs, and say why when pressed', () => {
    const store = createAppStore(supervisor([lane('one', 'merging')], []), { refreshMs: 0 });
    const ids = activeBindings(store.getState()).map((b) => b.id);
    expect(ids).not.toContain('lane.stop');
    for (const key of ['x', 'X']) {
      expect(dispatchKey(key, key, store.getState(), store.actions)).toBe('disabled');
      expect(store.getState().overlay.kind).toBe('none');
      expect(store.getState().flash?.text).toBe(`${key}: a merge is in progress; it finishes in seconds`);
    }
    store.dispose();
  });

  it('X (remove) asks first, and yes removes the lane', async () => {
    const calls: string[] = [];
    const sup = {
      ...supervisor([lane('one', 'gating')], calls),
      remove: async (n: string) => void calls.push(`remove ${n}`),
    } as SupervisorApi;
    const store = createAppStore(sup, { refreshMs: 0 });
    expect(dispatchKey('X', 'X', store.getState(), store.actions)).toBe('ran');
    expect(store.getState().overlay).toMatchObject({ kind: 'confirm', action: 'remove', lane: 'one' });
    expect(overlayOf(store.getState(), 'confirm')?.message).toMatch(/^Remove lane one\? .*refs\/ao\/archive\/one\//);
    expect(calls).toEqual([]);
    dispatchKey('y', 'y', store.getState(), store.actions);
    await new Promise((r) => setTimeout(r, 5));
    expect(calls).toEqual(['remove one']);
    expect(store.getState().flash?.text).toMatch(/^one removed: its work is kept under refs\/ao\/archive\/one\//);
    store.dispose();
  });

  it('X (remove) says why on a lane that is over', () => {
    const store = createAppStore(supervisor([lane('one', 'merged')], []), { refreshMs: 0 });
    expect(dispatchKey('X', 'X', store.getState(), store.actions)).toBe('disabled');
    expect(store.getState().flash?.text).toMatch(/^X: only a lane that is created, .* can be removed$/);
    store.dispose();
  });

  it('d (diff) needs a worktree that is still there', () => {
    const check = (l: LaneSnapshot): true | string => {
      const store = createAppStore(supervisor([l], []), { refreshMs: 0 });
      const ok = binding('review.diff').enabled(store.getState());
      store.dispose();
      return ok;
    };
    expect(check(lane('one', 'awaiting-approval'))).toBe(true);
    expect(check(lane('one', 'stopped'))).toBe(true);
    expect(check(lane('one', 'running'))).toBe(true);
    expect(check(lane('one', 'merged'))).toBe('no worktree to diff (one is merged)');
    expect(check({ ...lane('one', 'running'), worktree: '' })).toBe('no worktree to diff (one is running)');
  });
});

describe('overlay', () => {
  it('one thing covers the dashboard at a time: opening another drops the first and what it held', () => {
    const store = createAppStore(supervisor([lane('one', 'awaiting-approval')], []), { refreshMs: 0 });
    store.actions.openReject();
    store.actions.typeText('too slow');
    expect(overlayOf(store.getState(), 'reject-form')?.form.reason).toBe('too slow');
    store.actions.openLearning();
    expect(store.getState().overlay).toEqual({ kind: 'learning-input', text: '', lane: 'one' });
    store.actions.typeText('x');
    store.actions.closeOverlay();
    store.actions.openReject();
    expect(overlayOf(store.getState(), 'reject-form')?.form).toMatchObject({ lane: 'one', reason: '', step: 'reason' });
    store.dispose();
  });

  it('yes in a confirm dialog does what it asked about, once', async () => {
    const calls: string[] = [];
    const store = createAppStore(supervisor([lane('one', 'running')], calls), { refreshMs: 0 });
    store.actions.requestQuit();
    expect(store.getState().overlay).toMatchObject({ kind: 'confirm', action: 'quit' });
    await store.actions.confirmYes();
    expect(store.getState().request.quit).toBe(true);
    expect(store.getState().overlay.kind).toBe('none');
    store.dispose();
  });
});
