/**
 * Lane setup: what the repo config's `setup` gives a new lane's worktree before its agent starts
 * (docs/config.md, "setup"). In order:
 *
 * 1. `copy` and `link`: files or directories of the main checkout copied, or symlinked, to the
 *    same place in the worktree. A source that does not exist is skipped (a note in the lane's
 *    events); so is a path git tracks (the worktree has its own) and one whose parent directory
 *    leads out of the worktree or the repo through a symlink.
 * 2. the command (`run` argv, or `shell` for `sh -c`), in the worktree, in the lane's own pty:
 *    its output is the lane's screen and recording, as an agent's is. Only when the repo's
 *    commands are allowed (lanes/trust/). A non-zero exit or the timeout (the process group is
 *    killed) fails the lane with the tail of the output as the reason.
 *
 * What setup added (the copied and linked paths, and whatever is untracked after the command) is
 * recorded with the `setup-done` event and left out of the handoff commit (reviewFlow.ts), so a
 * copied `.env` is never committed. A lane whose setup did not complete (failed, stopped, the
 * engine died) runs it again when resumed.
 */
import { randomBytes } from 'node:crypto';
import { cp, lstat, mkdir, realpath, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { SetupConfig } from '../config/repoConfig.js';
import { killProcessGroup } from '../gates/runCommandGate.js';
import { trackedPaths, untrackedPaths } from '../git/setupPaths.js';
import { buildAgentEnv } from '../process/agentEnv.js';
import * as eventsDb from '../store/events.js';
import * as lanesDb from '../store/lanes.js';
import { lastSeq } from '../store/output.js';
import { checkTrust, untrustedReason } from '../trust/trust.js';
import type { LaneRecord, SupervisorCore } from './context.js';
import { canTransition, transition } from '../lane/stateMachine.js';
import type { LaneState } from '../lane/types.js';

export const SETUP_DONE_EVENT = 'setup-done';
/** Lines of the setup command's screen kept in a failure's reason. */
const TAIL_LINES = 20;
const KILL_GRACE_MS = 2000;

function hasWork(s: SetupConfig | undefined): s is SetupConfig {
  return !!s && (s.copy.length > 0 || s.link.length > 0 || !!s.run || s.shell !== undefined);
}

/**
 * The lane still needs its setup: the config asks for some, the lane's never completed and its
 * agent never ran (a setup added to the config later is for new lanes, not for work under way).
 */
export function needsSetup(core: SupervisorCore, lane: LaneRecord): boolean {
  if (!hasWork(core.config.setup)) return false;
  if (eventsDb.listEvents(core.db, lane.row.id, { kind: SETUP_DONE_EVENT }).length > 0) return false;
  const agentRan = eventsDb
    .listEvents(core.db, lane.row.id, { kind: 'state' })
    .some((e) => e.fromState !== null && canSpawn(e.fromState) && e.toState === transition(e.fromState, SPAWNED));
  return !agentRan;
}

const SPAWNED = { type: 'spawned' } as const;
/** The lane is starting: its agent may be spawned now. */
export const canSpawn = (state: LaneState): boolean => canTransition(state, SPAWNED);

/**
 * What setup added to the lane's worktree (repo-relative): kept out of the handoff commit. A
 * setup still under way (a handoff while starting) has not listed them yet: then the config's
 * copy and link paths stand in.
 */
export function setupAddedPaths(core: SupervisorCore, lane: LaneRecord): string[] {
  const paths = new Set<string>();
  const done = eventsDb.listEvents(core.db, lane.row.id, { kind: SETUP_DONE_EVENT });
  for (const e of done) {
    const added = (e.data as { added?: unknown } | null)?.added;
    if (Array.isArray(added)) for (const p of added) if (typeof p === 'string' && p) paths.add(p);
  }
  if (done.length === 0 && needsSetup(core, lane))
    for (const p of [...(core.config.setup?.copy ?? []), ...(core.config.setup?.link ?? [])]) paths.add(p);
  return [...paths];
}

const within = (p: string, dir: string) => p === dir || p.startsWith(dir + path.sep);

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Copies and links the setup files; returns the paths placed. Notes go to the lane's events. */
async function placeFiles(core: SupervisorCore, lane: LaneRecord, setup: SetupConfig): Promise<string[]> {
  const worktree = lane.row.worktree;
  const wanted = [
    ...setup.copy.map((p) => ({ p, how: 'copy' as const })),
    ...setup.link.map((p) => ({ p, how: 'link' as const })),
  ];
  if (wanted.length === 0) return [];
  const repoReal = await realpath(core.repoRoot);
  const wtReal = await realpath(worktree);
  const tracked = await trackedPaths(
    worktree,
    wanted.map((w) => w.p),
  );
  const placed: string[] = [];
  const note = (text: string) => core.logEvent(lane, 'note', `setup: ${text}`);
  for (const { p, how } of wanted) {
    const src = path.join(core.repoRoot, p);
    const dest = path.join(worktree, p);
    if (tracked.has(p)) {
      note(`${p} not ${how === 'copy' ? 'copied' : 'linked'}: git tracks it, the worktree has its own`);
      continue;
    }
    if (!(await exists(src))) {
      note(`${p} skipped: it does not exist in the main checkout`);
      continue;
    }
    // A symlinked directory on the way must not lead out of the repo (source) or the worktree (destination).
    const srcParent = await realpath(path.dirname(src)).catch(() => '');
    if (!within(srcParent, repoReal)) {
      note(`${p} skipped: its directory leads out of the repo (a symlink)`);
      continue;
    }
    await mkdir(path.dirname(dest), { recursive: true });
    const destParent = await realpath(path.dirname(dest));
    if (!within(destParent, wtReal)) {
      note(`${p} skipped: its directory in the worktree leads out of it (a symlink)`);
      continue;
    }
    await rm(dest, { recursive: true, force: true }); // a setup run again replaces what it placed
    if (how === 'copy') await cp(src, dest, { recursive: true, force: true, verbatimSymlinks: true });
    else await symlink(src, dest);
    placed.push(p);
  }
  core.logEvent(lane, 'setup-files', `${placed.length} of ${wanted.length} setup files placed`, {
    placed,
    copy: setup.copy,
    link: setup.link,
  });
  return placed;
}

/** The last lines of a screen, trimmed, for a failure's reason. */
function tail(lines: string[]): string {
  const text = lines.map((l) => l.trimEnd());
  while (text.length && text[text.length - 1] === '') text.pop();
  return text.slice(-TAIL_LINES).join('\n').slice(-2000);
}

/**
 * Runs the setup command in the lane's pty (it becomes the lane's runtime while it runs). Resolves
 * with null when it exited 0, else the reason it failed.
 */
async function runSetupCommand(core: SupervisorCore, lane: LaneRecord, setup: SetupConfig): Promise<string | null> {
  const trust = checkTrust(core.repoRoot, core.config, core.env);
  if (!trust.trusted) return `setup command not run: ${untrustedReason(trust)}`;
  const argv = setup.shell !== undefined ? ['sh', '-c', setup.shell] : (setup.run ?? []);
  const { row } = lane;
  const procToken = randomBytes(12).toString('hex');
  const env = {
    ...buildAgentEnv({
      source: core.env,
      passthrough: lane.profile.envPassthrough,
      extra: {},
      lane: row.name,
      session: core.sessionId,
      stateDir: core.opts.stateDir,
      procToken,
    }),
    ...setup.env,
  };
  const timeBase = row.startedAt ?? Date.now();
  // the last run's output, a burst it gathered included (dispose ingests it), counts before this run's
  lane.runtime?.dispose();
  const firstSeq = lane.runtime?.nextSeq ?? lane.nextSeq ?? lastSeq(core.db, row.id) + 1;
  if (lane.runtime) lane.bytesBefore += lane.runtime.outputBytes;
  const recorder = core.world.recorder;
  let exit: (e: { code: number | null; signal: number | null }) => void = () => {};
  const exited = new Promise<{ code: number | null; signal: number | null }>((r) => (exit = r));
  const runtime = core.world.spawnRuntime({
    command: argv[0] ?? '',
    args: argv.slice(1),
    cwd: row.worktree,
    env,
    cols: row.cols,
    rows: row.rows,
    timeBase,
    firstSeq,
    busyPatterns: [],
    waitingPatterns: [],
    idleMs: lane.profile.idleMs,
    linePatterns: [],
    record: (seq, tMs, data) => recorder.append(row.id, seq, tMs, data),
    recorded: () => recorder.flush(),
    keyframe: (k) => void (core.closed || recorder.keyframe({ laneId: row.id, ...k })),
    onExit: (e) => exit(e),
    onError: (message) => core.reportError(message, row.name),
  });
  lane.runtime = runtime;
  lane.row = lanesDb.updateLane(core.db, row.id, { startedAt: timeBase, pid: runtime.pid, procToken });
  const shown = setup.shell !== undefined ? `sh -c ${JSON.stringify(setup.shell)}` : JSON.stringify(argv);
  core.logEvent(lane, 'setup', `setup command: ${shown} (pid ${runtime.pid})`.slice(0, 500));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void killProcessGroup(runtime.pid, KILL_GRACE_MS);
  }, setup.timeoutSec * 1000);
  const e = await exited;
  clearTimeout(timer);
  lane.nextSeq = runtime.nextSeq;
  await runtime.syncScreen().catch(() => {});
  const out = tail(runtime.terminal.text());
  const how = timedOut
    ? `timed out after ${setup.timeoutSec} s (process group killed)`
    : e.signal !== null
      ? `killed by signal ${e.signal}`
      : e.code === 0
        ? null
        : `exited with code ${e.code}`;
  if (how === null) return null;
  return `setup command ${how}${out ? `:\n${out}` : ' (no output)'}`;
}

/**
 * Runs the lane's setup. Resolves with null when it completed (the agent may start), or the reason
 * it failed. A lane that left `starting` meanwhile (stopped, removed) resolves null too: the caller
 * checks the state before it starts the agent.
 */
export async function runLaneSetup(core: SupervisorCore, lane: LaneRecord): Promise<string | null> {
  const setup = core.config.setup;
  if (!hasWork(setup)) return null;
  let placed: string[];
  try {
    placed = await placeFiles(core, lane, setup);
  } catch (err) {
    return `setup files: ${(err as Error).message}`;
  }
  if (setup.run || setup.shell !== undefined) {
    const failed = await runSetupCommand(core, lane, setup);
    if (failed !== null) return failed;
  }
  if (!canSpawn(lane.row.state)) return null;
  // Everything untracked now was put there by setup (a new worktree has nothing untracked).
  const added = [...new Set([...placed, ...(await untrackedPaths(lane.row.worktree))])];
  core.logEvent(lane, SETUP_DONE_EVENT, `setup done; ${added.length} paths kept out of the handoff commit`, { added });
  return null;
}
