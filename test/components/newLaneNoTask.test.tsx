/**
 * The new-lane form leaves the task to the engine: a `shell` lane (taskInput "none") is created
 * with no task, and an engine's refusal of an empty task shows on the task field, not the name.
 */
import { afterEach, expect, it } from 'vitest';
import { ActionError } from '../../lanes/supervisor/api.js';
import type { NewLaneRequest } from '../../lanes/supervisor/api.js';
import { FakeSupervisor, plain, renderApp, type Rendered } from './harness.js';

let r: Rendered | null = null;
afterEach(() => {
  r?.unmount();
  r = null;
});

it('creates a shell lane with an empty task', async () => {
  const sup = new FakeSupervisor([]);
  r = renderApp(sup, { cols: 100, rows: 24, profiles: ['shell'] });
  await r.waitFor((f) => f.includes('no lanes yet'));
  await r.pressBinding('lane.new');
  await r.waitFor((f) => plain(f).includes('New lane'));
  await r.type('by-hand');
  await r.press('enter');
  await r.waitFor(() => sup.callsOf('newLane').length === 1, 'newLane called');
  expect(sup.callsOf('newLane')[0][0]).toMatchObject({ name: 'by-hand', profile: 'shell', task: '' });
});

it("shows the engine's empty-task refusal on the task field", async () => {
  class NeedsTask extends FakeSupervisor {
    override async newLane(req: NewLaneRequest) {
      if (!req.task) throw new ActionError('the task is empty', 'bad-input');
      return super.newLane(req);
    }
  }
  const sup = new NeedsTask([]);
  r = renderApp(sup, { cols: 100, rows: 24, profiles: ['demo'] });
  await r.waitFor((f) => f.includes('no lanes yet'));
  await r.pressBinding('lane.new');
  await r.waitFor((f) => plain(f).includes('New lane'));
  await r.type('needs-one');
  await r.press('enter');
  await r.waitFor((f) => plain(f).includes('the task is empty'), 'the refusal');
  const form = r.store.getState().overlay as { kind: string; form?: { field: string; errors: Record<string, string> } };
  expect(form.kind).toBe('new-lane-form');
  expect(form.form?.errors).toEqual({ task: 'the task is empty' });
  expect(form.form?.field).toBe('task');
});
