/**
 * What a lane changed against its base, as git's diff machinery reports it: per-file line counts
 * (numstat), the paths touched, the added lines with their numbers, the full diff, emptiness.
 * Every range is `base...head`: what head changed since it forked from base. Outputs are parsed
 * here, so callers (gates, handoff, closure) get plain rows.
 */
import { git, GitError } from './git.js';
import { validateRevisionArg } from './refs.js';
import type { DiffStatEntry } from '../supervisor/api.js';

/** A diff stat row; binary files count as 0/0 with `binary` set; renames carry `oldPath`. */
export interface DiffStatRow extends DiffStatEntry {
  binary?: boolean;
  oldPath?: string;
}

/** A line the lane added, with its path and its line number in the new file. */
export interface AddedLine {
  path: string;
  line: number;
  text: string;
}

/** `base...head`: what head changed since it forked from base (neither may read as an option). */
function range(base: string, head: string): string {
  return `${validateRevisionArg(base, 'base')}...${validateRevisionArg(head, 'head')}`;
}

/** Parses `git diff --numstat -z` output. */
export function parseNumstatZ(out: string): DiffStatRow[] {
  const rows: DiffStatRow[] = [];
  const fields = out.split('\0');
  let i = 0;
  while (i < fields.length) {
    const rec = fields[i++];
    if (rec === '' || rec === '\n') continue;
    const m = /^\n?(-|\d+)\t(-|\d+)\t(.*)$/s.exec(rec);
    if (!m) continue;
    const binary = m[1] === '-' && m[2] === '-';
    const row: DiffStatRow = { path: m[3], added: binary ? 0 : Number(m[1]), deleted: binary ? 0 : Number(m[2]) };
    if (m[3] === '') {
      // a rename or copy: the old and the new path follow as their own fields
      row.oldPath = fields[i++];
      row.path = fields[i++];
    }
    if (binary) row.binary = true;
    rows.push(row);
  }
  return rows;
}

/** Per-file added/deleted line counts of `base...head`. */
export async function diffStat(repoRoot: string, base: string, head: string): Promise<DiffStatRow[]> {
  const out = await git(['diff', '--numstat', '-z', '-M', '--no-ext-diff', '--no-textconv', range(base, head), '--'], {
    cwd: repoRoot,
    raw: true,
  });
  return parseNumstatZ(out.stdout);
}

/** The full diff of `base...head`, git's own colour-free text. */
export async function fullDiff(repoRoot: string, base: string, head: string): Promise<string> {
  const out = await git(['diff', '--no-color', '--no-ext-diff', '--no-textconv', '-M', range(base, head), '--'], {
    cwd: repoRoot,
    raw: true,
  });
  return out.stdout;
}

/** True when head's tree is the same as at its merge-base with base (the lane changed nothing). */
export async function isEmptyAgainst(repoRoot: string, base: string, head: string): Promise<boolean> {
  const args = ['diff', '--quiet', '--no-ext-diff', '--no-textconv', range(base, head), '--'];
  const res = await git(args, { cwd: repoRoot, allowFail: true });
  if (res.exitCode === 0) return true;
  if (res.exitCode === 1) return false;
  throw new GitError(args, res.exitCode, res.stderr);
}

/** Paths added, changed, deleted or renamed (both names) in `base...head`. */
export async function changedPaths(repoRoot: string, base: string, head: string): Promise<string[]> {
  const out = await git(['diff', '--name-only', '-z', '--no-renames', range(base, head), '--'], {
    cwd: repoRoot,
    raw: true,
  });
  return out.stdout.split('\0').filter((p) => p !== '');
}

/** The lines `base...head` adds, each with its path and its line number in the new file. */
export async function diffAddedLines(repoRoot: string, base: string, head: string): Promise<AddedLine[]> {
  const args = [
    '-c',
    'core.quotePath=false',
    'diff',
    '--unified=0',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    '--src-prefix=a/',
    '--dst-prefix=b/',
    range(base, head),
    '--',
  ];
  const out = await git(args, { cwd: repoRoot, raw: true });
  return addedLines(out.stdout);
}

/** Undoes git's C-style quoting of a path (`"b/a\tb"`, octal escapes for non-ASCII bytes). */
export function unquoteGitPath(s: string): string {
  if (!s.startsWith('"') || !s.endsWith('"') || s.length < 2) return s;
  const body = s.slice(1, -1);
  const bytes: number[] = [];
  const simple: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = body[i + 1];
    if (/[0-7]/.test(next ?? '')) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? (next === undefined ? 92 : next.charCodeAt(0)));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function headerPath(rest: string): string | null {
  const p = unquoteGitPath(rest.replace(/\t$/, ''));
  if (p === '/dev/null') return null;
  return p.startsWith('b/') ? p.slice(2) : p;
}

/** The added lines of a `--unified=0` diff, each with its path and its line number in the new file. */
export function addedLines(diff: string): AddedLine[] {
  const out: AddedLine[] = [];
  let path: string | null = null;
  let oldLeft = 0;
  let newLeft = 0;
  let lineNo = 0;
  for (const line of diff.split('\n')) {
    if (oldLeft > 0 || newLeft > 0) {
      if (line.startsWith('+')) {
        if (path !== null) out.push({ path, line: lineNo, text: line.slice(1) });
        lineNo++;
        newLeft--;
      } else if (line.startsWith('-')) {
        oldLeft--;
      } else if (line.startsWith(' ')) {
        oldLeft--;
        newLeft--;
        lineNo++;
      }
      continue; // '\ No newline at end of file' and the like
    }
    if (line.startsWith('diff --git ')) {
      path = null;
    } else if (line.startsWith('+++ ')) {
      path = headerPath(line.slice(4));
    } else if (line.startsWith('@@')) {
      const m = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
      if (m) {
        oldLeft = m[1] === undefined ? 1 : Number(m[1]);
        lineNo = Number(m[2]);
        newLeft = m[3] === undefined ? 1 : Number(m[3]);
      }
    }
  }
  return out;
}
