/**
 * The one table of key bindings. It drives the key dispatch (useKeymap), the footer (the keys
 * that act now), the help overlay (every key; disabled ones with their reason) and the
 * generated docs/keybindings.md. No React and no engine code here: only the store's types.
 */
import type { AppActions } from './state/actions.js';
import { focusedLane, noLaneReason } from './state/selectors.js';
import { selectedLearning } from './state/learningsSlice.js';
import type { AppState, Mode } from './state/types.js';

export const SCOPES = [
  'dashboard',
  'help',
  'viewer',
  'confirm',
  'new-lane-form',
  'reject-form',
  'learning-input',
  'learnings',
  'metrics',
  'history',
  'replay',
] as const;
export type Scope = (typeof SCOPES)[number];

export const SCOPE_TITLES: Record<Scope, string> = {
  dashboard: 'Dashboard',
  help: 'Help overlay',
  viewer: 'Diff and gate output viewer',
  confirm: 'Confirm dialog',
  'new-lane-form': 'New lane form',
  'reject-form': 'Reject form',
  'learning-input': 'Learning input',
  learnings: 'Learnings browser',
  metrics: 'Metrics panel',
  history: 'History (past lanes)',
  replay: 'Replay player',
};

export interface KeyBinding {
  /** dotted id, e.g. 'lanes.next' */
  id: string;
  /** key names: 'down', 'j', 'enter', 'escape', 'tab', 'shift-tab', 'pageup', 'ctrl-c', 'space', 'G', ... */
  keys: string[];
  scope: Scope;
  description: string;
  /** footer label */
  short: string;
  /** false: never listed in the footer (still in help) */
  footer?: boolean;
  /** how the footer names the keys when it differs from the key list (e.g. '↑↓/jk') */
  footerKeys?: string;
  /** true when the key acts now, else the reason it does nothing */
  enabled(state: AppState): true | string;
  run(actions: AppActions, state: AppState): void | Promise<void>;
}

const always = (): true => true;

function laneIn(states: readonly string[], what: string) {
  return (s: AppState): true | string => {
    const why = noLaneReason(s);
    if (why) return why;
    const lane = focusedLane(s);
    if (lane && states.includes(lane.state)) return true;
    return `${what} (${lane?.name} is ${lane?.state})`;
  };
}

const LIVE = ['starting', 'running', 'idle', 'waiting-input'];
const REVIEWABLE = [
  'running',
  'idle',
  'waiting-input',
  'gating',
  'awaiting-approval',
  'failed',
  'stopped',
  'interrupted',
];
const needsReview = laneIn(['awaiting-approval'], 'no lane awaiting approval');

/** The learnings browser's keys that act on the selected learning. */
function liveLearning(s: AppState): true | string {
  const l = selectedLearning(s);
  if (!l) return 'no learning selected';
  return l.tombstoned ? `learning #${l.id} is tombstoned` : true;
}

function rejectStep(step: 'reason' | 'mode') {
  return (s: AppState): true | string =>
    s.reject?.step === step
      ? true
      : step === 'mode'
        ? 'type a reason and press enter first'
        : 'the reason is already entered';
}

