#!/usr/bin/env node
/**
 * The agent hook of ao-console lanes, one script for every agent whose profile wires hooks
 * (docs/profiles.md, "Agent hooks"): Claude Code (`--settings`), Codex (`notify`, through `-c`),
 * Gemini CLI (settings `hooks`, through a system-defaults file). The verb is the first argument:
 *
 *   node agentHook.mjs handoff [json]   the agent ended its turn  -> `ao-console ctl handoff $AO_LANE`
 *   node agentHook.mjs waiting [json]   the agent asks the operator (a permission prompt)
 *                                       -> `ao-console ctl waiting $AO_LANE`
 *
 * Whatever the agent hands over (JSON on stdin, or Codex's JSON as the last argument) is read and
 * ignored, except that a Codex notification about a thread Codex does not keep (the hidden thread
 * that writes the session's title ends its turn before the real one) hands nothing off.
 *
 * It never blocks the agent for long and never fails it: it files the call in a per-lane queue
 * in the lane's state dir ($AO_STATE_DIR/hooks/<lane>/, named by a monotonic clock read when the
 * hook started), starts a detached drainer and exits 0 at once. One drainer at a time per lane
 * (a lock directory) runs the queued calls oldest first, one after the other, with the
 * ao-console CLI of the same installation (`../../dist/src/cli.js`) and this Node, as argv (no
 * shell). So a `waiting` filed before a `handoff` always reaches the console before it, however
 * the two detached processes are scheduled. Outside a lane (no AO_LANE) it does nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmdirSync,
  statSync,
  unlinkSync,
  utimesSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Verbs of `ao-console ctl` this hook calls; the older Claude hook words still work. */
const VERBS = {
  handoff: 'handoff',
  waiting: 'waiting',
  stop: 'handoff',
  permission: 'waiting',
  notification: 'waiting',
};
/** A drainer lock untouched this long belongs to a drainer that died. */
const STALE_LOCK_MS = 60_000;
/** The longest one ctl call may take. */
const CTL_TIMEOUT_MS = 20_000;

const SCRIPT = fileURLToPath(import.meta.url);
const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

/** 20 digits of the monotonic clock (comparable across processes on the same machine). */
function ticket() {
  return process.hrtime.bigint().toString().padStart(20, '0');
}

function drainStdin() {
  if (process.stdin.isTTY) return;
  try {
    readFileSync(0);
  } catch {
    // no stdin (Codex's notify gives /dev/null; a closed pipe): nothing to drain
  }
}

/**
 * Codex's `notify` fires for every thread that ends a turn, also for the hidden one that writes
 * the session's title (it ends its turn while the real one still works). Codex keeps a rollout
 * file (sessions/…/rollout-<time>-<thread id>.jsonl) for the threads of a session, never for
 * that one: a notification about a thread without one is not the agent's turn.
 */
function hiddenCodexThread(args) {
  let payload;
  try {
    payload = JSON.parse(args.at(-1) ?? '');
  } catch {
    return false;
  }
  const thread = payload?.type === 'agent-turn-complete' ? payload['thread-id'] : undefined;
  if (typeof thread !== 'string' || !/^[0-9a-f-]{8,}$/i.test(thread)) return false;
  const home = process.env.CODEX_HOME || path.join(os.homedir(), '.codex');
  let names;
  try {
    names = readdirSync(path.join(home, 'sessions'), { recursive: true });
  } catch {
    return false; // no sessions folder to ask: count it as the agent's turn
  }
  return !names.some((n) => {
    const base = path.basename(String(n));
    return base.startsWith('rollout-') && base.includes(`-${thread}.jsonl`);
  });
}

/** The lane's queue folder; null when the names cannot make a safe path (then the call is made at once). */
function laneQueue(stateDir, lane) {
  if (!stateDir || !path.isAbsolute(stateDir) || !/^[a-z0-9_][a-z0-9._-]{0,39}$/.test(lane) || lane.includes('..'))
    return null;
  return path.join(stateDir, 'hooks', lane);
}

/** Files the call; true when it is queued. */
function enqueue(dir, verb, at) {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      closeSync(openSync(path.join(dir, `${at}-${process.pid}.${verb}`), 'wx', 0o600));
      return true;
    } catch {
      // a drainer removed the emptied folder in between: make it again
    }
  }
  return false;
}

function oldest(dir) {
  try {
    return readdirSync(dir)
      .filter((n) => /^\d{20}-\d+\.(handoff|waiting)$/.test(n))
      .sort()[0];
  } catch {
    return undefined;
  }
}

function lock(dir) {
  const lockDir = path.join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(lockDir, { mode: 0o700 });
      return lockDir;
    } catch {
      try {
        if (Date.now() - statSync(lockDir).mtimeMs < STALE_LOCK_MS) return null;
        rmdirSync(lockDir);
      } catch {
        // gone meanwhile: try again
      }
    }
  }
  return null;
}

function ctl(verb, lane) {
  if (!existsSync(CLI)) return;
  spawnSync(process.execPath, [CLI, 'ctl', verb, lane], { stdio: 'ignore', timeout: CTL_TIMEOUT_MS });
}

/** Runs the lane's queued calls oldest first, while holding the lane's lock. */
function drain(lane) {
  const dir = laneQueue(process.env.AO_STATE_DIR, lane);
  if (!dir) return;
  for (;;) {
    const held = lock(dir);
    if (!held) return; // another drainer runs; it looks again after letting go
    try {
      for (let name = oldest(dir); name; name = oldest(dir)) {
        const now = new Date();
        utimesSync(held, now, now);
        try {
          unlinkSync(path.join(dir, name));
        } catch {
          return; // cannot take it off the queue: stop rather than run it again and again
        }
        ctl(name.slice(name.lastIndexOf('.') + 1), lane);
      }
    } finally {
      try {
        rmdirSync(held);
      } catch {
        // taken for stale and removed by another drainer
      }
    }
    // a call filed while this drainer held the lock, whose own drainer gave up: take it too
    if (!oldest(dir)) break;
  }
  try {
    rmdirSync(dir);
  } catch {
    // not empty (a call was just filed) or already gone
  }
}

function main() {
  const at = ticket();
  const [word, ...rest] = process.argv.slice(2);
  const lane = process.env.AO_LANE;
  if (!lane) return;
  if (word === '--drain') return drain(lane);
  drainStdin();
  const verb = VERBS[word ?? ''];
  if (!verb) return;
  if (verb === 'handoff' && hiddenCodexThread(rest)) return;
  const dir = laneQueue(process.env.AO_STATE_DIR, lane);
  if (!dir || !enqueue(dir, verb, at)) return ctl(verb, lane);
  const child = spawn(process.execPath, [SCRIPT, '--drain'], { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
}

try {
  main();
} catch {
  // never fail the agent's hook
}
process.exit(0);
