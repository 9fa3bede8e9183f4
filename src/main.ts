/**
 * The command line (loaded by the bin entry src/cli.ts): parses it and hands over to
 * src/commands/*. No subcommand opens the dashboard. Exit codes are in src/commands/common.ts (EXIT) and docs/cli.md.
 * `runCommandLine` runs one command line in-process and returns its exit code (tests use it);
 * `main` is the binary's: it runs process.argv and sets the process's exit code.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option, type OutputConfiguration } from 'commander';
import { NotARepoError } from '../lanes/config/paths.js';
import { leaveSplash } from './splash.js';
import { CliError, EXIT, EXIT_CODES_HELP } from './commands/common.js';
import { registerCtl } from './commands/ctl.js';
import { runDashboardCommand } from './commands/dashboard.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerEngine } from './commands/engine.js';
import { registerEngines } from './commands/engines.js';
import { registerGc } from './commands/gc.js';
import { registerLanes } from './commands/lanes.js';
import { registerLearnings } from './commands/learnings.js';
import { registerProfiles } from './commands/profiles.js';
import { registerServe } from './commands/serve.js';
import { registerReplay } from './commands/replay.js';
import { registerExport } from './commands/export.js';
import { registerShow } from './commands/show.js';
import { registerQueue } from './commands/queue.js';
import { registerRemote } from './commands/remote.js';
import { checkClientProtocol, forwardToRemote } from './commands/forward.js';
import { registerTrust } from './commands/trust.js';

function packageVersion(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // not at this depth (dist/src/cli.js vs src/cli.ts)
    }
  }
  return 'unknown';
}

/**
 * The whole command line. `output` replaces where commander writes help, the version and usage
 * errors (and how wide help is); every subcommand inherits it.
 */
export function buildProgram(output: OutputConfiguration = {}, rawArgs: readonly string[] = []): Command {
  const program = new Command('ao-console')
    .description(
      'Operator console for coding agents: lanes in git worktrees, validation gates, approve or reject by keystroke.\nWith no command, opens the dashboard (needs a terminal).',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for the command')
    .helpCommand('help [command]', 'show help for a command')
    .option('--repo <dir>', 'the git repository to work in (default: the one containing the current directory)')
    .option(
      '--all',
      "the dashboard over every running engine of yours (this repo's too) and every remote, lanes grouped by repo",
    )
    .option(
      '--remote <name>',
      'work on a remote added with `ao-console remote add` (the dashboard, ctl, queue, lanes, sessions, show, engine, export, replay, learnings)',
    )
    // A command forwarded by `--remote` from another host carries its client's protocol (src/commands/forward.ts).
    .addOption(new Option('--client-protocol <n>').hideHelp())
    .addOption(new Option('--client-version <v>').hideHelp())
    // Usage errors throw instead of exiting, so main() can map them to exit code 2.
    .exitOverride()
    .configureOutput(output)
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `\nEnvironment:\n  AO_STATE_DIR  where the database, lane worktrees and control socket live\n                (default: <git common dir>/ao)\n${EXIT_CODES_HELP}\n\nSee docs/cli.md for every command, flag and exit code.`,
    );

  registerServe(program);
  registerEngine(program);
  registerEngines(program);
  registerCtl(program);
  registerQueue(program);
  registerLanes(program);
  registerShow(program);
  registerReplay(program);
  registerExport(program);
  registerProfiles(program);
  registerDoctor(program);
  registerTrust(program);
  registerGc(program);
  registerLearnings(program);
  registerDemo(program);
  registerRemote(program);

  // Before any action: a forwarded command checks its client's protocol; `--remote` runs the
  // command on the remote instead (the dashboard, the root action, opens the remote's view).
  program.hook('preAction', async (_root, actionCommand) => {
    const opts = actionCommand.optsWithGlobals<{ remote?: string; clientProtocol?: string; clientVersion?: string }>();
    checkClientProtocol(opts.clientProtocol, opts.clientVersion);
    if (opts.remote !== undefined && actionCommand !== program)
      await forwardToRemote(actionCommand, opts.remote, rawArgs);
  });

  // Set after the subcommands were added, so they keep refusing excess arguments; the root
  // checks its own (an unknown command) below, to say so instead of "too many arguments".
  program.allowExcessArguments(true).action(async (_opts: unknown, cmd: Command) => {
    if (cmd.args.length > 0) {
      const names = program.commands.map((c) => c.name()).join(', ');
      cmd.error(`error: unknown command '${cmd.args[0]}' (commands: ${names}; see ao-console --help)`, {
        exitCode: EXIT.usage,
        code: 'commander.unknownCommand',
      });
    }
    await runDashboardCommand(cmd);
  });
  return program;
}

export interface RunOptions {
  /** the bin entry already drew the dashboard's first frame (src/splash.ts) */
  splash?: boolean;
  /** where commander and the error line write (default: the process's stdout and stderr) */
  output?: OutputConfiguration;
}

/**
 * Parses and runs one command line (`args` without node and the script, e.g. `['ctl', 'status']`)
 * and returns its exit code. It never exits the process and leaves process.exitCode as it was.
 * The commands themselves print their results to process.stdout.
 */
export async function runCommandLine(args: readonly string[], opts: RunOptions = {}): Promise<number> {
  const writeErr = opts.output?.writeErr ?? ((text: string) => void process.stderr.write(text));
  // Some commands report a failure by setting process.exitCode (doctor, gc, profiles check).
  const outer = process.exitCode;
  process.exitCode = undefined;
  try {
    await buildProgram(opts.output, args).parseAsync([...args], { from: 'user' });
    return Number(process.exitCode ?? EXIT.ok);
  } catch (err) {
    // An error before the dashboard took over the screen must not vanish with the alternate screen.
    if (opts.splash) leaveSplash();
    if (err instanceof CommanderError) {
      // Commander has printed the message (or the help / version) already.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      // a forwarded command's own output said it all (RemoteExit has no message)
      if (err.message) writeErr(`ao-console: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof NotARepoError) {
      writeErr(`ao-console: ${err.message}\n`);
      return EXIT.failure;
    }
    writeErr(`ao-console: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.AO_DEBUG && err instanceof Error) writeErr(`${err.stack}\n`);
    return EXIT.failure;
  } finally {
    process.exitCode = outer;
  }
}

/** The binary: runs process.argv; `splash` says the bin entry already drew the dashboard's first frame. */
export async function main(opts: { splash?: boolean } = {}): Promise<void> {
  // `ao-console lanes | head`: a reader that went away is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
    // The terminal is gone (a closed window, a dropped SSH link): the lanes live in the engine.
    if (err.code === 'EIO') process.exit(process.exitCode ?? EXIT.ok);
    throw err;
  });
  process.exitCode = await runCommandLine(process.argv.slice(2), { splash: opts.splash });
}
