import { execa } from 'execa';

/** A git command that failed: names the arguments and carries git's own message. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(
      `git ${args.join(' ')} failed${exitCode === undefined ? '' : ` (exit ${exitCode})`}: ${stderr.trim() || 'no message'}`,
    );
    this.name = 'GitError';
  }
}

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface GitOptions {
  cwd: string;
  /** Extra environment for this call (merged over a minimal safe one). */
  env?: Record<string, string>;
  /** Text written to git's stdin. */
  input?: string;
  /** Return the result instead of throwing when git exits non-zero. */
  allowFail?: boolean;
  /** Keep trailing whitespace of stdout (e.g. for diffs). */
  raw?: boolean;
}

/**
 * Runs git with an argv array, never through a shell. Callers put `--` before refs and paths.
 * Locale is pinned to C so messages can be matched; prompts and pagers are disabled.
 */
export async function git(args: readonly string[], opts: GitOptions): Promise<GitResult> {
  const result = await execa('git', args, {
    cwd: opts.cwd,
    input: opts.input,
    reject: false,
    stripFinalNewline: !opts.raw,
    extendEnv: false,
    env: {
      ...inheritedEnv(),
      LC_ALL: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_PAGER: 'cat',
      PAGER: 'cat',
      GIT_EDITOR: 'true',
      ...opts.env,
    },
    maxBuffer: 256 * 1024 * 1024,
  });
  const out: GitResult = {
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    exitCode: result.exitCode ?? -1,
  };
  if (out.exitCode !== 0 && !opts.allowFail)
    throw new GitError(args, result.exitCode, out.stderr || result.message || '');
  return out;
}

/**
 * The console's environment minus the variables that would point git at another repository
 * (set when the console itself runs inside a git hook): every call names its repo by cwd.
 */
function inheritedEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || REPO_VARS.has(k)) continue;
    out[k] = v;
  }
  return out;
}

const REPO_VARS = new Set([
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_PREFIX',
]);

/** The stdout of a git command that must succeed. */
export async function gitOut(args: readonly string[], cwd: string): Promise<string> {
  return (await git(args, { cwd })).stdout;
}
