/**
 * Launching lanes: a new lane's worktree and row, spawning (or resuming) its agent with its
 * context packet, the queue over the concurrency limit, the activity timer, the agent's exit,
 * stopping and removing a lane. What happens at a handoff is the review flow's (reviewFlow.ts).
 */
import { randomBytes } from 'node:crypto';
import { ActionError, type NewLaneRequest } from './api.js';
import type { LaneState } from '../lane/types.js';
import type { SourcedActivity } from '../lane/activitySources.js';
import { canTransition, transition } from '../lane/stateMachine.js';
import { isLive } from '../lane/rules.js';
import { validateLaneName } from '../lane/names.js';
import { worktreeFailureCode } from '../git/worktree.js';
import { buildAgentEnv } from '../process/agentEnv.js';
import { writeBriefingFile } from '../learnings/briefing.js';
import { buildContextPacket } from '../learnings/packet.js';
import * as learningsDb from '../learnings/store.js';
import * as lanesDb from '../store/lanes.js';
import { lastSeq } from '../store/output.js';
import { expandArgs } from '../../profiles/loader.js';
import { compilePatterns } from '../../profiles/schema.js';
import type { LaneRecord, SupervisorCore } from './context.js';
import type { LaneProcess } from './world.js';
import { closeLane } from './closure.js';
import { captureFromLine } from './learningsCapture.js';
import { canSpawn, needsSetup, runLaneSetup } from './laneSetup.js';
import { checkTrust, untrustedReason } from '../trust/trust.js';

/** Creates a lane (worktree, row) and starts its agent, or queues it over the concurrency limit. */
export async function launchLane(core: SupervisorCore, req: NewLaneRequest): Promise<LaneRecord> {
  core.assertOpen();
  try {
    validateLaneName(req.name);
  } catch (err) {
    throw new ActionError((err as Error).message, 'bad-input');
  }
  const profiles = core.deps.profiles;
  const profile = profiles.get(req.profile);
  if (!profile) {
    throw new ActionError(
      `unknown profile "${req.profile}" (known: ${[...profiles.keys()].sort().join(', ')})`,
      'bad-input',
    );
  }
  if (!req.task.trim() && profile.taskInput !== 'none') throw new ActionError('the task is empty', 'bad-input');
  const existing = core.lanes.get(req.name);
  if (existing && existing.row.closedAt === null) {
    throw new ActionError(
      `a lane named "${req.name}" already exists (${existing.row.state}); pick another name, or discard it first`,
      'conflict',
    );
  }
  const base = req.base ?? core.config.baseBranch ?? (await currentBranch(core));
  const wt = await core.git
    .createLaneWorktree({ repoRoot: core.repoRoot, stateDir: core.opts.stateDir, lane: req.name, base })
    .catch((err: Error) => {
      // a bad name or base is the request's fault (exit 2); git or a lock failing is not (exit 1)
      throw new ActionError(err.message, worktreeFailureCode(err));
    });
  const row = lanesDb.insertLane(core.db, {
    name: req.name,
    sessionId: core.sessionId,
    profile: profile.name,
    task: req.task,
    branch: wt.branch,
    base,
    worktree: wt.path,
    createdAt: Date.now(),
    cols: core.opts.cols,
    rows: core.opts.rows,
  });
  existing?.runtime?.dispose();
  const lane = core.track(row); // a closed lane of the same name stays in history, not here
  for (const note of wt.notes) core.logEvent(lane, 'note', note);
  core.emit({ type: 'lane-created', lane: req.name });
  // The repo's commands not allowed: say so now, not at the handoff (a setup command fails the lane itself).
  const trust = checkTrust(core.repoRoot, core.config, core.env);
  if (!trust.trusted && !trust.commands.some((c) => c.kind === 'setup')) {
    const what = [...new Set(trust.commands.map((c) => (c.kind === 'gate' ? 'command gates' : 'the notify hook')))];
    core.emit({
      type: 'notice',
      lane: req.name,
      message: `${what.join(' and ')} will not run: ${untrustedReason(trust)}`,
    });
  }
  if (liveCount(core) >= core.config.maxConcurrentLanes) {
    core.move(lane, { type: 'queue' }, `more than ${core.config.maxConcurrentLanes} lanes running`);
  } else {
    spawn(core, lane, 'start');
  }
  return lane;
}

