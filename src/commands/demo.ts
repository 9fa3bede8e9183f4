/**
 * `ao-console demo`: the whole loop on a throwaway repo. Three demo-agent lanes start at once:
 * one passes its gates, one fails the secret scan and the test gate, one asks a permission
 * question to answer in attach mode. The repo is removed on exit unless --keep.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { resolveRepo } from '../../lanes/config/paths.js';
import { createDemoRepo, DEMO_LANES } from '../demo/project.js';
import { CliError, EXIT, println } from './common.js';
import { NOT_A_TTY } from './dashboard.js';
import { DEFAULT_COLS, DEFAULT_ROWS, startConsole } from './serve.js';

interface DemoOptions {
  keep?: boolean;
  speed: string;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('open the dashboard on a throwaway repo with three demo-agent lanes: the whole loop in a minute')
    .option('--keep', 'keep the demo repo after exit (its path is printed)')
    .option('--speed <factor>', 'demo agent delay factor: 1 = a few seconds per lane, 0 = no delays', '1')
    .action(async (opts: DemoOptions) => {
      if (!process.stdin.isTTY || !process.stdout.isTTY) throw new CliError(NOT_A_TTY, EXIT.usage);
      const speed = Number(opts.speed);
      if (!Number.isFinite(speed) || speed < 0 || speed > 100) {
        throw new CliError(`--speed must be a number from 0 to 100, got ${JSON.stringify(opts.speed)}`, EXIT.usage);
      }
      await runDemo({ keep: !!opts.keep, speed });
    });
}

async function runDemo(opts: { keep: boolean; speed: number }): Promise<void> {
  const ui = import('../ui/runDashboard.js');
  const root = await createDemoRepo();
  // The demo profile lets AO_DEMO_* through to the agent.
  process.env.AO_DEMO_SPEED = String(opts.speed);
  const trust = await import('../../lanes/trust/trust.js');
  try {
    const repo = await resolveRepo(root);
    // The demo wrote its own config (its test gate): allowing it is the operator's `ao-console demo`.
    const { loadRepoConfig } = await import('../../lanes/config/repoConfig.js');
    const config = await loadRepoConfig(repo.root);
    try {
      trust.allowCommands(repo.root, config);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    // The demo's engine runs in this process, under its dashboard: no idle exit.
    const running = await startConsole(repo, { cols: DEFAULT_COLS, rows: DEFAULT_ROWS, idleExitMinutes: 0 });
    try {
      for (const lane of DEMO_LANES)
        await running.supervisor.newLane({ name: lane.name, profile: 'demo', task: lane.task });
      const { loadProfiles } = await import('../../profiles/loader.js');
      const profiles = [...loadProfiles(root).profiles.keys()].sort();
      const { runDashboard } = await ui;
      await runDashboard({
        supervisor: running.supervisor,
        profiles,
        repoLabel: `${path.basename(root)} (demo)`,
        baseBranch: 'main',
      });
    } finally {
      await running.stop('demo over');
    }
  } finally {
    if (opts.keep) println(`demo repo kept at ${root}`);
    else {
      trust.forgetRepo(root);
      await rm(root, { recursive: true, force: true });
    }
  }
}
