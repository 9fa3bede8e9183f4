/**
 * Every git command of the console. node:child_process and not execa: execa's module graph costs
 * ~150 ms to load on this machine, on the start-up path of every command and of the dashboard's
 * first frame (issue "cheaper per lane than tmux"); this is the little of it git needs.
 */
import { spawn } from 'node:child_process';

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
  const result = await run(args, opts);
  if (result.exitCode !== 0 && !opts.allowFail)
    throw new GitError(args, result.exitCode === -1 ? undefined : result.exitCode, result.stderr || result.message);
  return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
}

/** Output past this is cut and the call fails (a runaway git, not a real answer). */
const MAX_BUFFER = 256 * 1024 * 1024;

/** Runs git to its end: its output (decoded as UTF-8), its exit code (-1: killed or never started). */
function run(args: readonly string[], opts: GitOptions): Promise<GitResult & { message: string }> {
  return new Promise((resolve) => {
    const child = spawn('git', [...args], {
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...inheritedEnv(),
        LC_ALL: 'C',
        GIT_TERMINAL_PROMPT: '0',
        GIT_PAGER: 'cat',
        PAGER: 'cat',
        GIT_EDITOR: 'true',
        ...opts.env,
      },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let message = '';
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BUFFER) {
        message = `output over ${MAX_BUFFER} bytes`;
        child.kill('SIGKILL');
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.stdin.on('error', () => {}); // git may exit before reading its input (EPIPE)
    child.stdin.end(opts.input ?? '');
    let spawnError: Error | null = null;
    let done = false;
    const finish = (code: number | null): void => {
      if (done) return;
      done = true;
      const stdout = Buffer.concat(out).toString('utf8');
      resolve({
        stdout: opts.raw ? stdout : stripFinalNewline(stdout),
        stderr: stripFinalNewline(Buffer.concat(err).toString('utf8')),
        exitCode: spawnError || code === null ? -1 : code,
        message: spawnError ? `cannot run git: ${(spawnError as Error).message}` : message,
      });
    };
    child.on('error', (e) => {
      spawnError = e;
      // a git that never started has no streams to close
      if (child.pid === undefined) finish(null);
    });
    child.on('close', (code) => finish(code));
  });
}

function stripFinalNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
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
