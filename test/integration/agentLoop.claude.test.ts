/**
 * Claude Code through a whole task in a lane, against the scripted model (test/helpers/agentLoop.ts):
 * its PermissionRequest hook marks the lane waiting, its Stop hook hands it off (both wired by
 * the profile through `--settings`).
 */
import { describe, it } from 'vitest';
import { agentLoopHarness } from '../helpers/agentLoop.js';

describe('Claude Code through a whole task against a scripted model', () => {
  const { runLoop, need } = agentLoopHarness();

  it('task, permission, write, Stop hook handoff, reject with a reason, rewrite, merge', async (ctx) => {
    await runLoop(
      {
        agent: 'claude',
        prompt: /Do you want to create hello\.txt\?/,
        overwritePrompt: /Do you want to overwrite hello\.txt\?/,
        approveKey: '\r',
        slowMs: 60_000,
        handoffCause: /^control$/,
      },
      need(ctx),
    );
  }, 240_000);
});