export const KEYMAP: readonly KeyBinding[] = [
  // dashboard
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
    enabled: laneIn(LIVE, 'no agent running to attach to'),
    run: (a) => a.requestAttach(),
  },
  {
    id: 'lane.handoff',
    keys: ['h'],
    scope: 'dashboard',
    description: 'Hand off the selected lane now: run its gates',
    short: 'handoff',
    enabled: laneIn(LIVE, 'only a running lane can hand off'),
    run: (a) => a.handoff(),
  },
  {
    id: 'review.approve',
    keys: ['a'],
    scope: 'dashboard',
    description: 'Approve the selected lane and merge it (asks when required gates failed or are stale)',
    short: 'approve',
    enabled: needsReview,
    run: (a) => a.approve(),
  },
  {
    id: 'review.reject',
    keys: ['r'],
    scope: 'dashboard',
    description: 'Reject the selected lane: give a reason, then rework or discard',
    short: 'reject',
    enabled: needsReview,
    run: (a) => a.openReject(),
  },
  {
    id: 'review.diff',
    keys: ['d'],
    scope: 'dashboard',
    description: "Show the selected lane's diff against its base",
    short: 'diff',
    enabled: laneIn(REVIEWABLE, 'no worktree to diff'),
    run: (a) => a.openDiff(),
  },
  {
    id: 'gates.output',
    keys: ['g'],
    scope: 'dashboard',
    description: "Show the output of the selected lane's gates",
    short: 'gates',
    enabled: (s) => {
      const why = noLaneReason(s);
      if (why) return why;
      const lane = focusedLane(s);
      return lane?.gateSummary || lane?.state === 'awaiting-approval' ? true : `no gate has run on ${lane?.name}`;
    },
    run: (a) => a.openGateOutput(),
  },
  {
    id: 'gates.rerun',
    keys: ['G'],
    scope: 'dashboard',
    description: "Re-run the selected lane's gates",
    short: 're-run',
    enabled: needsReview,
    run: (a) => a.rerunGates(),
  },
  {
    id: 'review.scrollDown',
    keys: ['pagedown', 'J'],
    scope: 'dashboard',
    description: 'Scroll the review diff down',
    short: 'scroll',
    footer: false,
    enabled: needsReview,
    run: (a, s) => a.scroll('review', Math.max(1, s.paneSize.rows - 2)),
  },
  {
    id: 'review.scrollUp',
    keys: ['pageup', 'K'],
    scope: 'dashboard',
    description: 'Scroll the review diff up',
    short: 'scroll',
    footer: false,
    enabled: needsReview,
    run: (a, s) => a.scroll('review', -Math.max(1, s.paneSize.rows - 2)),
  },
  {
    id: 'lane.stop',
    keys: ['x'],
    scope: 'dashboard',
    description: 'Stop the selected lane (asks first)',
    short: 'stop',
    enabled: laneIn([...LIVE, 'queued', 'gating'], 'nothing running to stop'),
    run: (a) => a.requestStop(),
  },
  {
    id: 'lane.resume',
    keys: ['R'],
    scope: 'dashboard',
    description: 'Resume a failed, stopped or interrupted lane',
    short: 'resume',
    enabled: laneIn(['failed', 'stopped', 'interrupted'], 'only a failed, stopped or interrupted lane resumes'),
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
    keys: ['q', 'ctrl-c'],
    scope: 'dashboard',
    description: 'Quit: stops every agent (asks first while lanes are working)',
    short: 'quit',
    enabled: always,
    run: (a) => a.requestQuit(),
  },

  // help overlay
  {
    id: 'help.close',
    keys: ['escape', '?', 'q', 'ctrl-c'],
    scope: 'help',
    description: 'Close the help',
    short: 'close',
    enabled: always,
    run: (a) => a.closeOverlay(),
  },
  {
    id: 'help.down',
    keys: ['down', 'j'],
    scope: 'help',
    description: 'Scroll down',
    short: 'scroll',
    footerKeys: '↑↓/jk',
    enabled: always,
    run: (a) => a.scroll('help', 1),
  },
  {
    id: 'help.up',
    keys: ['up', 'k'],
    scope: 'help',
    description: 'Scroll up',
    short: 'scroll',
    footer: false,
    enabled: always,
    run: (a) => a.scroll('help', -1),
  },

  // diff and gate output viewer
  {
    id: 'viewer.close',
    keys: ['escape', 'q', 'ctrl-c'],
    scope: 'viewer',
    description: 'Back to the dashboard',
    short: 'back',
    enabled: always,
    run: (a) => a.closeOverlay(),
  },
  {
    id: 'viewer.down',
    keys: ['down', 'j'],
    scope: 'viewer',
    description: 'Scroll down one line',
    short: 'scroll',
    footerKeys: '↑↓/jk',
    enabled: always,
    run: (a) => a.scroll('viewer', 1),
  },
  {
    id: 'viewer.up',
    keys: ['up', 'k'],
    scope: 'viewer',
    description: 'Scroll up one line',
    short: 'scroll',
    footer: false,
    enabled: always,
    run: (a) => a.scroll('viewer', -1),
  },
  {
    id: 'viewer.pageDown',
    keys: ['pagedown', 'space'],
    scope: 'viewer',
    description: 'Scroll down one page',
    short: 'page',
    enabled: always,
    run: (a, s) => a.scroll('viewer', Math.max(1, s.size.rows - 8)),
  },
  {
    id: 'viewer.pageUp',
    keys: ['pageup', 'b'],
    scope: 'viewer',
    description: 'Scroll up one page',
    short: 'page',
    footer: false,
    enabled: always,
    run: (a, s) => a.scroll('viewer', -Math.max(1, s.size.rows - 8)),
  },
  {
    id: 'viewer.top',
    keys: ['home'],
    scope: 'viewer',
    description: 'Go to the top',
    short: 'top',
    footer: false,
    enabled: always,
    run: (a) => a.scroll('viewer', 'top'),
  },
  {
    id: 'viewer.bottom',
    keys: ['end'],
    scope: 'viewer',
    description: 'Go to the bottom',
    short: 'end',
    footer: false,
    enabled: always,
    run: (a) => a.scroll('viewer', 'bottom'),
  },
  {
    id: 'viewer.toggle',
    keys: ['tab'],
    scope: 'viewer',
    description: 'Switch between the diff and the gate output',
    short: 'diff/gates',
    enabled: always,
    run: (a, s) => (s.mode === 'diff' ? a.openGateOutput() : a.openDiff()),
  },

  // confirm dialog
  {
    id: 'confirm.yes',
    keys: ['y', 'enter'],
    scope: 'confirm',
    description: 'Yes, do it',
    short: 'yes',
    enabled: always,
    run: (a) => a.confirmYes(),
  },
  {
    id: 'confirm.no',
    keys: ['n', 'escape', 'ctrl-c'],
    scope: 'confirm',
    description: 'No, go back',
    short: 'no',
    enabled: always,
    run: (a) => a.closeOverlay(),
  },

  // new lane form (printable keys type into the field)
  {
    id: 'form.next',
    keys: ['tab', 'down'],
    scope: 'new-lane-form',
    description: 'Next field',
    short: 'next field',
    enabled: always,
    run: (a) => a.formField(1),
  },
  {
    id: 'form.prev',
    keys: ['shift-tab', 'up'],
    scope: 'new-lane-form',
    description: 'Previous field',
    short: 'prev',
    footer: false,
    enabled: always,
    run: (a) => a.formField(-1),
  },
  {
    id: 'form.choiceNext',
    keys: ['right'],
    scope: 'new-lane-form',
    description: 'Next profile (in the profile field)',
    short: 'profile',
    enabled: (s) => (s.newLane.field === 'profile' ? true : 'only in the profile field'),
    run: (a) => a.formChoice(1),
  },
  {
    id: 'form.choicePrev',
    keys: ['left'],
    scope: 'new-lane-form',
    description: 'Previous profile (in the profile field)',
    short: 'profile',
    footer: false,
    enabled: (s) => (s.newLane.field === 'profile' ? true : 'only in the profile field'),
    run: (a) => a.formChoice(-1),
  },
  {
    id: 'form.submit',
    keys: ['enter'],
    scope: 'new-lane-form',
    description: 'Create the lane (errors show next to the field)',
    short: 'create',
    enabled: (s) => (s.newLane.submitting ? 'creating the lane' : true),
    run: (a) => a.submitNewLane(),
  },
  {
    id: 'form.backspace',
    keys: ['backspace'],
    scope: 'new-lane-form',
    description: 'Delete the last character',
    short: 'delete',
    footer: false,
    enabled: always,
    run: (a) => a.backspace(),
  },
  {
    id: 'form.cancel',
    keys: ['escape', 'ctrl-c'],
    scope: 'new-lane-form',
    description: 'Cancel',
    short: 'cancel',
    enabled: always,
    run: (a) => a.closeOverlay(),
  },

  // reject form
  {
    id: 'reject.next',
    keys: ['enter'],
    scope: 'reject-form',
    description: 'Reason entered: go on to rework or discard; then confirm the choice',
    short: 'next',
    enabled: (s) => (s.reject?.step === 'reason' && !s.reject.reason.trim() ? 'a reason is required' : true),
    run: (a, s) => (s.reject?.step === 'mode' ? a.submitReject() : a.rejectNext()),
  },
  {
    id: 'reject.rework',
    keys: ['w'],
    scope: 'reject-form',
    description: 'Send the lane back for rework, with the reason as feedback',
    short: 'rework',
    enabled: rejectStep('mode'),
    run: (a) => a.submitReject('rework'),
  },
  {
    id: 'reject.discard',
    keys: ['D'],
    scope: 'reject-form',
    description: 'Discard the lane (closure: rejected)',
    short: 'discard',
    enabled: rejectStep('mode'),
    run: (a) => a.submitReject('discard'),
  },
  {
    id: 'reject.toggle',
    keys: ['left', 'right', 'tab'],
    scope: 'reject-form',
    description: 'Switch between rework and discard',
    short: 'choose',
    footer: false,
    enabled: rejectStep('mode'),
    run: (a, s) => a.rejectChoose(s.reject?.mode === 'rework' ? 'discard' : 'rework'),
  },
  {
    id: 'reject.backspace',
    keys: ['backspace'],
    scope: 'reject-form',
    description: 'Delete the last character',
    short: 'delete',
    footer: false,
    enabled: rejectStep('reason'),
    run: (a) => a.backspace(),
  },
  {
    id: 'reject.cancel',
    keys: ['escape', 'ctrl-c'],
    scope: 'reject-form',
    description: 'Cancel the rejection',
    short: 'cancel',
    enabled: always,
    run: (a) => a.closeOverlay(),
  },

  // learning input
  {
    id: 'learning.submit',
    keys: ['enter'],
    scope: 'learning-input',
    description: 'Store the learning',
    short: 'store',
    enabled: (s) => (s.learning.text.trim() ? true : 'type the learning first'),
    run: (a) => a.submitLearning(),
  },
  {
    id: 'learning.backspace',
    keys: ['backspace'],
    scope: 'learning-input',
    description: 'Delete the last character',
    short: 'delete',
    footer: false,
    enabled: always,
    run: (a) => a.backspace(),
  },
  {
    id: 'learning.cancel',
    keys: ['escape', 'ctrl-c'],
    scope: 'learning-input',
    description: 'Cancel',
    short: 'cancel',
    enabled: always,
    run: (a) => a.closeOverlay(),
  },

  // learnings browser (while typing a search, reason or text, printable keys type into it)
  {
    id: 'learnings.down',
    keys: ['down', 'j'],
    scope: 'learnings',
    description: 'Select the next learning',
    short: 'move',
    footerKeys: '↑↓/jk',
    enabled: (s) => (s.learningsBrowser.items.length > 1 ? true : 'fewer than two learnings'),
    run: (a) => a.learningsMove(1),
  },
  {
    id: 'learnings.up',
    keys: ['up', 'k'],
    scope: 'learnings',
    description: 'Select the previous learning',
    short: 'move',
    footer: false,
    enabled: (s) => (s.learningsBrowser.items.length > 1 ? true : 'fewer than two learnings'),
    run: (a) => a.learningsMove(-1),
  },
  {
    id: 'learnings.search',
    keys: ['/'],
    scope: 'learnings',
    description: 'Search the learnings (full text; enter applies, empty shows all)',
    short: 'search',
    enabled: always,
    run: (a) => a.learningsInput('search'),
  },
  {
    id: 'learnings.tombstone',
    keys: ['t'],
    scope: 'learnings',
    description: 'Tombstone the selected learning: type the reason; it is never injected again',
    short: 'tombstone',
    enabled: liveLearning,
    run: (a) => a.learningsInput('tombstone'),
  },
  {
    id: 'learnings.edit',
    keys: ['e'],
    scope: 'learnings',
    description: "Edit the selected learning's text",
    short: 'edit',
    enabled: liveLearning,
    run: (a) => a.learningsInput('edit'),
  },
  {
    id: 'learnings.showTombstoned',
    keys: ['T'],
    scope: 'learnings',
    description: 'Show or hide tombstoned learnings',
    short: 'tombstoned',
    footer: false,
    enabled: always,
    run: (a) => a.toggleTombstoned(),
  },
  {
    id: 'learnings.submit',
    keys: ['enter'],
    scope: 'learnings',
    description: 'Apply the search, the tombstone or the edit being typed',
    short: 'apply',
    enabled: (s) => (s.learningsBrowser.input ? true : 'nothing typed: / searches, t tombstones, e edits'),
    run: (a) => a.learningsSubmit(),
  },
  {
    id: 'learnings.backspace',
    keys: ['backspace'],
    scope: 'learnings',
    description: 'Delete the last character typed',
    short: 'delete',
    footer: false,
    enabled: (s) => (s.learningsBrowser.input ? true : 'nothing is being typed'),
    run: (a) => a.learningsBackspace(),
  },
  {
    id: 'learnings.cancel',
    keys: ['escape', 'ctrl-c'],
    scope: 'learnings',
    description: 'Cancel what is being typed; else back to the dashboard',
    short: 'back',
    enabled: always,
    run: (a) => a.learningsCancel(),
  },
  {
    id: 'learnings.close',
    keys: ['q'],
    scope: 'learnings',
    description: 'Back to the dashboard',
    short: 'back',
    footer: false,
    enabled: always,
    run: (a) => a.closeOverlay(),
  },

  // metrics panel
  {
    id: 'metrics.refresh',
    keys: ['r'],
    scope: 'metrics',
    description: 'Recompute the metrics',
    short: 'refresh',
    enabled: always,
    run: (a) => a.loadMetrics(),
  },
  {
    id: 'metrics.close',
    keys: ['escape', 'q', 'ctrl-c'],
    scope: 'metrics',
    description: 'Back to the dashboard',
    short: 'back',
    enabled: always,
    run: (a) => a.closeOverlay(),
  },

  // history (past lanes)
  {
    id: 'history.down',
    keys: ['down', 'j'],
    scope: 'history',
    description: 'Select the next (older) lane',
    short: 'move',
    footerKeys: '↑↓/jk',
    enabled: (s) => (s.history.entries.length > 1 ? true : 'fewer than two lanes recorded'),
    run: (a) => a.historyMove(1),
  },
  {
    id: 'history.up',
    keys: ['up', 'k'],
    scope: 'history',
    description: 'Select the previous (newer) lane',
    short: 'move',
    footer: false,
    enabled: (s) => (s.history.entries.length > 1 ? true : 'fewer than two lanes recorded'),
    run: (a) => a.historyMove(-1),
  },
  {
    id: 'history.replay',
    keys: ['enter'],
    scope: 'history',
    description: 'Replay the selected lane',
    short: 'replay',
    enabled: (s) => (s.history.entries.length > 0 ? true : 'no lane recorded yet'),
    run: (a) => a.historyOpen(),
  },
  {
    id: 'history.close',
    keys: ['escape', 'q', 'ctrl-c'],
    scope: 'history',
    description: 'Back to the dashboard',
    short: 'back',
    enabled: always,
    run: (a) => a.closeOverlay(),
  },

  // replay player
  {
    id: 'replay.toggle',
    keys: ['space', 'p'],
    scope: 'replay',
    description: 'Play or pause',
    short: 'play/pause',
    enabled: always,
    run: (a) => a.replayToggle(),
  },
  {
    id: 'replay.back',
    keys: ['left'],
    scope: 'replay',
    description: 'Back 5 seconds',
    short: '±5s',
    footerKeys: '←→',
    enabled: always,
    run: (a) => a.replaySeek(-5000),
  },
  {
    id: 'replay.forward',
    keys: ['right'],
    scope: 'replay',
    description: 'Forward 5 seconds',
    short: '+5s',
    footer: false,
    enabled: always,
    run: (a) => a.replaySeek(5000),
  },
  {
    id: 'replay.backLong',
    keys: ['pageup', 'b'],
    scope: 'replay',
    description: 'Back 30 seconds',
    short: '±30s',
    footerKeys: 'b/f',
    enabled: always,
    run: (a) => a.replaySeek(-30_000),
  },
  {
    id: 'replay.forwardLong',
    keys: ['pagedown', 'f'],
    scope: 'replay',
    description: 'Forward 30 seconds',
    short: '+30s',
    footer: false,
    enabled: always,
    run: (a) => a.replaySeek(30_000),
  },
  {
    id: 'replay.prevEvent',
    keys: ['up', 'k'],
    scope: 'replay',
    description: 'Jump to the previous event (state change, handoff, gate verdict, decision)',
    short: 'event',
    footerKeys: '↑↓/jk',
    enabled: (s) => (s.replay?.marks.length ? true : 'no events recorded'),
    run: (a) => a.replayMark(-1),
  },
  {
    id: 'replay.nextEvent',
    keys: ['down', 'j'],
    scope: 'replay',
    description: 'Jump to the next event',
    short: 'event',
    footer: false,
    enabled: (s) => (s.replay?.marks.length ? true : 'no events recorded'),
    run: (a) => a.replayMark(1),
  },
  {
    id: 'replay.start',
    keys: ['home', 'g'],
    scope: 'replay',
    description: 'Jump to the start',
    short: 'start',
    footerKeys: 'g/G',
    enabled: always,
    run: (a) => a.replaySeekTo('start'),
  },
  {
    id: 'replay.end',
    keys: ['end', 'G'],
    scope: 'replay',
    description: 'Jump to the end',
    short: 'end',
    footer: false,
    enabled: always,
    run: (a) => a.replaySeekTo('end'),
  },
  {
    id: 'replay.slower',
    keys: ['-'],
    scope: 'replay',
    description: 'Slower (down to 0.25x)',
    short: 'speed',
    footerKeys: '-/+',
    enabled: (s) => ((s.replay?.speed ?? 1) > 0.25 ? true : 'already at 0.25x'),
    run: (a) => a.replaySpeed(-1),
  },
  {
    id: 'replay.faster',
    keys: ['+', '='],
    scope: 'replay',
    description: 'Faster (up to 16x)',
    short: 'speed',
    footer: false,
    enabled: (s) => ((s.replay?.speed ?? 1) < 16 ? true : 'already at 16x'),
    run: (a) => a.replaySpeed(1),
  },
  {
    id: 'replay.nextLane',
    keys: ['tab'],
    scope: 'replay',
    description: 'Next lane of the same session',
    short: 'lane',
    enabled: (s) => ((s.replay?.lanes.length ?? 0) > 1 ? true : 'the session has one lane'),
    run: (a) => a.replaySwitchLane(1),
  },
  {
    id: 'replay.prevLane',
    keys: ['shift-tab'],
    scope: 'replay',
    description: 'Previous lane of the same session',
    short: 'lane',
    footer: false,
    enabled: (s) => ((s.replay?.lanes.length ?? 0) > 1 ? true : 'the session has one lane'),
    run: (a) => a.replaySwitchLane(-1),
  },
  {
    id: 'replay.close',
    keys: ['escape', 'q', 'ctrl-c'],
    scope: 'replay',
    description: 'Close the player (back to the history, or quit `ao-console replay`)',
    short: 'close',
    enabled: always,
    run: (a) => a.closeReplay(),
  },
];

