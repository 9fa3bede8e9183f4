/**
 * `ao-console` with no subcommand: the interactive dashboard, a client of the repo's engine.
 * It connects to the engine (starting one in the background when none runs: ensureEngine) and
 * draws what the engine sends; this process runs no pty and no terminal emulator. Quitting
 * leaves the lanes running in the engine.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { currentBranch } from '../../lanes/git/repo.js';
import type { RepoPaths } from '../../lanes/config/paths.js';
import type { RepoConfig } from '../../lanes/config/repoConfig.js';
import { ProtocolMismatchError } from '../control/engineConnection.js';
import { EngineStartError, ensureEngine } from '../control/engineStart.js';
import { RemoteSupervisor } from '../control/remoteSupervisor.js';
import type { EngineLink } from '../ui/runDashboard.js';
import { leaveSplash } from '../splash.js';
import { CliError, EXIT, repoOf } from './common.js';

export const NOT_A_TTY =
  'the dashboard needs an interactive terminal (stdin and stdout must be a TTY). ' +
  'Without one, use `ao-console serve` to run the engine in the foreground, `ao-console ctl <verb>` to drive it, ' +
  '`ao-console engine status` to see it, and `ao-console lanes` to read what happened.';

/** The base branch new lanes start from: the repo config's, else the current branch. */
async function baseBranchOf(repoRoot: string, config: RepoConfig | null): Promise<string> {
  if (config?.baseBranch) return config.baseBranch;
  return (await currentBranch(repoRoot)) ?? 'HEAD';
}

/**
 * The question the dashboard opens with when the repo config's commands (setup, command gates,
 * the notify hook) are not allowed yet or changed since (lanes/trust); null when there is none to ask.
 */
export async function trustQuestion(
  repoRoot: string,
  config: RepoConfig | null,
): Promise<{ message: string; allow: () => string } | null> {
  if (!config) return null;
  const { allowCommands, checkTrust, describeCommand } = await import('../../lanes/trust/trust.js');
  const state = checkTrust(repoRoot, config);
  if (state.trusted || (state.status !== 'new' && state.status !== 'changed')) return null;
  const n = state.commands.length;
  const head =
    state.status === 'changed'
      ? `The commands in .ao/config.json changed since you allowed them (${state.previous?.allowedAt ?? 'earlier'}). It now asks to run:`
      : `.ao/config.json asks to run ${n === 1 ? 'this command' : `these ${n} commands`} in this repo (lane setup, gates, the notify hook):`;
  const message = [
    head,
    ...state.commands.map((c) => `  ${describeCommand(c)}`),
    '',
    `They run only once you allow them (recorded in ${state.file}; \`ao-console trust\` shows them again).`,
  ].join('\n');
  return {
    message,
    allow: () => {
      allowCommands(repoRoot, config);
      return `allowed ${n} command${n === 1 ? '' : 's'} of .ao/config.json`;
    },
  };
}

/** Connects to the repo's engine (starting it when none runs) as a dashboard; errors as CliErrors. */
export async function connectDashboard(repo: RepoPaths): Promise<RemoteSupervisor> {
  try {
    const { conn } = await ensureEngine(repo, { client: 'dashboard' });
    try {
      return await RemoteSupervisor.open(conn);
    } catch (err) {
      conn.close();
      throw err;
    }
  } catch (err) {
    if (err instanceof ProtocolMismatchError || err instanceof EngineStartError)
      throw new CliError(err.message, EXIT.failure);
    throw err;
  }
}

/** The dashboard's side of its engine: the remote supervisor plus starting the engine again. */
export function engineLink(repo: RepoPaths, remote: RemoteSupervisor): EngineLink {
  return {
    onLost: (l) => remote.onLost(l),
    onChange: (l) => remote.onChange(l),
    async restart() {
      const { conn } = await ensureEngine(repo, { client: 'dashboard' });
      await remote.reconnect(conn);
      return remote.engineInfo.notes ?? [];
    },
    stopEngine: () => remote.stopEngine('a dashboard'),
    disconnect: () => remote.disconnect(),
  };
}

type UiModule = typeof import('../ui/runDashboard.js');

/**
 * The dashboard's UI: the one-file bundle the build makes of it (scripts/bundleUi.mjs: Ink, React
 * and the components in one module load instead of ~900), else its modules as tsc wrote them.
 */
async function loadUi(): Promise<UiModule> {
  const bundle = new URL('../ui/dashboard.bundle.js', import.meta.url);
  if (process.env.AO_NO_UI_BUNDLE !== '1' && existsSync(bundle)) return (await import(bundle.href)) as UiModule;
  return import('../ui/runDashboard.js');
}

export async function runDashboardCommand(cmd: Command): Promise<void> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw new CliError(NOT_A_TTY, EXIT.usage);
  // Loading the UI (ink, react: most of the start-up time) overlaps with reaching the engine.
  const ui = loadUi();
  const repo = await repoOf(cmd);
  const { loadProfiles } = await import('../../profiles/loader.js');
  const { profileChoices } = await import('../../profiles/availability.js');
  const { loadRepoConfig } = await import('../../lanes/config/repoConfig.js');
  // A bad config file is the engine's to report (it names the field): no configured default, no question.
  const config = await loadRepoConfig(repo.root).catch(() => null);
  // the new-lane form starts on the first profile: the configured default, else the first whose command is on PATH
  const choices = profileChoices(loadProfiles(repo.root).profiles, { configured: config?.defaultProfile ?? null });
  const profiles = choices.defaultProfile
    ? [choices.defaultProfile, ...choices.names.filter((n) => n !== choices.defaultProfile)]
    : choices.names;
  const [baseBranch, remote, trust] = await Promise.all([
    baseBranchOf(repo.root, config),
    connectDashboard(repo),
    trustQuestion(repo.root, config),
  ]);
  let exit;
  try {
    const { runDashboard } = await ui;
    exit = await runDashboard({
      supervisor: remote,
      engine: engineLink(repo, remote),
      notes: remote.engineInfo.notes,
      profiles,
      profileChoices: { defaultProfile: choices.defaultProfile, missing: choices.missing },
      repoLabel: path.basename(repo.root),
      baseBranch,
      trust,
    });
  } finally {
    remote.disconnect();
    leaveSplash();
  }
  if (exit.message && exit.cause !== 'sighup' && exit.cause !== 'tty-lost') {
    try {
      process.stdout.write(`${exit.message}\n`);
    } catch {
      // the terminal is gone
    }
  }
  process.exitCode = exit.exitCode;
  // The terminal is gone (or the engine): nothing is left to wait for; lanes live in the engine.
  if (exit.cause === 'sighup' || exit.cause === 'tty-lost' || exit.cause === 'bye') {
    setTimeout(() => process.exit(exit.exitCode), 300).unref();
  }
}
