/**
 * The dashboard's keys: the lanes, their review, and the overlays they open. Whether a lane key
 * acts is asked of the lane rules (lanes/lane/rules.ts, through src/state/selectors.ts).
 */
import {
  allows,
  canAttach,
  focusedLane,
  hasWorktree,
  noLaneReason,
  refusal,
  showsReview,
  shownScrollback,
} from '../state/selectors.js';
import type { LaneAction } from '../state/selectors.js';
import type { AppState, LaneSnapshot } from '../state/types.js';
import { always, type KeyBinding } from './types.js';

/** Acts on the focused lane when `ok(lane)`; else says why (`why(lane)`). */
function onLane(ok: (lane: LaneSnapshot) => boolean, why: (lane: LaneSnapshot) => string) {
  return (s: AppState): true | string => {
    const lane = focusedLane(s);
    if (!lane) return noLaneReason(s) ?? 'no lane selected';
    return ok(lane) ? true : why(lane);
  };
}

/** A reason in the keymap's words, with the lane's state: "no lane awaiting approval (one is running)". */
const inState = (what: string) => (lane: LaneSnapshot) => `${what} (${lane.name} is ${lane.state})`;

/**
 * Acts when the lane rules allow `action` in the focused lane's state; else says why, in `what`
 * with the lane's state, or in the rule's own words.
 */
const laneCan = (action: LaneAction, what?: string) =>
  onLane((lane) => allows(lane.state, action), what ? inState(what) : (lane) => refusal(lane.state, action) ?? '');

/** The queue's move keys: the focused lane waits its turn in the merge queue. */
const waitingInQueue = onLane(
  (lane) => lane.queue?.state === 'waiting',
  (lane) =>
    lane.queue
      ? `${lane.name} is ${lane.queue.state}: only a waiting lane moves`
      : `${lane.name} is not in the merge queue`,
);

/** The review's scroll keys: the focus pane shows the review of a lane the operator decides on. */
const inReview = onLane(showsReview, inState('no lane awaiting approval'));

