/**
 * Review comments in the diff viewer, by keys: the line cursor, a comment added on a line and on
 * a range, edited, kept as a learning and deleted; the reject form says the drafts go with rework.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ActionError, type NewComment, type ReviewComment, type ReviewInfo } from '../../lanes/supervisor/api.js';
import { FakeSupervisor, makeLane, plain, renderApp, sampleReview, type Rendered } from './harness.js';

/** The fake engine, with comments kept in memory and shown in the review. */
class CommentingSupervisor extends FakeSupervisor {
  comments: ReviewComment[] = [];
  private nextId = 1;
  async review(name: string): Promise<ReviewInfo> {
    const info = await super.review(name);
    return { ...info, comments: this.comments.map((c) => ({ ...c })) };
  }
  async listComments(): Promise<ReviewComment[]> {
    return this.comments;
  }
  async addComment(lane: string, c: NewComment): Promise<ReviewComment> {
    this.calls.push({ method: 'addComment', args: [lane, c] });
    const comment: ReviewComment = {
      id: this.nextId++,
      lane,
      file: c.file,
      line: c.line,
      endLine: c.endLine ?? c.line,
      commit: 'abc1234def',
      excerpt: '',
      text: c.text,
      createdAt: 1,
      updatedAt: 1,
      sentAt: null,
      sentRound: null,
      status: 'draft',
    };
    this.comments.push(comment);
    return comment;
  }
  async editComment(lane: string, id: number, text: string): Promise<ReviewComment> {
    this.calls.push({ method: 'editComment', args: [lane, id, text] });
    const c = this.comments.find((x) => x.id === id);
    if (!c) throw new ActionError(`no comment ${id}`, 'not-found');
    c.text = text;
    return c;
  }
  async deleteComment(lane: string, id: number): Promise<void> {
    this.calls.push({ method: 'deleteComment', args: [lane, id] });
    this.comments = this.comments.filter((x) => x.id !== id);
  }
}

let r: Rendered | null = null;
afterEach(() => {
  r?.unmount();
  r = null;
});

const viewer = (rendered: Rendered) => {
  const o = rendered.store.getState().overlay;
  if (o.kind !== 'viewer') throw new Error(`the viewer is not open (${o.kind})`);
  return o;
};

describe('review comments in the diff viewer', () => {
  it('adds, edits, keeps as a learning and deletes a comment by keys; a range too', async () => {
    const sup = new CommentingSupervisor([makeLane('feat', { state: 'awaiting-approval' })]);
    sup.reviews.set('feat', sampleReview('feat'));
    r = renderApp(sup, { cols: 100, rows: 30 });
    await r.waitFor((f) => plain(f).includes('required gates passed'));
    await r.pressBinding('review.diff');
    await r.waitFor((f) => plain(f).includes('Diff of feat'), 'the diff viewer');

    // the cursor starts on the diff's header: no line of the tree to comment on
    await r.pressBinding('viewer.comment');
    await r.waitFor((f) => plain(f).includes('put the cursor on a line of the new file'), 'why not');
    // down to `+export const add = (a, b) => a + b;`, line 1 of src/add.js
    for (let i = 0; i < 5; i++) await r.pressBinding('viewer.down');
    expect(viewer(r).cursor).toBe(5);
    await r.pressBinding('viewer.comment');
    expect(viewer(r).comment).toMatchObject({ file: 'src/add.js', line: 1, endLine: 1, editing: null });
    await r.type('use a named fn');
    await r.pressBinding('viewer.commentSave');
    await r.waitFor(() => sup.callsOf('addComment').length === 1, 'addComment');
    expect(sup.callsOf('addComment')[0]).toEqual([
      'feat',
      { file: 'src/add.js', line: 1, endLine: 1, text: 'use a named fn' },
    ]);
    let frame = plain(await r.waitFor((f) => plain(f).includes('▲ #1 draft (src/add.js:1): use a named fn')));
    // the marker is right under the commented line
    const ls = frame.split('\n');
    const at = ls.findIndex((l) => l.startsWith('+export const add = (a, b) => a + b;'));
    expect(ls[at + 1]).toContain('▲ #1 draft');

    // e edits the draft on the cursor line: its text is in the field
    await r.pressBinding('viewer.commentEdit');
    expect(viewer(r).comment).toMatchObject({ text: 'use a named fn', editing: 1 });
    for (let i = 0; i < 2; i++) await r.press('backspace');
    await r.type('function');
    await r.press('enter');
    await r.waitFor(() => sup.callsOf('editComment').length === 1, 'editComment');
    expect(sup.callsOf('editComment')[0]).toEqual(['feat', 1, 'use a named function']);
    await r.waitFor((f) => plain(f).includes('▲ #1 draft (src/add.js:1): use a named function'), 'edited');

    // L keeps it as a learning
    await r.pressBinding('viewer.commentLearning');
    await r.waitFor(() => sup.callsOf('addLearning').length === 1, 'addLearning');
    expect(sup.callsOf('addLearning')[0]).toEqual(['src/add.js: use a named function', 'feat']);

    // a range: v on line 1, down to line 3, c
    await r.pressBinding('viewer.range');
    await r.pressBinding('viewer.down');
    await r.pressBinding('viewer.down');
    await r.pressBinding('viewer.comment');
    expect(viewer(r).comment).toMatchObject({ line: 1, endLine: 3 });
    await r.type('too much');
    await r.press('escape'); // drops the comment being typed, nothing sent
    expect(viewer(r).comment).toBeNull();
    await r.pressBinding('viewer.comment');
    await r.type('split these');
    await r.press('enter');
    await r.waitFor(() => sup.callsOf('addComment').length === 2, 'second addComment');
    expect(sup.callsOf('addComment')[1]).toEqual([
      'feat',
      { file: 'src/add.js', line: 1, endLine: 3, text: 'split these' },
    ]);
    await r.waitFor((f) => plain(f).includes('▲ #2 draft (src/add.js:1-3): split these'), 'the range comment');

    // x deletes the draft on the cursor line (line 3: the range's)
    await r.pressBinding('viewer.commentDelete');
    await r.waitFor(() => sup.callsOf('deleteComment').length === 1, 'deleteComment');
    expect(sup.callsOf('deleteComment')[0]).toEqual(['feat', 2]);
    frame = plain(await r.waitFor((f) => !plain(f).includes('split these'), 'the comment gone'));
    expect(frame).toContain('▲ #1 draft');

    // a sent comment is not edited
    sup.comments[0].status = 'sent';
    await r.store.actions.loadReview('feat');
    for (let i = 0; i < 2; i++) await r.pressBinding('viewer.up');
    await r.pressBinding('viewer.commentEdit');
    await r.waitFor((f) => plain(f).includes('was sent to the agent'), 'refused');
    expect(viewer(r).comment ?? null).toBeNull();

    // back on the dashboard, the reject form says drafts go with rework
    sup.comments[0].status = 'draft';
    await r.store.actions.loadReview('feat');
    await r.press('escape');
    expect(r.store.getState().overlay.kind).toBe('none');
    await r.waitFor((f) => plain(f).includes('1 review comment: 1 draft'), 'the review panel counts them');
    await r.pressBinding('review.reject');
    await r.type('see comments');
    await r.press('enter');
    await r.waitFor((f) => plain(f).includes('rework: send the lane back with the reason and 1 review comment'));
  });
});
