/**
 * The opencode plugin of ao-console lanes, loaded through the extra config file next to this
 * folder (`profiles/hooks/opencode/opencode.json`, named by the built-in `opencode` profile in
 * OPENCODE_CONFIG, which opencode merges over the user's own config: nothing is written into the
 * lane's worktree or the user's ~/.config/opencode). On opencode's events it runs the lanes'
 * agent hook (AO_HOOK_SCRIPT, profiles/hooks/agentHook.mjs) with the console's Node
 * (AO_HOOK_NODE; the profile sets both) as an argv (no shell), detached, so the agent never
 * waits for it:
 *
 *   permission.asked, question.asked   a prompt for the operator shows  -> agentHook.mjs waiting
 *   session.idle (a top-level session) the turn ended                     -> agentHook.mjs handoff
 *
 * A session started by the task tool (it has a parent) going idle is not the agent's turn.
 * Outside a lane (no AO_LANE, AO_HOOK_NODE or AO_HOOK_SCRIPT) it does nothing.
 */
import { spawn } from 'node:child_process';

function run(verb) {
  const { AO_LANE: lane, AO_HOOK_NODE: node, AO_HOOK_SCRIPT: script } = process.env;
  if (!lane || !node || !script) return;
  try {
    const child = spawn(node, [script, verb], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // never fail the agent
  }
}

export const AoConsoleLane = async () => {
  /** ids of sessions that have a parent (subagent sessions of the task tool) */
  const children = new Set();
  return {
    event: async ({ event }) => {
      const props = event?.properties ?? {};
      switch (event?.type) {
        case 'session.created':
        case 'session.updated':
          if (props.info?.parentID) children.add(props.info.id);
          break;
        case 'permission.asked':
        case 'question.asked':
          run('waiting');
          break;
        case 'session.idle':
          if (!children.has(props.sessionID)) run('handoff');
          break;
      }
    },
  };
};
