import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ActionError, type SupervisorApi } from '../../lanes/supervisor/api.js';
import type { LaneSnapshot } from '../../lanes/lane/types.js';
import { activeBindings, dispatchKey, KEYMAP, SCOPES, scopeOf } from '../../src/keymap.js';
import { createAppStore } from '../../src/state/store.js';
import type { Mode } from '../../src/state/types.js';
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

  it('every mode maps to a scope that has a way out', () => {
    const modes: Mode[] = [
      'none',
      'help',
      'new-lane-form',
      'reject-form',
      'confirm-stop',
      'confirm-quit',
      'confirm-approve',
      'learning-input',
      'diff',
      'gate-output',
    ];
    for (const m of modes) {
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

describe('dispatch', () => {
  const lane = (name: string, state: LaneSnapshot['state']): LaneSnapshot =>
    ({
      name,
      state,
      profile: 'demo',
      task: '',
      stateSince: 0,
      gateSummary: '',
      reworkCount: 0,
      outputRate: 0,
      lastLine: '',
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
    expect(store.getState().mode).toBe('confirm-stop');
    dispatchKey('y', 'y', store.getState(), store.actions);
    await new Promise((r) => setTimeout(r, 5));
    expect(store.getState().flash).toMatchObject({ kind: 'error', text: 'stop one: lane is already stopping' });
    store.dispose();
  });

  it('in a text field printable keys type instead of acting', () => {
    const store = createAppStore(supervisor([lane('one', 'running')], []), { refreshMs: 0, profiles: ['demo'] });
    store.actions.openNewLaneForm();
    for (const ch of 'qa?x') dispatchKey(ch, ch, store.getState(), store.actions);
    expect(store.getState().newLane.name).toBe('qa?x');
    expect(store.getState().mode).toBe('new-lane-form');
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
