/**
 * The keys of what covers the dashboard: the help, the diff and gate output viewer, the confirm
 * dialog, the new-lane and reject forms and the learning input.
 */
import { overlayOf } from '../state/selectors.js';
import type { AppState } from '../state/types.js';
import { always, type KeyBinding } from './types.js';

const newLaneForm = (s: AppState) => overlayOf(s, 'new-lane-form')?.form;
const rejectForm = (s: AppState) => overlayOf(s, 'reject-form')?.form;
const inProfileField = (s: AppState): true | string =>
  newLaneForm(s)?.field === 'profile' ? true : 'only in the profile field';

function rejectStep(step: 'reason' | 'mode') {
  return (s: AppState): true | string =>
    rejectForm(s)?.step === step
      ? true
      : step === 'mode'
        ? 'type a reason and press enter first'
        : 'the reason is already entered';
}

export const OVERLAY_KEYS: readonly KeyBinding[] = [
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
    run: (a, s) => (overlayOf(s, 'viewer')?.view === 'diff' ? a.openGateOutput() : a.openDiff()),
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
    id: 'confirm.stopEngine',
    keys: ['s'],
    scope: 'confirm',
    description: 'When quitting: stop every lane and the engine, then quit',
    short: 'stop every lane and the engine',
    enabled: (s) =>
      overlayOf(s, 'confirm')?.action !== 'quit'
        ? 'only when quitting'
        : s.lanesOutlive
          ? true
          : 'quitting stops every lane already',
    run: (a) => a.quitStopEngine(),
  },
  {
    id: 'confirm.no',
    keys: ['n', 'escape'],
    scope: 'confirm',
    description: 'No, go back',
    short: 'no',
    enabled: always,
    run: (a) => a.closeOverlay(),
  },
  {
    id: 'confirm.ctrlC',
    keys: ['ctrl-c'],
    scope: 'confirm',
    description:
      'No, go back; in the quit dialog opened by ctrl-c, a second ctrl-c within a second quits (lanes keep running)',
    short: 'no',
    footer: false,
    enabled: always,
    run: (a) => a.confirmCtrlC(),
  },

  // the engine went away without a word (killed)
  {
    id: 'engine.restart',
    keys: ['r'],
    scope: 'engine-gone',
    description: 'Start the engine again: it recovers the lanes (interrupted, resumable)',
    short: 'start it again',
    enabled: (s) => (overlayOf(s, 'engine-gone')?.restarting ? 'starting the engine…' : true),
    run: (a) => a.restartEngine(),
  },
  {
    id: 'engine.quit',
    keys: ['q', 'ctrl-c'],
    scope: 'engine-gone',
    description: 'Quit the dashboard',
    short: 'quit',
    enabled: always,
    run: (a) => a.quitNow(),
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
    enabled: inProfileField,
    run: (a) => a.formChoice(1),
  },
  {
    id: 'form.choicePrev',
    keys: ['left'],
    scope: 'new-lane-form',
    description: 'Previous profile (in the profile field)',
    short: 'profile',
    footer: false,
    enabled: inProfileField,
    run: (a) => a.formChoice(-1),
  },
  {
    id: 'form.submit',
    keys: ['enter'],
    scope: 'new-lane-form',
    description: 'Create the lane (errors show next to the field)',
    short: 'create',
    enabled: (s) => (newLaneForm(s)?.submitting ? 'creating the lane' : true),
    run: (a) => a.submitNewLane(),
  },
  {
    id: 'form.newline',
    keys: ['alt-enter'],
    scope: 'new-lane-form',
    description: 'A new line in the task (a paste keeps its lines too)',
    short: 'new line',
    footer: false,
    enabled: (s) => (newLaneForm(s)?.field === 'task' ? true : 'only in the task field'),
    run: (a) => a.newline(),
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
    enabled: (s) => {
      const r = rejectForm(s);
      return r?.step === 'reason' && !r.reason.trim() ? 'a reason is required' : true;
    },
    run: (a, s) => (rejectForm(s)?.step === 'mode' ? a.submitReject() : a.rejectNext()),
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
    run: (a, s) => a.rejectChoose(rejectForm(s)?.mode === 'rework' ? 'discard' : 'rework'),
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
    enabled: (s) => (overlayOf(s, 'learning-input')?.text.trim() ? true : 'type the learning first'),
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
];
