/**
 * GitHub Copilot CLI through a whole task in a lane, against the scripted model
 * (test/helpers/agentLoop.ts): its hooks, in the plugin the profile loads with `--plugin-dir`
 * (profiles/hooks/copilot), mark the lane waiting when a permission prompt shows
 * (permissionRequest) and hand it off when a turn ends (agentStop). With its own provider Copilot
 * offers `create` (which refuses an existing file) and `edit`: the model creates hello.txt, then
 * edits it after the rejection. The operator's own hook in ~/.copilot/settings.json runs too.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { agentLoopHarness, loopScript } from '../helpers/agentLoop.js';
import { COPILOT_USER_HOOK_MARK } from '../model/agents.js';

describe('Copilot CLI through a whole task against a scripted model', () => {
  const { runLoop, need } = agentLoopHarness();

  it('task, permission, write, agentStop hook handoff, reject with a reason, edit, merge', async (ctx) => {
    const script = loopScript();
    script[2] = { tool: 'edit', path: 'hello.txt', oldText: 'hello', newText: 'hello world', usage: script[2].usage };
    const l = await runLoop(
      {
        agent: 'copilot',
        prompt: /Do you want to create \S*hello\.txt\?/,
        overwritePrompt: /Do you want to edit \S*hello\.txt\?/,
        approveKey: '\r',
        slowMs: 90_000,
        handoffCause: /^control$/,
        script,
      },
      need(ctx),
    );
    // The operator's own agentStop hook (~/.copilot/settings.json) ran beside the profile's.
    expect(existsSync(path.join(l.home, COPILOT_USER_HOOK_MARK))).toBe(true);
  }, 360_000);
});
