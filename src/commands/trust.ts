/**
 * `ao-console trust [--json] [--yes]`: lists the commands the repo's config would run (the lane
 * setup command, each command gate, the notify hook) and whether the operator allowed this set
 * (lanes/trust/). `--yes` allows it without asking; on a terminal the command asks y/N; with no
 * terminal and no `--yes` an untrusted set only exits 1. Exit 0 when the set is allowed (or empty)
 * at the end, 1 when not.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { CliError, EXIT, printJson, println, repoOf } from './common.js';

interface TrustOptions {
  json?: boolean;
  yes?: boolean;
}

async function askYes(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

const STATUS_TEXT = {
  none: 'the repo config runs no command: nothing to allow',
  allowed: 'allowed',
  new: 'NOT allowed: never allowed for this repo',
  changed: 'NOT allowed: the commands changed since they were allowed',
  unreadable: 'NOT allowed: the trust file is damaged',
} as const;

export function registerTrust(program: Command): void {
  program
    .command('trust')
    .description(
      "list the commands the repo's .ao/config.json would run (setup, command gates, notify hook) and whether they are allowed; allow them (asks y/N on a terminal, --yes without asking); exit 1 while they are not allowed",
    )
    .option('--json', 'print what would run and the trust state as JSON (with --yes: after allowing)')
    .option('--yes', 'allow the current commands without asking (for scripts)')
    .action(async (opts: TrustOptions, cmd: Command) => {
      const repo = await repoOf(cmd);
      const { loadRepoConfig } = await import('../../lanes/config/repoConfig.js');
      const trust = await import('../../lanes/trust/trust.js');
      const config = await loadRepoConfig(repo.root); // a bad config: ConfigError, naming file and field
      let state = trust.checkTrust(repo.root, config);
      const allow = () => {
        try {
          state = trust.allowCommands(repo.root, config);
        } catch (err) {
          throw new CliError((err as Error).message);
        }
      };
      if (!state.trusted && opts.yes) allow();
      if (opts.json) {
        printJson({
          repo: state.repo,
          file: state.file,
          status: state.status,
          trusted: state.trusted,
          sha256: state.sha256,
          commands: state.commands,
          ...(state.previous ? { previous: state.previous } : {}),
          ...(state.error ? { error: state.error } : {}),
        });
        if (!state.trusted) process.exitCode = EXIT.failure;
        return;
      }
      println(`repo        ${state.repo}`);
      println(`trust file  ${state.file}`);
      if (state.commands.length) {
        println(`commands    (sha256 ${state.sha256.slice(0, 16)})`);
        for (const c of state.commands) println(`  ${trust.describeCommand(c)}`);
      }
      if (state.status === 'changed' && state.previous) {
        const before = new Set(state.previous.commands.map(trust.describeCommand));
        const now = new Set(state.commands.map(trust.describeCommand));
        for (const line of now) if (!before.has(line)) println(`  + ${line}`);
        for (const line of before) if (!now.has(line)) println(`  - ${line}`);
      }
      println(`status      ${STATUS_TEXT[state.status]}`);
      if (state.error) println(`            ${state.error}`);
      if (state.trusted) return;
      if (state.status === 'unreadable') {
        process.exitCode = EXIT.failure;
        return;
      }
      if (!process.stdin.isTTY || !process.stdout.isTTY) {
        println('\nrun `ao-console trust --yes` to allow these commands');
        process.exitCode = EXIT.failure;
        return;
      }
      println('\nThese commands run in lane worktrees (setup, gates) and in the repo (notify hook) with your rights.');
      if (!(await askYes('Allow them for this repo? [y/N] '))) {
        println('not allowed: the commands will not run');
        process.exitCode = EXIT.failure;
        return;
      }
      allow();
      println(`allowed (${state.file})`);
    });
}
