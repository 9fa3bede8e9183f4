/**
 * Review comments in the diff viewer: a line cursor over the diff (and a range marked with v),
 * a comment typed on the line or range, a draft edited or deleted, a comment kept as a learning.
 * The questions the keymap asks (is the cursor on a line of the tree? on a comment?) are the
 * pure functions at the top.
 */
import { diffTargets, markedRange, type DiffTarget } from '../ui/diffTargets.js';
import type { ActionContext } from './context.js';
import { overlayOf } from './selectors.js';
import { NO_OVERLAY, type AppState, type CommentInput, type OverlayOf, type ReviewComment } from './types.js';

type Viewer = OverlayOf<'viewer'>;

// the diff's targets, computed once per diff text (the keymap asks on every key and render)
let cached: { diff: string; targets: (DiffTarget | null)[] } | null = null;
function targetsOf(diff: string): (DiffTarget | null)[] {
  if (cached?.diff !== diff) cached = { diff, targets: diffTargets(diff) };
  return cached.targets;
}

/** The diff viewer when it shows a diff, with its targets and cursor; null otherwise. */
export function diffViewer(s: AppState): { o: Viewer; targets: (DiffTarget | null)[]; cursor: number } | null {
  const o = overlayOf(s, 'viewer');
  const info = s.review.info;
  if (!o || o.view !== 'diff' || !info) return null;
  const targets = targetsOf(info.diff);
  return { o, targets, cursor: Math.min(o.cursor ?? 0, Math.max(0, targets.length - 1)) };
}

/** True while a comment is being typed in the diff viewer. */
export function commentTyping(s: AppState): boolean {
  return !!overlayOf(s, 'viewer')?.comment;
}

/** The comments on a line of the tree (their range holds it). */
export function commentsOn(comments: readonly ReviewComment[] | undefined, t: DiffTarget | null): ReviewComment[] {
  if (!t || !comments) return [];
  return comments.filter((c) => c.file === t.file && c.line <= t.line && t.line <= c.endLine);
}

/** The comment under the diff viewer's cursor (a draft first), or null. */
export function commentAtCursor(s: AppState): ReviewComment | null {
  const v = diffViewer(s);
  if (!v) return null;
  const on = commentsOn(s.review.info?.comments, v.targets[v.cursor]);
  return on.find((c) => c.status === 'draft') ?? on[0] ?? null;
}

/** Why the cursor's line (or range) cannot take a comment now; true when it can. */
export function canComment(s: AppState): true | string {
  const v = diffViewer(s);
  if (!v) return 'only in the diff (tab switches to it)';
  if (v.o.comment) return 'a comment is being typed';
  if (!v.targets[v.cursor]) return 'put the cursor on a line of the new file (a + or context line)';
  return true;
}

/** Why the comment under the cursor cannot be edited or deleted; true when it can. */
export function canChangeComment(s: AppState): true | string {
  if (!diffViewer(s)) return 'only in the diff (tab switches to it)';
  if (commentTyping(s)) return 'a comment is being typed';
  const c = commentAtCursor(s);
  if (!c) return 'no comment on this line (c adds one)';
  if (c.status !== 'draft') return `comment ${c.id} was sent to the agent (${c.status}); it stays as it is`;
  return true;
}

export interface CommentActions {
  /** the diff's line cursor moves (the view follows it); other views scroll */
  viewerMove(delta: number | 'top' | 'bottom'): void;
  /** v: start marking a range at the cursor, or stop */
  toggleRange(): void;
  /** c: type a comment on the cursor's line (or the marked range) */
  startComment(): void;
  /** e: type the new text of the draft under the cursor */
  startCommentEdit(): void;
  /** enter: store the comment being typed */
  saveComment(): Promise<void>;
  /** x: delete the draft under the cursor */
  deleteCommentAtCursor(): Promise<void>;
  /** L: keep the comment under the cursor as a learning */
  keepCommentAsLearning(): Promise<void>;
  /** esc: drop the comment being typed, else the range, else close the viewer */
  viewerEscape(): void;
}

export function createCommentActions(
  ctx: ActionContext,
  scroll: (delta: number | 'top' | 'bottom') => void,
): CommentActions {
  const { get, set, supervisor, flash } = ctx;
  const patch = (p: Partial<Viewer>): void => {
    const o = ctx.overlay('viewer');
    if (o) set({ overlay: { ...o, ...p } });
  };
  const lane = (): string | null => get().review.lane;

  return {
    viewerMove(delta) {
      const v = diffViewer(get());
      if (!v) return scroll(delta);
      const last = Math.max(0, v.targets.length - 1);
      const next = delta === 'top' ? 0 : delta === 'bottom' ? last : Math.min(last, Math.max(0, v.cursor + delta));
      patch({ cursor: next });
    },

    toggleRange() {
      const v = diffViewer(get());
      if (!v) return;
      patch({ anchor: v.o.anchor === null || v.o.anchor === undefined ? v.cursor : null });
    },

    startComment() {
      const v = diffViewer(get());
      if (!v) return;
      const range = markedRange(v.targets, v.cursor, v.o.anchor);
      if (!range) return;
      const input: CommentInput = { text: '', ...range, editing: null };
      patch({ comment: input });
    },

    startCommentEdit() {
      const c = commentAtCursor(get());
      if (!c) return;
      patch({ comment: { text: c.text, file: c.file, line: c.line, endLine: c.endLine, editing: c.id } });
    },

    async saveComment() {
      const o = ctx.overlay('viewer');
      const input = o?.comment;
      const name = lane();
      if (!input || !name) return;
      if (!input.text.trim()) {
        flash('type the comment first (esc drops it)', 'warn');
        return;
      }
      const { addComment, editComment } = supervisor;
      if (!addComment || !editComment) {
        flash('this engine does not take review comments', 'error');
        return;
      }
      patch({ comment: null, anchor: null });
      const where = `${input.file}:${input.line}${input.endLine > input.line ? `-${input.endLine}` : ''}`;
      const ok = await ctx.guard(`comment on ${where}`, async () => {
        if (input.editing === null)
          await addComment.call(supervisor, name, {
            file: input.file,
            line: input.line,
            endLine: input.endLine,
            text: input.text.trim(),
          });
        else await editComment.call(supervisor, name, input.editing, input.text.trim());
      });
      if (ok) flash(input.editing === null ? `comment on ${where} added (draft)` : `comment on ${where} edited`);
      await ctx.loadReview(name);
    },

    async deleteCommentAtCursor() {
      const c = commentAtCursor(get());
      const name = lane();
      if (!c || !name || !supervisor.deleteComment) return;
      const del = supervisor.deleteComment;
      if (await ctx.guard(`delete comment ${c.id}`, () => del.call(supervisor, name, c.id)))
        flash(`comment on ${c.file}:${c.line} deleted`);
      await ctx.loadReview(name);
    },

    async keepCommentAsLearning() {
      const c = commentAtCursor(get());
      const name = lane();
      if (!c || !name) return;
      if (await ctx.guard('keep as a learning', () => supervisor.addLearning(`${c.file}: ${c.text}`, name)))
        flash(`comment on ${c.file}:${c.line} kept as a learning`);
    },

    viewerEscape() {
      const o = ctx.overlay('viewer');
      if (o?.comment) return patch({ comment: null });
      if (o && o.anchor !== null && o.anchor !== undefined) return patch({ anchor: null });
      set({ overlay: NO_OVERLAY });
    },
  };
}
