/**
 * Approving a lane with nothing to merge: the dashboard says so and offers discard (the reject
 * form opens on discard, the reason filled in) instead of approving, whether the review already
 * says the lane is empty or the engine refuses with `nothing-to-merge`.
 */
import { afterEach, expect, it } from 'vitest';
import { ActionError } from '../../lanes/supervisor/api.js';
import { FakeSupervisor, makeLane, plain, renderApp, sampleReview, type Rendered } from './harness.js';

let r: Rendered | null = null;
afterEach(() => {
  r?.unmount();
  r = null;
});

/** An engine that refuses every approve as the real one refuses an empty lane. */
class NothingToMerge extends FakeSupervisor {
  override async approve(name: string, opts?: { override?: boolean; by?: string }): Promise<void> {
    await super.approve(name, opts).catch(() => {});
    this.setState(name, 'awaiting-approval');
    throw new ActionError(
      `nothing to merge: lane ${name} has no commits beyond main; discard it instead`,
      'nothing-to-merge',
    );
  }
}

it('an empty lane: approve does not approve, it opens the reject form on discard; enter discards it', async () => {
  const sup = new FakeSupervisor([makeLane('idle', { state: 'awaiting-approval', empty: true })]);
  sup.reviews.set('idle', sampleReview('idle', { empty: true, diffStat: [], diff: '' }));
  r = renderApp(sup);
  await r.waitFor((f) => plain(f).includes('no changes against main'));
  await r.pressBinding('review.approve');
  const frame = await r.waitFor((f) => plain(f).includes('Reject idle'), 'the reject form');
  expect(plain(frame)).toContain('nothing to merge: lane idle has no commits beyond main');
  expect(plain(frame)).toMatch(/\(•\) D discard/);
  expect(sup.callsOf('approve')).toHaveLength(0);
  await r.pressBinding('reject.next');
  await r.waitFor(() => sup.callsOf('reject').length === 1, 'reject call');
  expect(sup.callsOf('reject')[0]).toEqual([
    'idle',
    { reason: 'nothing to merge: lane idle has no commits beyond main', mode: 'discard', by: 'operator' },
  ]);
});

it('the engine refuses with nothing-to-merge: the same offer, the lane left in review', async () => {
  const sup = new NothingToMerge([makeLane('same', { state: 'awaiting-approval' })]);
  sup.reviews.set('same', sampleReview('same'));
  r = renderApp(sup);
  await r.waitFor((f) => plain(f).includes('required gates passed'));
  await r.pressBinding('review.approve');
  const frame = await r.waitFor((f) => plain(f).includes('Reject same'), 'the reject form');
  expect(plain(frame)).toContain('nothing to merge: lane same has no commits beyond main');
  expect(r.store.getState().overlay).toMatchObject({ kind: 'reject-form', form: { step: 'mode', mode: 'discard' } });
  expect(sup.callsOf('reject')).toHaveLength(0);
});
