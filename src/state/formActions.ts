/**
 * Text input: printable keys typed into the field that has focus (the new-lane form, the reject
 * reason, the learning input, the learnings browser's search or edit), backspace, and the
 * learning input itself (`l`).
 */
import type { ActionContext } from './context.js';
import type { LearningsActions } from './learningsActions.js';
import { NO_OVERLAY, type Overlay } from './types.js';

export interface FormActions {
  /** printable text typed into the field that has focus */
  typeText(text: string): void;
  /**
   * A paste (bracketed: its newlines are text, never enter): into the field that has focus; the
   * task keeps its lines, a one-line field gets them as spaces.
   */
  pasteText(text: string): void;
  /** a line break in the task field (the task may span lines) */
  newline(): void;
  backspace(): void;
  openLearning(): void;
  submitLearning(): Promise<void>;
}

/**
 * The text field of the open overlay, changed by `edit`; null when the overlay has none in focus.
 * Typing (`typed`) also clears the field's error; a backspace leaves it.
 */
function editField(o: Overlay, edit: (value: string) => string, typed: boolean): Overlay | null {
  switch (o.kind) {
    case 'new-lane-form': {
      const f = o.form;
      if (f.field === 'profile') return null;
      const errors = typed ? { ...f.errors, [f.field]: undefined } : f.errors;
      return { ...o, form: { ...f, [f.field]: edit(f[f.field]), errors } };
    }
    case 'reject-form': {
      const f = o.form;
      if (f.step !== 'reason') return null;
      return { ...o, form: { ...f, reason: edit(f.reason), error: typed ? null : f.error } };
    }
    case 'learning-input':
      return { ...o, text: edit(o.text) };
    case 'help':
      return o.typing ? { ...o, search: edit(o.search ?? '') } : null;
    case 'viewer':
      return o.comment ? { ...o, comment: { ...o.comment, text: edit(o.comment.text) } } : null;
    default:
      return null;
  }
}

const cut = (v: string): string => Array.from(v).slice(0, -1).join('');

export function createFormActions(
  ctx: ActionContext,
  learnings: Pick<LearningsActions, 'typeLearningsText' | 'learningsBackspace'>,
): FormActions {
  const { get, set, supervisor, flash } = ctx;
  return {
    typeText(text) {
      const clean = text.replace(/[\x00-\x1f\x7f]/g, '');
      if (!clean) return;
      const o = get().overlay;
      if (o.kind === 'learnings') return learnings.typeLearningsText(clean);
      const next = editField(o, (v) => v + clean, true);
      if (next) set({ overlay: next });
    },

    pasteText(text) {
      const o = get().overlay;
      const lines = text.replace(/\r\n?/g, '\n').replace(/\t/g, ' ');
      const multi = o.kind === 'new-lane-form' && o.form.field === 'task';
      const clean = (multi ? lines : lines.replace(/\n+/g, ' ')).replace(/[\x00-\x09\x0b-\x1f\x7f]/g, '');
      if (!clean) return;
      if (o.kind === 'learnings') return learnings.typeLearningsText(clean);
      const next = editField(o, (v) => v + clean, true);
      if (next) set({ overlay: next });
    },

    newline() {
      const o = get().overlay;
      if (o.kind !== 'new-lane-form' || o.form.field !== 'task') return;
      const next = editField(o, (v) => v + '\n', true);
      if (next) set({ overlay: next });
    },

    backspace() {
      const o = get().overlay;
      if (o.kind === 'learnings') return learnings.learningsBackspace();
      const next = editField(o, cut, false);
      if (next) set({ overlay: next });
    },

    openLearning() {
      set({ overlay: { kind: 'learning-input', text: '', lane: get().focused } });
    },

    async submitLearning() {
      const o = ctx.overlay('learning-input');
      if (!o) return;
      if (!o.text.trim()) {
        flash('type the learning first', 'warn');
        return;
      }
      set({ overlay: NO_OVERLAY });
      if (await ctx.guard('add learning', () => supervisor.addLearning(o.text.trim(), o.lane ?? undefined)))
        flash('learning stored');
    },
  };
}