async function currentBranch(core: SupervisorCore): Promise<string> {
  const branch = await core.git.currentBranch(core.repoRoot);
  if (!branch) {
    throw new ActionError(
      'the repo has a detached HEAD: pass a base branch or set baseBranch in .ao/config.json',
      'bad-input',
    );
  }
  return branch;
}

/**
 * Starts the lane's agent (`start`), or starts it again (`resume`, with `resumeText` as its task
 * when given). A lane sent back for rework whose agent had exited is already live again: it only
 * needs a process.
 */
export function spawn(core: SupervisorCore, lane: LaneRecord, mode: 'start' | 'resume', resumeText?: string): void {
  const reworking = isLive(lane.row.state);
  if (!reworking)
    core.move(
      lane,
      mode === 'start' ? { type: 'start' } : { type: 'resume' },
      mode === 'start' ? 'lane started' : 'resumed',
    );
  // The repo config's setup first (laneSetup.ts): the agent starts when it completed, in a lane
  // still starting (a stop or remove meanwhile leaves it be); its failure fails the lane.
  if (!reworking && needsSetup(core, lane)) {
    void runLaneSetup(core, lane)
      .catch((err: Error) => `setup: ${err.message}`)
      .then((failed) => {
        if (core.closed || !canSpawn(lane.row.state)) return;
        if (failed === null) startAgent(core, lane, mode, resumeText);
        else failStart(core, lane, failed);
      });
    return;
  }
  startAgent(core, lane, mode, resumeText);
}

/** The lane could not start: it fails with the reason (closure written, resumable). */
function failStart(core: SupervisorCore, lane: LaneRecord, reason: string): void {
  core.move(lane, { type: 'fail', reason }, reason.slice(0, 2000));
  core.emit({ type: 'error', lane: lane.row.name, message: reason.split('\n')[0] ?? reason });
  void closeLane(core, lane, 'failed', false);
}

/** Spawns the lane's agent in a lane that is starting (or reworking with no process). */
function startAgent(core: SupervisorCore, lane: LaneRecord, mode: 'start' | 'resume', resumeText?: string): void {
  const { row, profile } = lane;
  const reworking = isLive(lane.row.state) && !canSpawn(lane.row.state);
  try {
    const briefing = brief(core, lane);
    const vars = {
      task: mode === 'resume' && resumeText ? resumeText : row.task,
      lane: row.name,
      worktree: row.worktree,
      briefingFile: briefing.file,
    };
    const { command, args, env: profileEnv } = expandArgs(profile, vars, { resume: mode === 'resume' });
    const procToken = randomBytes(12).toString('hex');
    const env = buildAgentEnv({
      source: core.env,
      passthrough: profile.envPassthrough,
      extra: { ...profileEnv, AO_BRIEFING: briefing.file },
      lane: row.name,
      session: core.sessionId,
      stateDir: core.opts.stateDir,
      procToken,
    });
    const timeBase = row.startedAt ?? Date.now();
    // the last run's output, a burst it gathered included (dispose ingests it), counts before this run's
    lane.runtime?.dispose();
    const firstSeq = lane.runtime?.nextSeq ?? lane.nextSeq ?? lastSeq(core.db, row.id) + 1;
    if (lane.runtime) lane.bytesBefore += lane.runtime.outputBytes;
    const patterns = compilePatterns(profile);
    const learning = patterns.learning;
    const marker = patterns.handoffMarker ?? null;
    lane.taskTyped = mode === 'resume' || profile.taskInput !== 'stdin';
    const recorder = core.world.recorder;
    const runtime: LaneProcess = core.world.spawnRuntime({
      command,
      args,
      cwd: row.worktree,
      env,
      cols: row.cols,
      rows: row.rows,
      timeBase,
      firstSeq,
      busyPatterns: patterns.busy,
      waitingPatterns: patterns.waitingInput,
      idleMs: profile.idleMs,
      titlePatterns: patterns.title,
      statusFile: profile.statusFile,
      linePatterns: marker ? [learning, marker] : [learning],
      record: (seq, tMs, data) => recorder.append(row.id, seq, tMs, data),
      recorded: () => recorder.flush(),
      keyframe: (k) => void (core.closed || recorder.keyframe({ laneId: row.id, ...k })),
      onExit: (e) => exited(core, lane, runtime, e),
      onLine: (line) => {
        captureFromLine(core, lane, line, learning);
        if (marker?.test(line) && isLive(lane.row.state)) {
          void core.hooks
            .handoff(lane, 'handoff marker in output')
            .catch((err: Error) => core.emit({ type: 'error', lane: lane.row.name, message: err.message }));
        }
      },
      onError: (message) => core.reportError(message, row.name),
    });
    lane.runtime = runtime;
    core.usage?.started(row, profile.usage, env);
    lane.row = lanesDb.updateLane(core.db, row.id, {
      startedAt: timeBase,
      pid: runtime.pid,
      procToken,
      exitCode: null,
      exitSignal: null,
    });
    const cause = `pid ${runtime.pid}: ${command} ${args.join(' ')}`.slice(0, 500);
    if (reworking) core.logEvent(lane, 'spawned', cause);
    else core.move(lane, { type: 'spawned' }, cause);
  } catch (err) {
    failStart(core, lane, (err as Error).message);
  }
}

