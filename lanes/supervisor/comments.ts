/**
 * Review comments: the operator's notes on lines of a lane's diff. Drafts are added, edited and
 * deleted while the lane is in review; a rework sends them to the agent as one message (typed as
 * its feedback, or, when long, written to a file in the state dir that the agent is told about);
 * later, each sent comment is judged against the branch as it is then: addressed when its lines
 * changed since the commit it was made on, unaddressed when they did not.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ActionError, type NewComment, type ReviewComment } from './api.js';
import { fileLinesAt, linesChanged } from '../git/lineChanges.js';
import * as commentsDb from '../store/comments.js';
import type { LaneRecord, SupervisorCore } from './context.js';

/** Feedback longer than this goes to the agent as a file it is told about, not typed. */
export const TYPED_FEEDBACK_MAX = 2000;
const MAX_COMMENT_CHARS = 4000;
const MAX_EXCERPT_CHARS = 2000;

function toInfo(lane: LaneRecord, r: commentsDb.CommentRow): ReviewComment {
  return {
    id: r.id,
    lane: lane.row.name,
    file: r.file,
    line: r.line,
    endLine: r.endLine,
    commit: r.commit,
    excerpt: r.excerpt,
    text: r.text,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    sentAt: r.sentAt,
    sentRound: r.sentRound,
    status: r.status,
  };
}

/** `file:3` or `file:3-5`. */
export function where(c: { file: string; line: number; endLine: number }): string {
  return `${c.file}:${c.line}${c.endLine > c.line ? `-${c.endLine}` : ''}`;
}

/** The commit a new comment is made on: the branch as it is now, else the head recorded at handoff. */
async function headOf(core: SupervisorCore, lane: LaneRecord): Promise<string> {
  const head = (await core.branchTip(lane)) ?? lane.row.headCommit;
  if (!head) throw new ActionError(`lane "${lane.row.name}" has no commits to comment on yet`, 'bad-state');
  return head;
}

function cleanText(text: string): string {
  const clean = text.trim();
  if (!clean) throw new ActionError('a comment needs text', 'bad-input');
  if (clean.length > MAX_COMMENT_CHARS)
    throw new ActionError(`a comment is at most ${MAX_COMMENT_CHARS} characters`, 'bad-input');
  return clean;
}

/** Adds a draft comment on the lane's head: the file must be in the lane's diff and the lines in the file. */
export async function addComment(core: SupervisorCore, lane: LaneRecord, c: NewComment): Promise<ReviewComment> {
  const text = cleanText(c.text);
  const endLine = c.endLine ?? c.line;
  if (!Number.isInteger(c.line) || c.line < 1)
    throw new ActionError(`line must be 1 or more, not ${c.line}`, 'bad-input');
  if (!Number.isInteger(endLine) || endLine < c.line)
    throw new ActionError(`the end line (${endLine}) must not be before the line (${c.line})`, 'bad-input');
  const head = await headOf(core, lane);
  const stat = await core.git.diffStat(core.repoRoot, lane.row.base, head);
  if (!stat.some((e) => e.path === c.file)) {
    const files = stat.map((e) => e.path);
    throw new ActionError(
      `no file ${c.file} in the diff of lane ${lane.row.name}` +
        (files.length
          ? ` (its files: ${files.slice(0, 10).join(', ')}${files.length > 10 ? ', …' : ''})`
          : ' (it changes no file)'),
      'bad-input',
    );
  }
  const lines = await fileLinesAt(core.repoRoot, head, c.file);
  if (lines === null)
    throw new ActionError(`${c.file} was deleted by lane ${lane.row.name}: comment on a file it keeps`, 'bad-input');
  if (endLine > lines.length) {
    throw new ActionError(
      `line ${endLine} is out of range: ${c.file} has ${lines.length} line${lines.length === 1 ? '' : 's'} at ${head.slice(0, 12)}`,
      'bad-input',
    );
  }
  const excerpt = lines
    .slice(c.line - 1, endLine)
    .join('\n')
    .slice(0, MAX_EXCERPT_CHARS);
  const row = commentsDb.insertComment(core.db, {
    laneId: lane.row.id,
    file: c.file,
    line: c.line,
    endLine,
    commit: head,
    excerpt,
    text,
  });
  core.logEvent(lane, 'comment', `${where(row)}: ${text}`.slice(0, 300), {
    id: row.id,
    file: row.file,
    line: row.line,
    endLine: row.endLine,
    commit: head,
  });
  return toInfo(lane, row);
}

/** The lane's draft comment `id` (a sent one is refused: it went to the agent as it is). */
function draftOf(core: SupervisorCore, lane: LaneRecord, id: number, doing: string): commentsDb.CommentRow {
  const row = commentsDb.getComment(core.db, id);
  if (!row || row.deleted || row.laneId !== lane.row.id)
    throw new ActionError(`lane ${lane.row.name} has no comment ${id}`, 'not-found');
  if (row.status !== 'draft')
    throw new ActionError(`comment ${id} was sent to the agent (${row.status}); it cannot be ${doing}`, 'bad-state');
  return row;
}

