/**
 * The learnings browser and the metrics panel: their actions (their state: types.ts,
 * LearningsSlice). The data comes from the SupervisorApi's optional learnings methods; a front
 * end without them says so in the flash.
 */
import type { ActionContext } from './context.js';
import { errorText } from './context.js';
import { selectedLearning } from './selectors.js';
import { NO_OVERLAY, type LearningsBrowserState, type LearningsInputKind } from './types.js';

export interface LearningsActions {
  /** `L`: opens the browser and loads the learnings */
  openLearnings(): Promise<void>;
  loadLearnings(): Promise<void>;
  learningsMove(delta: number): void;
  /** starts typing a search, a tombstone reason or a new text for the selected learning */
  learningsInput(kind: LearningsInputKind): void;
  learningsSubmit(): Promise<void>;
  /** cancels the typing, or closes the browser when nothing is being typed */
  learningsCancel(): void;
  toggleTombstoned(): Promise<void>;
  typeLearningsText(text: string): void;
  learningsBackspace(): void;
  /** `M`: opens the metrics panel and loads it */
  openMetrics(): Promise<void>;
  loadMetrics(): Promise<void>;
}

export function createLearningsActions(ctx: ActionContext): LearningsActions {
  const { get, set, supervisor, flash } = ctx;
  const patch = (p: Partial<LearningsBrowserState>): void =>
    set({ learningsBrowser: { ...get().learningsBrowser, ...p } });

  const actions: LearningsActions = {
    async openLearnings() {
      set({
        overlay: { kind: 'learnings' },
        learningsBrowser: { ...get().learningsBrowser, input: null, error: null },
      });
      await actions.loadLearnings();
    },

    async loadLearnings() {
      if (!supervisor.listLearnings) {
        patch({ error: 'this console cannot list learnings', loading: false });
        return;
      }
      const { query, includeTombstoned } = get().learningsBrowser;
      patch({ loading: true, error: null });
      try {
        const items = await supervisor.listLearnings(query, { includeTombstoned });
        const b = get().learningsBrowser;
        if (b.query !== query || b.includeTombstoned !== includeTombstoned) return; // a newer load is on its way
        const keep = b.items[b.selected]?.id;
        const at = items.findIndex((l) => l.id === keep);
        patch({ items, loading: false, selected: at >= 0 ? at : Math.min(b.selected, Math.max(0, items.length - 1)) });
      } catch (err) {
        patch({ loading: false, error: errorText(err) });
      }
    },

    learningsMove(delta) {
      const b = get().learningsBrowser;
      if (b.items.length === 0) return;
      patch({ selected: Math.max(0, Math.min(b.items.length - 1, b.selected + delta)) });
    },

    learningsInput(kind) {
      const b = get().learningsBrowser;
      const sel = selectedLearning(get());
      if (kind !== 'search' && !sel) return;
      patch({ input: { kind, text: kind === 'search' ? b.query : kind === 'edit' ? (sel?.text ?? '') : '' } });
    },

    async learningsSubmit() {
      const b = get().learningsBrowser;
      const input = b.input;
      if (!input) return;
      const text = input.text.trim();
      if (input.kind === 'search') {
        patch({ input: null, query: text, selected: 0 });
        await actions.loadLearnings();
        return;
      }
      const sel = selectedLearning(get());
      if (!sel) return patch({ input: null });
      if (!text) {
        flash(input.kind === 'tombstone' ? 'a tombstone needs a reason' : 'a learning needs text', 'warn');
        return;
      }
      const call = input.kind === 'tombstone' ? supervisor.tombstoneLearning : supervisor.editLearning;
      if (!call) {
        flash('this console cannot change learnings', 'error');
        return;
      }
      patch({ input: null });
      try {
        await call.call(supervisor, sel.id, text);
        flash(input.kind === 'tombstone' ? `learning #${sel.id} tombstoned` : `learning #${sel.id} edited`);
      } catch (err) {
        flash(`${input.kind} learning #${sel.id}: ${errorText(err)}`, 'error');
      }
      await actions.loadLearnings();
    },

    learningsCancel() {
      if (get().learningsBrowser.input) patch({ input: null });
      else set({ overlay: NO_OVERLAY });
    },

    async toggleTombstoned() {
      patch({ includeTombstoned: !get().learningsBrowser.includeTombstoned });
      await actions.loadLearnings();
    },

    typeLearningsText(text) {
      const input = get().learningsBrowser.input;
      if (input) patch({ input: { ...input, text: input.text + text } });
    },

    learningsBackspace() {
      const input = get().learningsBrowser.input;
      if (input) patch({ input: { ...input, text: Array.from(input.text).slice(0, -1).join('') } });
    },

    async openMetrics() {
      set({ overlay: { kind: 'metrics' } });
      await actions.loadMetrics();
    },

    async loadMetrics() {
      if (!supervisor.metrics) {
        set({ metricsPanel: { data: null, loading: false, error: 'this console has no metrics' } });
        return;
      }
      set({ metricsPanel: { ...get().metricsPanel, loading: true, error: null } });
      try {
        set({ metricsPanel: { data: await supervisor.metrics(), loading: false, error: null } });
      } catch (err) {
        set({ metricsPanel: { ...get().metricsPanel, loading: false, error: errorText(err) } });
      }
    },
  };
  return actions;
}
