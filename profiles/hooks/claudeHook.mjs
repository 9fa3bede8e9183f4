#!/usr/bin/env node
/**
 * Claude Code hook for ao-console lanes, wired by the built-in `claude` profile through
 * `claude --settings <json>` (so no file in the lane's worktree is touched):
 *
 *   node claudeHook.mjs stop          Stop hook: the agent finished its turn -> `ao-console ctl handoff $AO_LANE`
 *   node claudeHook.mjs permission    PermissionRequest hook: a permission prompt is about to show (at once,
 *                                     unlike Notification, which comes several seconds later)
 *                                     -> `ao-console ctl waiting $AO_LANE`
 *   node claudeHook.mjs notification  Notification hook: the agent waits (permission prompt, idle prompt)
 *                                     -> `ao-console ctl waiting $AO_LANE` (held until the agent writes
 *                                     again; the screen patterns stay the fallback)
 *
 * It runs the ao-console CLI of the same installation (`../../dist/src/cli.js`) with the Node that
 * runs this script, as an argv array (no shell). The lane's environment carries AO_LANE and
 * AO_STATE_DIR, so the call reaches the console that started the lane. The hook's JSON on stdin
 * is read and ignored. It always exits 0: a hook must never block or break Claude Code (for a
 * Stop hook, exit 2 would even keep Claude working), and outside a lane it does nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const VERBS = { stop: 'handoff', permission: 'waiting', notification: 'waiting' };

function main() {
  try {
    readFileSync(0);
  } catch {
    // no stdin: nothing to drain
  }
  const lane = process.env.AO_LANE;
  const verb = VERBS[process.argv[2] ?? ''];
  if (!lane || !verb) return;
  const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
  if (!existsSync(cli)) return;
  spawnSync(process.execPath, [cli, 'ctl', verb, lane], { stdio: 'ignore', timeout: 20_000 });
}

try {
  main();
} catch {
  // never fail the agent's hook
}
process.exit(0);
