/**
 * Codex CLI through a whole task in a lane, against the scripted model (test/helpers/agentLoop.ts):
 * its `notify` program (given by the profile with `-c`) hands the lane off when a turn ends, and
 * not when the hidden thread that writes the session's title ends its own turn first (that one
 * comes while the permission prompt still shows); the prompt itself is read from the screen.
 * The model writes through `exec_command` asking to leave the sandbox, so Codex asks.
 */
import { describe, it } from 'vitest';
import { agentLoopHarness } from '../helpers/agentLoop.js';

describe('Codex through a whole task against a scripted model', () => {
  const { runLoop, need } = agentLoopHarness();

  it('task, permission, write, notify handoff, reject with a reason, rewrite, merge', async (ctx) => {
    await runLoop(
      {
        agent: 'codex',
        prompt: /Would you like to run the following command\?/,
        overwritePrompt: /Would you like to run the following command\?/,
        approveKey: 'y',
        slowMs: 60_000,
        handoffCause: /^control$/,
      },
      need(ctx),
    );
  }, 240_000);
});
