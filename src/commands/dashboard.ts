/**
 * `ao-console` with no subcommand: the interactive dashboard, with the engine and the control
 * socket running alongside (so `ctl` works against it too).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { currentBranch } from '../../lanes/git/repo.js';
import { CliError, EXIT, repoOf } from './common.js';
import { DEFAULT_COLS, DEFAULT_ROWS, startConsole } from './serve.js';

export const NOT_A_TTY =
  'the dashboard needs an interactive terminal (stdin and stdout must be a TTY). ' +
  'Without one, use `ao-console serve` to run the console headless, `ao-console ctl <verb>` to drive it, ' +
  'and `ao-console lanes` to read what happened.';

/** The base branch new lanes start from: the repo config's, else the current branch. */
async function baseBranchOf(repoRoot: string): Promise<string> {
  const { loadRepoConfig } = await import('../../lanes/config/repoConfig.js');
  const config = await loadRepoConfig(repoRoot);
  if (config.baseBranch) return config.baseBranch;
  return (await currentBranch(repoRoot)) ?? 'HEAD';
}

export async function runDashboardCommand(cmd: Command): Promise<void> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw new CliError(NOT_A_TTY, EXIT.usage);
  // Loading the UI (ink, react: most of the start-up time) overlaps with starting the engine.
  const ui = import('../ui/runDashboard.js');
  const repo = await repoOf(cmd);
  const { loadProfiles } = await import('../../profiles/loader.js');
  const profiles = [...loadProfiles(repo.root).profiles.keys()].sort();
  const baseBranch = await baseBranchOf(repo.root);
  const running = await startConsole(repo, { cols: DEFAULT_COLS, rows: DEFAULT_ROWS });
  try {
    const { runDashboard } = await ui;
    await runDashboard({ supervisor: running.supervisor, profiles, repoLabel: path.basename(repo.root), baseBranch });
  } finally {
    await running.stop('operator quit');
  }
}