export function scopeOf(mode: Mode): Scope {
  switch (mode) {
    case 'none':
      return 'dashboard';
    case 'help':
      return 'help';
    case 'diff':
    case 'gate-output':
      return 'viewer';
    case 'confirm-stop':
    case 'confirm-quit':
    case 'confirm-approve':
      return 'confirm';
    case 'new-lane-form':
    case 'reject-form':
    case 'learning-input':
    case 'learnings':
    case 'metrics':
    case 'history':
    case 'replay':
      return mode;
  }
}

/** True when printable keys type text (into a form field) instead of acting as bindings. */
export function textInputActive(s: AppState): boolean {
  if (s.mode === 'new-lane-form') return s.newLane.field !== 'profile';
  if (s.mode === 'reject-form') return s.reject?.step === 'reason';
  if (s.mode === 'learnings') return s.learningsBrowser.input !== null;
  return s.mode === 'learning-input';
}

export function bindingsIn(scope: Scope): KeyBinding[] {
  return KEYMAP.filter((b) => b.scope === scope);
}

/** The bindings that act now, in table order: what the footer shows. */
export function activeBindings(s: AppState): KeyBinding[] {
  return bindingsIn(scopeOf(s.mode)).filter((b) => b.footer !== false && b.enabled(s) === true);
}

