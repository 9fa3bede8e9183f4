/**
 * The usage tracker (lanes/usage/tracker.ts) wired to the supervisor: lanes' agent pids, the
 * repo config's `usage`, notices, and a lane paused for its budget shown waiting for the
 * operator. Its figures are read at each agent exit and handoff; a lane whose agent is about to
 * be ended (stopped, removed, interrupted, failed, merged) gets it resumed first, so it can exit.
 */
import { UsageTracker } from '../usage/tracker.js';
import { allows, isFinal } from '../lane/rules.js';
import { canTransition } from '../lane/stateMachine.js';
import type { SupervisorCore } from './context.js';

export function startUsageTracker(core: SupervisorCore, opts: { pollMs?: number } = {}): UsageTracker {
  const byName = (name: string) => core.lanes.get(name);
  const tracker = new UsageTracker(
    {
      db: core.db,
      config: () => core.config.usage,
      agentPid: (laneId) => {
        for (const lane of core.lanes.values()) {
          if (lane.row.id === laneId) return lane.runtime?.alive ? lane.runtime.pid : null;
        }
        return null;
      },
      notice: (name, message, level) => {
        core.emit({ type: 'notice', lane: name, message });
        const lane = byName(name);
        if (level && lane) {
          core.logEvent(lane, 'budget', message);
          core.emit({ type: 'budget', lane: name, state: lane.row.state, level, message });
        }
      },
      paused: (name, reason) => {
        const lane = byName(name);
        if (!lane?.runtime?.alive) return;
        core.logEvent(lane, 'budget', reason);
        if (allows(lane.row.state, 'wait-input')) {
          lane.runtime.holdActivity('waiting-input', 'budget');
          core.move(lane, { type: 'activity', activity: 'waiting-input' }, reason);
        }
        core.emit({ type: 'notice', lane: name, message: reason });
        core.emit({ type: 'budget', lane: name, state: lane.row.state, level: 'paused', message: reason });
      },
    },
    opts,
  );
  core.on((ev) => {
    if (core.closed) return;
    const lane = 'lane' in ev && typeof ev.lane === 'string' ? byName(ev.lane) : undefined;
    if (!lane) return;
    try {
      if (ev.type === 'lane-exit') tracker.exited(lane.row.id);
      else if (ev.type === 'lane-state') {
        if (ev.to === 'gating') tracker.update(lane.row.id);
        // its agent is about to be ended (stopped, failed, interrupted, merged, discarded)
        if (isFinal(ev.to) || canTransition(ev.to, { type: 'resume' })) tracker.released(lane.row.id);
      }
    } catch (err) {
      core.reportError(`usage of lane ${lane.row.name}: ${(err as Error).message}`, lane.row.name);
    }
  });
  return tracker;
}
