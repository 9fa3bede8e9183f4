/**
 * `--remote NAME` on a one-shot command: the same command line runs on the remote's host, in its
 * repo (src/control/ssh.ts runRemote), and its output and exit code come back as they are, so a
 * script drives remote lanes exactly like local ones. `export -o FILE` writes FILE here.
 *
 * The remote side checks the client's protocol first (`--client-protocol`, hidden): another
 * version is refused with the same clear error the socket gives.
 */
import { closeSync, createWriteStream, openSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { PROTOCOL_VERSION } from '../../lanes/control/protocol.js';
import { AO_CONSOLE_VERSION } from '../../lanes/engine/version.js';
import { findRemote, RemoteError } from '../control/remotes.js';
import { runRemote } from '../control/ssh.js';
import { CliError, EXIT } from './common.js';

/** The commands `--remote` runs on the remote (they talk to an engine or read its store). */
export const REMOTE_COMMANDS = ['ctl', 'queue', 'lanes', 'sessions', 'show', 'engine', 'export', 'replay', 'learnings'];

/** The command ended on the remote with this code; it printed what it had to say. */
export class RemoteExit extends CliError {
  constructor(exitCode: number) {
    super('', exitCode);
    this.name = 'RemoteExit';
  }
}

/** The first-level command of `cmd` (`engine` for `engine status`). */
function topCommand(cmd: Command): Command {
  let c = cmd;
  while (c.parent?.parent) c = c.parent;
  return c;
}

/** `args` without the `--remote NAME` (or `--remote=NAME`) commander read. */
export function withoutRemoteOption(args: readonly string[], name: string): string[] {
  const out = [...args];
  for (let i = 0; i < out.length; i++) {
    if (out[i] === `--remote=${name}`) {
      out.splice(i, 1);
      return out;
    }
    if (out[i] === '--remote' && out[i + 1] === name) {
      out.splice(i, 2);
      return out;
    }
  }
  return out;
}

/** `args` without `-o FILE` / `--output FILE` / `--output=FILE` / `-oFILE`. */
function withoutOutputOption(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-o' || a === '--output') i++;
    else if (a.startsWith('--output=') || (a.startsWith('-o') && a.length > 2 && !a.startsWith('--'))) continue;
    else out.push(a);
  }
  return out;
}

/** Writes the remote's stdout to `file` through a temp file: the file is whole or not there. */
async function runToFile(name: string, args: string[], file: string): Promise<number> {
  const remote = findRemote(name);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.part`);
  closeSync(openSync(tmp, 'w', 0o600));
  const out = createWriteStream(tmp, { mode: 0o600 });
  try {
    const code = await runRemote(remote, args, { stdout: out });
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (code === 0) renameSync(tmp, file);
    return code;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Runs `actionCommand` on the remote `name` from the raw command line `rawArgs`; throws
 * RemoteExit with the remote's exit code (0 included: the local action must not run).
 */
export async function forwardToRemote(
  actionCommand: Command,
  name: string,
  rawArgs: readonly string[],
): Promise<never> {
  const top = topCommand(actionCommand);
  if (!REMOTE_COMMANDS.includes(top.name()))
    throw new CliError(
      `--remote works with the dashboard and ${REMOTE_COMMANDS.join(', ')}; \`${top.name()}\` runs here only`,
      EXIT.usage,
    );
  if (actionCommand.optsWithGlobals<{ repo?: string }>().repo !== undefined)
    throw new CliError("--remote and --repo do not go together: the remote's URL names its repo", EXIT.usage);
  if (top.name() === 'engine' && actionCommand.opts<{ stdio?: boolean }>().stdio)
    throw new CliError('engine --stdio runs on the host itself; --remote does not apply', EXIT.usage);
  const args = withoutRemoteOption(rawArgs, name);
  try {
    const output = top.name() === 'export' ? actionCommand.opts<{ output?: string }>().output : undefined;
    const code = output
      ? await runToFile(name, withoutOutputOption(args), path.resolve(output))
      : await runRemote(findRemote(name), args);
    throw new RemoteExit(code);
  } catch (err) {
    if (err instanceof RemoteError) throw new CliError(err.message, EXIT.failure);
    throw err;
  }
}

/**
 * The remote side of a forwarded command: refuses a client of another protocol version with the
 * message that names both (the client's ao-console may be older or newer than this one).
 */
export function checkClientProtocol(protocol: string | undefined, version: string | undefined): void {
  if (protocol === undefined) return;
  if (Number(protocol) === PROTOCOL_VERSION) return;
  throw new CliError(
    `this host's ao-console speaks control protocol ${PROTOCOL_VERSION} (ao-console ${AO_CONSOLE_VERSION}), ` +
      `the client that sent this command speaks protocol ${protocol} (ao-console ${version ?? 'unknown'}): ` +
      'install one version of ao-console on both hosts',
    EXIT.failure,
  );
}