const KEY_LABELS: Record<string, string> = {
  up: '↑',
  down: '↓',
  left: '←',
  right: '→',
  enter: 'enter',
  escape: 'esc',
  space: 'space',
};

/** How keys are shown to the operator: '↓/j', 'enter', 'ctrl-c'. */
export function keyLabel(keys: readonly string[]): string {
  return keys.map((k) => KEY_LABELS[k] ?? k).join('/');
}

/** The footer's label of a binding: 'a approve', '↑↓/jk move'. ctrl-c is left out (it is everywhere). */
export function footerLabel(b: KeyBinding): string {
  return `${b.footerKeys ?? keyLabel(b.keys.filter((k) => k !== 'ctrl-c'))} ${b.short}`;
}

export type DispatchResult = 'ran' | 'disabled' | 'typed' | 'ignored';

function isPrintable(keyName: string | null, input: string): boolean {
  if (!input) return false;
  if (keyName === null) return true; // a paste: several characters at once
  return keyName === 'space' || Array.from(keyName).length === 1;
}

/**
 * Handle one key press: typed text goes to the active field, a binding of the current scope
 * runs when enabled, and a disabled binding says why in the flash line.
 */
export function dispatchKey(
  keyName: string | null,
  input: string,
  state: AppState,
  actions: AppActions,
): DispatchResult {
  if (textInputActive(state) && isPrintable(keyName, input)) {
    actions.typeText(input);
    return 'typed';
  }
  if (keyName === null) return 'ignored';
  const scope = scopeOf(state.mode);
  const binding = KEYMAP.find((b) => b.scope === scope && b.keys.includes(keyName));
  if (!binding) return 'ignored';
  const ok = binding.enabled(state);
  if (ok !== true) {
    actions.flash(`${keyLabel([keyName])}: ${ok}`, 'warn');
    return 'disabled';
  }
  const result = binding.run(actions, state);
  if (result instanceof Promise)
    result.catch((err: unknown) => actions.flash(err instanceof Error ? err.message : String(err), 'error'));
  return 'ran';
}
