/**
 * Gemini CLI through a whole task in a lane, against the scripted model (test/helpers/agentLoop.ts):
 * its AfterAgent hook hands the lane off, its Notification (ToolPermission) hook marks it waiting
 * (both in the settings file the profile points GEMINI_CLI_SYSTEM_DEFAULTS_PATH at). Those
 * settings lie under the operator's own: their auth choice still holds (no sign-in screen), and
 * their own AfterAgent hook still runs beside the profile's.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { agentLoopHarness } from '../helpers/agentLoop.js';
import { GEMINI_USER_HOOK_MARK } from '../model/agents.js';

describe('Gemini CLI through a whole task against a scripted model', () => {
  const { runLoop, need } = agentLoopHarness();

  it('task, permission, write, AfterAgent hook handoff, reject with a reason, rewrite, merge', async (ctx) => {
    const l = await runLoop(
      {
        agent: 'gemini',
        prompt: /Apply this change\?/,
        overwritePrompt: /Apply this change\?/,
        approveKey: '\r',
        slowMs: 60_000,
        handoffCause: /^control$/,
      },
      need(ctx),
    );
    expect(existsSync(path.join(l.home, GEMINI_USER_HOOK_MARK))).toBe(true);
  }, 240_000);
});
