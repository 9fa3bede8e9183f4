/**
 * The command line (loaded by the bin entry src/cli.ts): parses it and hands over to
 * src/commands/*. No subcommand opens the dashboard. Exit codes are in src/commands/common.ts (EXIT) and docs/cli.md.
 * `runCommandLine` runs one command line in-process and returns its exit code (tests use it);
 * `main` is the binary's: it runs process.argv and sets the process's exit code.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { Command, CommanderError, Option, type OutputConfiguration } from 'commander';
import { NotARepoError } from '../lanes/config/paths.js';
import { leaveSplash } from './splash.js';
import { CliError, EXIT, EXIT_CODES_HELP } from './commands/common.js';

type Register = (program: Command) => void;

/**
 * Each command's module, by the names it adds. A command line loads only the module of the
 * command it names (the dashboard: none of them): the others hold SQLite, the emulator, the
 * store and the doctor, ~5 MiB the engine and every dashboard would carry all day (issue
 * "Cheaper per lane than tmux"). Help, the version, `help` and an unknown name load them all.
 */
/** In the order `--help` lists them; a module named twice (lanes and sessions, learnings and learn) registers once. */
const COMMANDS: Record<string, () => Promise<Register>> = {
  serve: async () => (await import('./commands/serve.js')).registerServe,
  engine: async () => (await import('./commands/engine.js')).registerEngine,
  engines: async () => (await import('./commands/engines.js')).registerEngines,
  ctl: async () => (await import('./commands/ctl.js')).registerCtl,
  queue: async () => (await import('./commands/queue.js')).registerQueue,
  lanes: async () => (await import('./commands/lanes.js')).registerLanes,
  sessions: async () => (await import('./commands/lanes.js')).registerLanes,
  show: async () => (await import('./commands/show.js')).registerShow,
  replay: async () => (await import('./commands/replay.js')).registerReplay,
  export: async () => (await import('./commands/export.js')).registerExport,
  profiles: async () => (await import('./commands/profiles.js')).registerProfiles,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
  trust: async () => (await import('./commands/trust.js')).registerTrust,
  gc: async () => (await import('./commands/gc.js')).registerGc,
  learnings: async () => (await import('./commands/learnings.js')).registerLearnings,
  learn: async () => (await import('./commands/learnings.js')).registerLearnings,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  remote: async () => (await import('./commands/remote.js')).registerRemote,
};
/** The root's own options (help and the version aside): the program's, and what commandsNeeded skips. */
function rootOptions(): Option[] {
  return [
    new Option('--repo <dir>', 'the git repository to work in (default: the one containing the current directory)'),
    new Option(
      '--all',
      "the dashboard over every running engine of yours (this repo's too) and every remote, lanes grouped by repo",
    ),
    new Option(
      '--remote <name>',
      'work on a remote added with `ao-console remote add` (the dashboard, ctl, queue, lanes, sessions, show, engine, export, replay, learnings)',
    ),
    // A command forwarded by `--remote` from another host carries its client's protocol (src/commands/forward.ts).
    new Option('--client-protocol <n>').hideHelp(),
    new Option('--client-version <v>').hideHelp(),
  ];
}

/**
 * What a command line needs loaded: the command it names, none (the dashboard), or all of them
 * (help, the version, `help`, an unknown name or option: commander lists or suggests commands).
 */
export function commandsNeeded(args: readonly string[]): string[] {
  const root = new Map(rootOptions().map((o) => [o.long, o.required || o.optional]));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const takesValue = root.get(eq < 0 ? arg : arg.slice(0, eq));
    if (takesValue !== undefined) {
      if (takesValue && eq < 0) i++; // its value is the next argument
      continue;
    }
    if (arg.startsWith('-')) return Object.keys(COMMANDS);
    return arg in COMMANDS ? [arg] : Object.keys(COMMANDS);
  }
  return [];
}

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
export async function buildProgram(
  output: OutputConfiguration = {},
  rawArgs: readonly string[] = [],
): Promise<Command> {
  const program = new Command('ao-console')
    .description(
      'Operator console for coding agents: lanes in git worktrees, validation gates, approve or reject by keystroke.\nWith no command, opens the dashboard (needs a terminal).',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for the command')
    .helpCommand('help [command]', 'show help for a command');
  for (const option of rootOptions()) program.addOption(option);
  program
    // Usage errors throw instead of exiting, so main() can map them to exit code 2.
    .exitOverride()
    .configureOutput(output)
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `\nEnvironment:\n  AO_STATE_DIR  where the database, lane worktrees and control socket live\n                (default: <git common dir>/ao)\n${EXIT_CODES_HELP}\n\nSee docs/cli.md for every command, flag and exit code.`,
    );

  const loaded = new Set<Register>();
  for (const name of commandsNeeded(rawArgs)) {
    const register = await COMMANDS[name]();
    if (loaded.has(register)) continue;
    loaded.add(register);
    register(program);
  }

  // Before any action: a forwarded command checks its client's protocol; `--remote` runs the
  // command on the remote instead (the dashboard, the root action, opens the remote's view).
  program.hook('preAction', async (_root, actionCommand) => {
    const opts = actionCommand.optsWithGlobals<{ remote?: string; clientProtocol?: string; clientVersion?: string }>();
    const { checkClientProtocol, forwardToRemote } = await import('./commands/forward.js');
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
    const { runDashboardCommand } = await import('./commands/dashboard.js');
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
    await (await buildProgram(opts.output, args)).parseAsync([...args], { from: 'user' });
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

/**
 * The dashboard's young generation stays at its first size (two 1 MiB semi-spaces) instead of
 * growing to 16 MiB ones: ~20 MiB less RSS all day, at the same CPU now that a frame leaves little
 * garbage (docs/performance.md). `--max-semi-space-size` only works on node's command line, which
 * the bin's shebang cannot portably carry; the growth factor V8 reads each time it would grow.
 * Its old generation may grow to 1.2x what a full collection left (V8 reads that at each one):
 * 4-5 MiB less RSS at the same CPU. `--optimize-for-size` cut 8 MiB here but cost the dashboard
 * a fifth more CPU.
 */
function keepYoungGenerationSmall(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--heap-growing-percent=20');
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
  const args = process.argv.slice(2);
  if (commandsNeeded(args).length === 0) keepYoungGenerationSmall();
  process.exitCode = await runCommandLine(args, { splash: opts.splash });
}
