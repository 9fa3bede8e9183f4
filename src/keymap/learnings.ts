/**
 * The keys of the learnings browser and the metrics panel.
 */
import { selectedLearning } from '../state/selectors.js';
import type { AppState } from '../state/types.js';
import { always, type KeyBinding } from './types.js';

/** The learnings browser's keys that act on the selected learning. */
function liveLearning(s: AppState): true | string {
  const l = selectedLearning(s);
  if (!l) return 'no learning selected';
  return l.tombstoned ? `learning #${l.id} is tombstoned` : true;
}

export const LEARNINGS_KEYS: readonly KeyBinding[] = [
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
];