export const DASHBOARD_KEYS: readonly KeyBinding[] = [
  {
    id: 'lanes.prev',
    keys: ['up', 'k'],
    scope: 'dashboard',
    description: 'Select the previous lane',
    short: 'move',
    footer: false,
    enabled: (s) => (s.lanes.length > 1 ? true : 'fewer than two lanes'),
    run: (a) => a.moveFocus(-1),
  },
  {
    id: 'lanes.next',
    keys: ['down', 'j'],
    scope: 'dashboard',
    description: 'Select the next lane',
    short: 'move',
    footerKeys: '↑↓/jk',
    enabled: (s) => (s.lanes.length > 1 ? true : 'fewer than two lanes'),
    run: (a) => a.moveFocus(1),
  },
  {
    id: 'lane.new',
    keys: ['n'],
    scope: 'dashboard',
    description: 'Start a new lane (form: name, profile, task, base branch)',
    short: 'new',
    enabled: (s) => (s.profiles.length > 0 ? true : 'no profiles are loaded'),
    run: (a) => a.openNewLaneForm(),
  },
  {
    id: 'lane.attach',
    keys: ['enter'],
    scope: 'dashboard',
    description: "Attach to the selected lane's terminal (ctrl-] detaches)",
    short: 'attach',
    enabled: onLane(canAttach, inState('no agent process running to attach to')),
    run: (a) => a.requestAttach(),
  },
  {
    id: 'lane.handoff',
    keys: ['h'],
    scope: 'dashboard',
    description: 'Hand off the selected lane now: run its gates',
    short: 'handoff',
    enabled: laneCan('handoff'),
    run: (a) => a.handoff(),
  },
  {
    id: 'review.approve',
    keys: ['a'],
    scope: 'dashboard',
    description:
      'Approve the selected lane: it joins the merge queue, is validated on base + lane and merged in its turn (asks when required gates failed or are stale; offers discard when it has nothing to merge)',
    short: 'approve',
    enabled: laneCan('approve', 'no lane awaiting approval'),
    run: (a) => a.approve(),
  },
  {
    id: 'review.reject',
    keys: ['r'],
    scope: 'dashboard',
    description: 'Reject the selected lane: give a reason, then rework or discard',
    short: 'reject',
    enabled: laneCan('reject', 'no lane awaiting approval'),
    run: (a) => a.openReject(),
  },
  {
    id: 'review.diff',
    keys: ['d'],
    scope: 'dashboard',
    description: "Show the selected lane's diff against its base",
    short: 'diff',
    enabled: onLane(hasWorktree, inState('no worktree to diff')),
    run: (a) => a.openDiff(),
  },
  {
    id: 'gates.output',
    keys: ['g'],
    scope: 'dashboard',
    description: "Show the output of the selected lane's gates",
    short: 'gates',
    enabled: onLane(
      (lane) => !!lane.gateSummary || showsReview(lane),
      (lane) => `no gate has run on ${lane.name}`,
    ),
    run: (a) => a.openGateOutput(),
  },
  {
    id: 'gates.rerun',
    keys: ['G'],
    scope: 'dashboard',
    description: "Re-run the selected lane's gates",
    short: 're-run',
    enabled: laneCan('rerun-gates', 'no lane awaiting approval'),
    run: (a) => a.rerunGates(),
  },
  {
    id: 'queue.up',
    keys: ['['],
    scope: 'dashboard',
    description: 'Move the selected lane one place up the merge queue (it lands sooner)',
    short: 'queue up',
    footer: false,
    enabled: waitingInQueue,
    run: (a) => a.moveInQueue(-1),
  },
  {
    id: 'queue.down',
    keys: [']'],
    scope: 'dashboard',
    description: 'Move the selected lane one place down the merge queue',
    short: 'queue down',
    footer: false,
    enabled: waitingInQueue,
    run: (a) => a.moveInQueue(1),
  },
  {
    id: 'queue.remove',
    keys: ['u'],
    scope: 'dashboard',
    description: 'Take the selected lane out of the merge queue (its validation cancelled): back to awaiting approval',
    short: 'unqueue',
    footer: false,
    enabled: laneCan('dequeue', 'no lane in the merge queue'),
    run: (a) => a.removeFromQueue(),
  },
  {
    id: 'queue.pause',
    keys: ['P'],
    scope: 'dashboard',
    description: 'Pause the merge queue (no next lane starts; one validating or merging finishes), or resume it',
    short: 'pause queue',
    footer: false,
    enabled: always,
    run: (a) => a.toggleQueuePause(),
  },
  {
    id: 'pane.scrollDown',
    keys: ['pagedown', 'J'],
    scope: 'dashboard',
    description: "Scroll the review diff down; in a lane's scrollback, a page newer (from the bottom: live again)",
    short: 'scroll',
    footer: false,
    enabled: (s) => (shownScrollback(s) ? true : inReview(s)),
    run: (a, s) => (shownScrollback(s) ? a.scrollbackPage(1) : a.scroll('review', Math.max(1, s.paneSize.rows - 2))),
  },
  {
    id: 'pane.scrollUp',
    keys: ['pageup', 'K'],
    scope: 'dashboard',
    description: "Scroll the review diff up; on a lane's screen, page up through its scrollback (from the recording)",
    short: 'scroll',
    footer: false,
    enabled: onLane(
      () => true,
      () => '',
    ),
    run: (a, s) =>
      showsReview(focusedLane(s)!) ? a.scroll('review', -Math.max(1, s.paneSize.rows - 2)) : a.scrollbackPage(-1),
  },
  {
    id: 'pane.live',
    keys: ['escape'],
    scope: 'dashboard',
    description: "Leave a lane's scrollback: back to its live screen",
    short: 'live',
    enabled: (s) => (shownScrollback(s) ? true : "not in a lane's scrollback (pageup enters it)"),
    run: (a) => a.scrollbackClose(),
  },
  {
    id: 'lane.stop',
    keys: ['x'],
    scope: 'dashboard',
    description: 'Stop the selected lane (asks first)',
    short: 'stop',
    enabled: laneCan('stop'),
    run: (a) => a.requestStop(),
  },
  {
    id: 'lane.remove',
    keys: ['X'],
    scope: 'dashboard',
    description:
      'Remove the selected lane in any state but a running merge: its work archived, its worktree gone, its name free (asks first)',
    short: 'remove',
    footer: false,
    enabled: laneCan('remove'),
    run: (a) => a.requestRemove(),
  },
  {
    id: 'lane.resume',
    keys: ['R'],
    scope: 'dashboard',
    description: 'Resume a failed, stopped or interrupted lane',
    short: 'resume',
    enabled: laneCan('resume'),
    run: (a) => a.resume(),
  },
  {
    id: 'learning.add',
    keys: ['l'],
    scope: 'dashboard',
    description: 'Add a learning (tied to the selected lane, if any)',
    short: 'learning',
    enabled: always,
    run: (a) => a.openLearning(),
  },
  {
    id: 'learnings.open',
    keys: ['L'],
    scope: 'dashboard',
    description: 'Browse the learnings: search, see the source lane, tombstone, edit',
    short: 'learnings',
    footer: false,
    enabled: always,
    run: (a) => a.openLearnings(),
  },
  {
    id: 'metrics.open',
    keys: ['M'],
    scope: 'dashboard',
    description: 'Show metrics: gate pass rate per profile, approvals vs rejections, time to decision, rework',
    short: 'metrics',
    footer: false,
    enabled: always,
    run: (a) => a.openMetrics(),
  },
  {
    id: 'history.open',
    keys: ['H'],
    scope: 'dashboard',
    description: 'History: past lanes with their closure; enter replays one',
    short: 'history',
    footer: false,
    enabled: always,
    run: (a) => a.openHistory(),
  },
  {
    id: 'messages.open',
    keys: ['m'],
    scope: 'dashboard',
    description: 'Message log: the last 100 messages of the flash line, with their times',
    short: 'messages',
    footer: false,
    enabled: always,
    run: (a) => a.openMessages(),
  },
  {
    id: 'app.help',
    keys: ['?'],
    scope: 'dashboard',
    description: 'Show every key, and why a key does nothing now',
    short: 'help',
    enabled: always,
    run: (a) => a.openHelp(),
  },
  {
    id: 'app.quit',
    keys: ['q'],
    scope: 'dashboard',
    description: 'Quit (asks): the lanes keep running in the engine; stopping them too is a separate choice',
    short: 'quit',
    enabled: always,
    run: (a) => a.requestQuit(),
  },
  {
    id: 'app.quitCtrlC',
    keys: ['ctrl-c'],
    scope: 'dashboard',
    description: 'Quit (asks); ctrl-c again within a second quits at once, the lanes keep running',
    short: 'quit',
    footer: false,
    enabled: always,
    run: (a) => a.requestQuit('ctrl-c'),
  },
  {
    id: 'view.switch',
    keys: ['A'],
    scope: 'dashboard',
    description:
      "Switch between this repo's dashboard and the all-engines view (every running engine of yours, lanes grouped by repo)",
    short: 'repo ⇄ all',
    enabled: (s) =>
      s.viewSwitch ? true : "no other view here (the all-engines view outside a repo, or a remote's dashboard)",
    run: (a) => a.requestSwitchView(),
  },
];
