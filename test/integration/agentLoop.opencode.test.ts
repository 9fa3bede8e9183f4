/**
 * opencode through a whole task in a lane, against the scripted model (test/helpers/agentLoop.ts):
 * its plugin (profiles/hooks/opencode, named by the profile in OPENCODE_CONFIG, which opencode
 * merges over the user's config) marks the lane waiting on permission.asked and hands it off on
 * session.idle. opencode takes 20-60 s (more on a busy machine) to start and 10-18 s a turn: the
 * waits are long on purpose.
 */
import { describe, it } from 'vitest';
import { agentLoopHarness } from '../helpers/agentLoop.js';

describe('opencode through a whole task against a scripted model', () => {
  const { runLoop, need } = agentLoopHarness();

  it('task, permission, write, session.idle plugin handoff, reject with a reason, rewrite, merge', async (ctx) => {
    await runLoop(
      {
        agent: 'opencode',
        prompt: /Permission required/,
        overwritePrompt: /Permission required/,
        approveKey: '\r',
        slowMs: 180_000,
        handoffCause: /^control$/,
      },
      need(ctx),
    );
  }, 900_000);
});
