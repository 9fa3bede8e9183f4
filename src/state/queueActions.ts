/**
 * The merge queue from the dashboard (lanes/supervisor/mergeQueue.ts): move the focused lane one
 * place up or down, take it out (back to awaiting approval), pause or resume the queue.
 */
import type { ActionContext } from './context.js';

export interface QueueActions {
  /** moves the focused lane `delta` places in the merge queue (-1: towards the head) */
  moveInQueue(delta: number): Promise<void>;
  removeFromQueue(): Promise<void>;
  /** pauses the queue, or resumes it when paused */
  toggleQueuePause(): Promise<void>;
}

export function createQueueActions(ctx: ActionContext): QueueActions {
  const { supervisor, flash } = ctx;
  return {
    async moveInQueue(delta) {
      const lane = ctx.needFocused();
      if (!lane?.queue || !supervisor.moveInQueue) return;
      const position = Math.max(1, lane.queue.position + delta);
      const name = lane.name;
      if (
        await ctx.guard(`move ${name} in the merge queue`, async () => {
          await supervisor.moveInQueue!(name, position);
        })
      )
        flash(`${name}: position ${position} of the merge queue`);
    },
    async removeFromQueue() {
      const lane = ctx.needFocused();
      if (!lane || !supervisor.removeFromQueue) return;
      const name = lane.name;
      if (await ctx.guard(`take ${name} out of the merge queue`, () => supervisor.removeFromQueue!(name)))
        flash(`${name} taken out of the merge queue: back in awaiting approval`);
    },
    async toggleQueuePause() {
      if (!supervisor.pauseQueue || !supervisor.mergeQueue) return;
      const api = { pause: supervisor.pauseQueue.bind(supervisor), read: supervisor.mergeQueue.bind(supervisor) };
      let paused = false;
      const ok = await ctx.guard('pause or resume the merge queue', async () => {
        paused = !(await api.read()).paused;
        await api.pause(paused);
      });
      if (ok) flash(paused ? 'merge queue paused (an entry validating or merging finishes)' : 'merge queue resumed');
    },
  };
}
