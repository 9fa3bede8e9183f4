/**
 * What every subcommand shares: exit codes, the error that carries one, finding the repo from
 * the global `--repo`, and printing data as JSON.
 */
import type { Command } from 'commander';
import { resolveRepo, type RepoPaths } from '../../lanes/config/paths.js';
import { bareRepoAt, laneReadiness } from '../../lanes/git/repo.js';

/** The exit codes of ao-console (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** the command ran and something failed (a check, an action the console refused) */
  failure: 1,
  /** the command line is wrong: unknown command or flag, bad or missing argument */
  usage: 2,
  /** `ctl`, `engine status|stop`: no engine runs for this repo */
  noConsole: 3,
  /** `ctl wait`: the timeout passed before the lane reached the state */
  timeout: 4,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  failure (a check failed, the console refused the action)
  2  usage error (unknown command or flag, bad or missing argument)
  3  no engine runs for this repo (ctl, engine status, engine stop)
  4  wait timed out (ctl wait)`;

/** An error the CLI prints as "ao-console: <message>" and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Commands that start the engine, and so lanes: the dashboard (the program itself), `serve`, `engine`. */
function startsLanes(cmd: Command): boolean {
  return !cmd.parent || (cmd.parent.parent === null && ['serve', 'engine'].includes(cmd.name()));
}

/**
 * The repo (from the global `--repo`, else the current directory) and its state dir. A bare
 * repository is refused with what to do instead; for the commands that start lanes, so is a
 * repo lanes cannot start in (no commits, no branch to be the base: lanes/git/repo.ts
 * laneReadiness), each in one sentence with the next step instead of a git error later.
 */
export async function repoOf(cmd: Command): Promise<RepoPaths> {
  const { repo } = cmd.optsWithGlobals<{ repo?: string }>();
  const dir = repo ?? process.cwd();
  let paths: RepoPaths;
  try {
    paths = await resolveRepo(dir);
  } catch (err) {
    const bare = await bareRepoAt(dir).catch(() => null);
    if (bare)
      throw new CliError(
        `${bare} is a bare repository: it has no working tree for lanes to branch from and merge into; ` +
          `clone it (\`git clone ${bare} <dir>\`) and run ao-console in the clone.`,
      );
    throw err;
  }
  if (startsLanes(cmd)) {
    let baseBranch: string | undefined;
    try {
      // imported when needed, as the dashboard does: zod is not on every command's start-up path
      const { loadRepoConfig } = await import('../../lanes/config/repoConfig.js');
      baseBranch = (await loadRepoConfig(paths.root)).baseBranch;
    } catch {
      return paths; // an invalid config is reported by the command itself, naming the file and field
    }
    const problem = await laneReadiness(paths.root, { baseBranch });
    if (problem) throw new CliError(problem.message);
  }
  return paths;
}

export function printJson(data: unknown): void {
  process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
}

export function println(text = ''): void {
  process.stdout.write(`${text}\n`);
}