export function editComment(core: SupervisorCore, lane: LaneRecord, id: number, text: string): ReviewComment {
  const clean = cleanText(text);
  draftOf(core, lane, id, 'edited');
  const row = commentsDb.setCommentText(core.db, id, clean);
  core.logEvent(lane, 'comment-edited', `${where(row)}: ${clean}`.slice(0, 300), { id });
  return toInfo(lane, row);
}

export function deleteComment(core: SupervisorCore, lane: LaneRecord, id: number): void {
  const row = draftOf(core, lane, id, 'deleted');
  commentsDb.deleteComment(core.db, id);
  core.logEvent(lane, 'comment-deleted', where(row), { id });
}

/**
 * The lane's comments, each sent one judged against the branch as it is now (and stored so):
 * addressed when its lines changed since the commit it was made on, unaddressed when not, still
 * sent while the branch has not moved.
 */
export async function listComments(
  core: SupervisorCore,
  lane: LaneRecord,
  head?: string | null,
): Promise<ReviewComment[]> {
  const rows = commentsDb.listComments(core.db, lane.row.id);
  const tip = head === undefined ? ((await core.branchTip(lane)) ?? lane.row.headCommit) : head;
  for (const r of rows) {
    if (r.status === 'draft' || !tip) continue;
    let status: ReviewComment['status'];
    if (tip === r.commit) status = 'sent';
    else if (r.checkedHead === tip && r.status !== 'sent') continue;
    else {
      try {
        status = (await linesChanged(core.repoRoot, r.commit, tip, r.file, r.line, r.endLine))
          ? 'addressed'
          : 'unaddressed';
      } catch {
        continue; // git cannot say (the commit is gone): the comment keeps what it had
      }
    }
    if (status !== r.status || r.checkedHead !== tip) {
      commentsDb.setCommentOutcome(core.db, r.id, status, tip);
      r.status = status;
      r.checkedHead = tip;
    }
  }
  return rows.map((r) => toInfo(lane, r));
}

/** A code excerpt on one line: trimmed lines joined by ⏎, at most `max` characters. */
function inlineExcerpt(excerpt: string, max = 160): string {
  const one = excerpt
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ⏎ ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** The comments as a typed line: `[1] file:3 `code` — comment`, one after another. */
export function formatCommentsInline(comments: readonly commentsDb.CommentRow[]): string {
  return comments
    .map((c, i) => `[${i + 1}] ${where(c)} \`${inlineExcerpt(c.excerpt)}\` — ${c.text.replace(/\s+/g, ' ')}`)
    .join(' ');
}

/** The comments as a markdown file for the agent. */
export function formatCommentsFile(
  lane: string,
  round: number,
  lead: string,
  comments: readonly commentsDb.CommentRow[],
): string {
  const parts = [
    `# Review comments on lane ${lane} (rework round ${round})`,
    '',
    lead,
    '',
    'Address each comment below, then commit. Line numbers are those of the commit each comment was made on.',
    '',
  ];
  comments.forEach((c, i) => {
    parts.push(`## [${i + 1}] ${where(c)}`, '', '```', c.excerpt, '```', '', c.text, '');
  });
  return parts.join('\n');
}

/**
 * The feedback of a rework: the reason, and the lane's draft comments, which are marked sent in
 * round `round`. Short feedback is typed as it is; long feedback is written to a file in the state
 * dir (never in the worktree, so never in the lane's diff) and the agent is told its path.
 */
export function reworkFeedback(core: SupervisorCore, lane: LaneRecord, reason: string, round: number): string {
  const lead = `The operator rejected your work: ${reason}. Please rework it.`;
  const drafts = commentsDb.listComments(core.db, lane.row.id).filter((c) => c.status === 'draft');
  if (drafts.length === 0) return lead;
  const n = drafts.length;
  const plural = n === 1 ? '' : 's';
  let feedback = `${lead} Review comment${plural} (${n}) on your diff; address each one, then commit: ${formatCommentsInline(drafts)}`;
  let file: string | null = null;
  if (feedback.length > TYPED_FEEDBACK_MAX) {
    const dir = path.join(core.opts.stateDir, 'reviews');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    file = path.join(dir, `${lane.row.name}-round-${round}.md`);
    writeFileSync(file, formatCommentsFile(lane.row.name, round, lead, drafts), { mode: 0o600 });
    const them = n === 1 ? 'The review comment on your diff is' : `The ${n} review comments on your diff are`;
    feedback = `${lead} ${them} in the file ${file} : read it, address each one, then commit.`;
  }
  commentsDb.markSent(
    core.db,
    drafts.map((c) => c.id),
    round,
  );
  core.logEvent(
    lane,
    'comments-sent',
    `${n} review comment${plural} sent (round ${round})${file ? ` in ${file}` : ''}`,
    {
      ids: drafts.map((c) => c.id),
      round,
      file,
    },
  );
  return feedback;
}
