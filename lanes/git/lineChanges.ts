/**
 * Lines of one file, for review comments (lanes/supervisor/comments.ts): a file's text at a commit
 * (the comment's excerpt, its line count), and which of a commit's lines a later commit changed
 * (a sent comment is addressed when its lines did).
 */
import { git } from './git.js';
import { validateRevisionArg } from './refs.js';

/** The file's lines at `commit`; null when the commit has no such file (or it is not a file). */
export async function fileLinesAt(repoRoot: string, commit: string, file: string): Promise<string[] | null> {
  validateRevisionArg(commit, 'commit');
  // `<commit>:<path>` starts with the commit, so it never reads as an option
  const res = await git(['cat-file', 'blob', `${commit}:${file}`], { cwd: repoRoot, allowFail: true, raw: true });
  if (res.exitCode !== 0) return null;
  const lines = res.stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** One hunk of a zero-context diff, by its old side: `count` lines from `start` (count 0: an insertion after `start`). */
export interface OldHunk {
  start: number;
  count: number;
}

/** The hunks of `git diff -U0` output, by their old-side ranges. */
export function parseOldHunks(diff: string): OldHunk[] {
  const hunks: OldHunk[] = [];
  for (const m of diff.matchAll(/^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@/gm)) {
    hunks.push({ start: Number(m[1]), count: m[2] === undefined ? 1 : Number(m[2]) });
  }
  return hunks;
}

/**
 * True when a hunk touches lines `line`..`endLine` of the old side: it changes or removes one of
 * them, or inserts lines right after one of them.
 */
export function hunksTouch(hunks: readonly OldHunk[], line: number, endLine: number): boolean {
  return hunks.some((h) =>
    h.count === 0 ? h.start >= line && h.start <= endLine : h.start <= endLine && h.start + h.count - 1 >= line,
  );
}

/** True when `to` changed any of lines `line`..`endLine` of `file` as it was at `from` (a deleted file counts). */
export async function linesChanged(
  repoRoot: string,
  from: string,
  to: string,
  file: string,
  line: number,
  endLine: number,
): Promise<boolean> {
  const args = [
    'diff',
    '-U0',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    validateRevisionArg(from, 'from'),
    validateRevisionArg(to, 'to'),
    '--',
    file,
  ];
  const res = await git(args, { cwd: repoRoot, raw: true });
  return hunksTouch(parseOldHunks(res.stdout), line, endLine);
}
