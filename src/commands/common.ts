/**
 * What every subcommand shares: exit codes, the error that carries one, finding the repo from
 * the global `--repo`, and printing data as JSON.
 */
import type { Command } from 'commander';
import { resolveRepo, type RepoPaths } from '../../lanes/config/paths.js';

/** The exit codes of ao-console (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** the command ran and something failed (a check, an action the console refused) */
  failure: 1,
  /** the command line is wrong: unknown command or flag, bad or missing argument */
  usage: 2,
  /** `ctl`: no console is running for this repo */
  noConsole: 3,
  /** `ctl wait`: the timeout passed before the lane reached the state */
  timeout: 4,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  failure (a check failed, the console refused the action)
  2  usage error (unknown command or flag, bad or missing argument)
  3  no console is running for this repo (ctl)
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

/** The repo (from the global `--repo`, else the current directory) and its state dir. */
export function repoOf(cmd: Command): Promise<RepoPaths> {
  const { repo } = cmd.optsWithGlobals<{ repo?: string }>();
  return resolveRepo(repo ?? process.cwd());
}

export function printJson(data: unknown): void {
  process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
}

export function println(text = ''): void {
  process.stdout.write(`${text}\n`);
}