/** Builds the lane's context packet, writes it for the agent and logs which learnings went in. */
function brief(core: SupervisorCore, lane: LaneRecord): { file: string; markdown: string } {
  const packet = buildContextPacket(core.db, { lane: lane.row.name, task: lane.row.task, laneId: lane.row.id });
  learningsDb.recordInjection(core.db, lane.row.id, [
    ...packet.constraints.map((c) => ({ id: c.id, section: 'constraint' as const, score: c.score })),
    ...packet.learnings.map((l) => ({ id: l.id, section: 'learning' as const, score: l.score })),
  ]);
  const file = writeBriefingFile(core.opts.stateDir, lane.row.name, packet.markdown);
  core.logEvent(
    lane,
    'context-packet',
    `${packet.constraints.length} constraints, ${packet.learnings.length} learnings, ${packet.history.length} closures`,
    {
      file,
      constraints: packet.constraints.map((c) => c.id),
      learnings: packet.learnings.map((l) => l.id),
      history: packet.history.length,
      chars: packet.markdown.length,
    },
  );
  return { file, markdown: packet.markdown };
}

/** The agent exited: the state machine says where that takes the lane (gating, stopped, failed). */
function exited(
  core: SupervisorCore,
  lane: LaneRecord,
  runtime: LaneProcess,
  e: { code: number | null; signal: number | null },
): void {
  if (lane.runtime !== runtime) return;
  // The agent's last output is in the store already: the runtime reports the exit once it is
  // committed (LaneRuntimeOptions.recorded).
  lane.lastLine = runtime.terminal.lastLine();
  lane.nextSeq = runtime.nextSeq;
  lane.row = lanesDb.updateLane(core.db, lane.row.id, { exitCode: e.code, exitSignal: e.signal });
  core.emit({ type: 'lane-exit', lane: lane.row.name, code: e.code, signal: e.signal });
  const before = lane.row.state;
  const cause = e.signal !== null ? `agent killed by signal ${e.signal}` : `agent exited with code ${e.code}`;
  core.move(lane, { type: 'exit', code: e.code, signal: e.signal, handoffOnExit: lane.profile.handoffOnExit }, cause);
  // Anything the agent left behind (children that outlived it) goes with it.
  void core.world
    .stopProcessTree({ pid: runtime.pid, procToken: lane.row.procToken ?? '', graceMs: 500 })
    .catch(() => {});
  const after = lane.row.state;
  if (before === after) return;
  if (canTransition(after, { type: 'gates-done' })) {
    // handed off on exit: the handoff work runs as any action of the lane does
    void core
      .serial(lane, () => core.hooks.gate(lane))
      .catch((err: Error) => core.emit({ type: 'error', lane: lane.row.name, message: err.message }));
  } else if (after === transition(before, { type: 'fail', reason: cause })) {
    void closeLane(core, lane, 'failed', false);
  }
  startQueued(core);
}

/**
 * Stops a lane: one waiting to start just stops; a live one's agent is ended and its run closed;
 * a gating one's gates were cancelled by the caller before it waited its turn (Supervisor.stop).
 */
export async function stopLane(core: SupervisorCore, lane: LaneRecord): Promise<void> {
  core.assertAllowed(lane, 'stop');
  const waiting = waitsToStart(lane.row.state);
  core.move(lane, { type: 'stop' }, 'stopped by operator');
  if (waiting) return;
  await core.stopRuntime(lane);
  // A stopped lane may still be resumed; until then its closure says it was interrupted.
  await closeLane(core, lane, 'interrupted', false);
  startQueued(core);
}

/**
 * Removes a lane whatever it was doing (not while its merge is in flight): its agent is ended, its
 * work (commits and uncommitted files) kept under an archive ref, its worktree and branch removed,
 * a closure written (discarded, caused "removed by operator") and its name freed for a new lane.
 * The caller cancelled its gates before it waited its turn (Supervisor.remove).
 */
export async function removeLane(core: SupervisorCore, lane: LaneRecord, cause = 'removed by operator'): Promise<void> {
  core.assertAllowed(lane, 'remove');
  // Moved first, so the agent's exit (by our signal) does not read as a failure.
  core.move(lane, { type: 'remove' }, cause);
  await core.stopRuntime(lane);
  await closeLane(core, lane, 'discarded');
  startQueued(core);
}

/** Starts a failed, stopped or interrupted lane's agent again. */
export function resumeLane(core: SupervisorCore, lane: LaneRecord): void {
  core.assertAllowed(lane, 'resume');
  spawn(core, lane, 'resume');
}

/** A lane created or queued: its agent has not started yet. */
export function waitsToStart(state: LaneState): boolean {
  return canTransition(state, { type: 'start' });
}

/** Starts queued lanes while there is room under the concurrency limit. */
export function startQueued(core: SupervisorCore): void {
  for (const lane of core.lanes.values()) {
    if (liveCount(core) >= core.config.maxConcurrentLanes) return;
    // queued: waiting to start, and past `created` (a new lane starts itself)
    if (waitsToStart(lane.row.state) && !canTransition(lane.row.state, { type: 'queue' })) spawn(core, lane, 'start');
  }
}

function liveCount(core: SupervisorCore): number {
  return [...core.lanes.values()].filter((l) => isLive(l.row.state)).length;
}

/** The activity timer: reads each live agent's screen and moves its lane between running, idle and waiting-input. */
export function tick(core: SupervisorCore): void {
  for (const lane of core.lanes.values()) {
    try {
      tickLane(core, lane, Date.now());
    } catch (err) {
      // A timer must never take the console down: report and try again next tick.
      core.reportError(`lane ${lane.row.name}: ${(err as Error).message}`, lane.row.name);
    }
  }
}

function tickLane(core: SupervisorCore, lane: LaneRecord, now: number): void {
  const runtime = lane.runtime;
  if (!runtime?.alive) return;
  lane.outputRate = runtime.outputRate(now);
  // only a lane whose screen's activity moves it (not one still starting, or handed off)
  if (!canTransition(lane.row.state, { type: 'activity', activity: 'busy' })) return;
  const report = runtime.activityReport?.(now) ?? { activity: runtime.activity(now), source: 'screen', detail: '' };
  const { activity } = report;
  lane.lastLine = runtime.terminal.lastLine();
  // a task typed on stdin waits for the prompt on the screen (an input box drawn), whatever the
  // other sources say: an agent may drop keys typed before its box is there
  if (activity === 'waiting-input' && (report.screen ?? activity) === 'waiting-input' && !lane.taskTyped) {
    lane.taskTyped = true;
    typeLine(lane, lane.row.task);
    return;
  }
  core.move(lane, { type: 'activity', activity }, activityCause(report), { source: report.source });
}

/** The cause stored with a state change the activity timer made: which source said what (activitySources.ts). */
export function activityCause(r: SourcedActivity): string {
  switch (r.source) {
    case 'screen':
      return `screen reads ${r.activity}`;
    case 'title':
      return `title reads ${r.activity}: ${JSON.stringify(r.detail)}`;
    case 'status-file':
      return `status file reads ${r.activity}: ${r.detail}`;
    case 'hook':
      return `${r.detail}: ${r.activity}`;
  }
}

/**
 * Types `text` into the lane's agent as one line and submits it: Enter follows in the same write,
 * or `submitDelayMs` later when the profile says so (an input box that reads a burst ending in
 * Enter as a paste would keep the text unsent).
 */
export function typeLine(lane: LaneRecord, text: string): void {
  const runtime = lane.runtime;
  if (!runtime?.alive) return;
  const line = text.replace(/[\r\n]+/g, ' ');
  const delay = lane.profile.submitDelayMs ?? 0;
  if (delay <= 0) return runtime.write(line + '\r');
  runtime.write(line);
  setTimeout(() => {
    if (lane.runtime === runtime) runtime.write('\r');
  }, delay).unref();
}
