/**
 * `ao-console` with no subcommand: the interactive dashboard, a client of the repo's engine.
 * It connects to the engine (starting one in the background when none runs: ensureEngine) and
 * draws what the engine sends; this process runs no pty and no terminal emulator. Quitting
 * leaves the lanes running in the engine.
 *
 * `ao-console --all`: the same dashboard over every running engine of the user (the registry,
 * lanes/engine/registry.ts, read again every 5 s for engines that started since), plus this
 * repo's (started when none runs) when run inside one: a MultiSupervisor, lanes grouped by
 * repo. `A` switches between the two views without leaving the alternate screen.
 * runMultiDashboard() is that view over any engines (`--remote NAME`: one remote's).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { currentBranch } from '../../lanes/git/repo.js';
import { NotARepoError, type RepoPaths } from '../../lanes/config/paths.js';
import type { RepoConfig } from '../../lanes/config/repoConfig.js';
import { listEngines, type EngineEntry } from '../../lanes/engine/registry.js';
import { EngineConnection, ProtocolMismatchError } from '../control/engineConnection.js';
import { EngineStartError, ensureEngine } from '../control/engineStart.js';
import { MultiSupervisor, type MemberSpec } from '../control/multiSupervisor.js';
import { findRemote, readRemotes, RemoteError } from '../control/remotes.js';
import { remoteMember } from '../control/ssh.js';
import { RemoteSupervisor } from '../control/remoteSupervisor.js';
import type { DashboardExit, EngineLink } from '../ui/runDashboard.js';
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

/** How often `--all` reads the engine registry again for engines that started since. */
export const REGISTRY_POLL_MS = 5000;

export const NO_ENGINES =
  'no engine runs: start one in a repo (`ao-console` there, or `ao-console serve --background`), ' +
  'then `ao-console --all` shows its lanes; run `ao-console --all` inside a repo to start its engine with it';

/** The form's profiles: the repo config's default first, else the first whose command is on PATH. */
async function profilesOf(root: string, config: RepoConfig | null) {
  const { loadProfiles } = await import('../../profiles/loader.js');
  const { profileChoices } = await import('../../profiles/availability.js');
  const choices = profileChoices(loadProfiles(root).profiles, { configured: config?.defaultProfile ?? null });
  const profiles = choices.defaultProfile
    ? [choices.defaultProfile, ...choices.names.filter((n) => n !== choices.defaultProfile)]
    : choices.names;
  return { profiles, profileChoices: { defaultProfile: choices.defaultProfile, missing: choices.missing } };
}

/** One repo's dashboard, until it ends (quit, bye, a switch to the other view). */
async function repoView(repo: RepoPaths, ui: Promise<UiModule>, viewSwitch?: 'all'): Promise<DashboardExit> {
  const { loadRepoConfig } = await import('../../lanes/config/repoConfig.js');
  // A bad config file is the engine's to report (it names the field): no configured default, no question.
  const config = await loadRepoConfig(repo.root).catch(() => null);
  const choices = await profilesOf(repo.root, config);
  const [baseBranch, remote, trust] = await Promise.all([
    baseBranchOf(repo.root, config),
    connectDashboard(repo),
    trustQuestion(repo.root, config),
  ]);
  try {
    const { runDashboard } = await ui;
    return await runDashboard({
      supervisor: remote,
      engine: engineLink(repo, remote),
      notes: remote.engineInfo.notes,
      ...choices,
      repoLabel: path.basename(repo.root),
      baseBranch,
      trust,
      viewSwitch,
    });
  } finally {
    remote.disconnect();
  }
}

/** `base`, `base-2`, `base-3`...: the first not in `taken` (a member's key names its group). */
export function uniqueKey(base: string, taken: ReadonlySet<string>): string {
  const clean = base.replace(/\//g, '-') || 'repo';
  if (!taken.has(clean)) return clean;
  for (let i = 2; ; i++) if (!taken.has(`${clean}-${i}`)) return `${clean}-${i}`;
}

/** A registry entry as a member: its socket, hello said as a dashboard. */
export function engineMember(entry: EngineEntry, key: string): MemberSpec {
  return {
    key,
    title: entry.repoRoot,
    remote: false,
    stateDir: entry.stateDir,
    connect: () => EngineConnection.connect(entry.stateDir, 'dashboard'),
  };
}

export interface MultiDashboardOptions {
  /** what the header names the view (default: `all engines`) */
  label?: string;
  /** the member whose repo the header's history, the notify settings and the profiles come from (default: the first) */
  home?: string;
  /** called every REGISTRY_POLL_MS: engines that started since, to add (`--all`) */
  discover?: (multi: MultiSupervisor) => void;
  /** the switch key (A) opens this repo's dashboard */
  viewSwitch?: 'repo';
  /** where the new-lane form's profiles are read (default: the built-in ones only) */
  profilesRoot?: string;
}

/** The dashboard over several engines, until it ends; the caller prints its message. */
async function multiView(
  members: readonly MemberSpec[],
  ui: Promise<UiModule>,
  opts: MultiDashboardOptions,
): Promise<DashboardExit> {
  const multi = await MultiSupervisor.open(members, { home: opts.home });
  const poll = opts.discover
    ? setInterval(() => {
        try {
          opts.discover?.(multi);
        } catch {
          // an unreadable registry now is tried again at the next poll
        }
      }, REGISTRY_POLL_MS)
    : null;
  poll?.unref();
  try {
    const root = opts.profilesRoot ?? multi.repoRoot;
    const { loadRepoConfig } = await import('../../lanes/config/repoConfig.js');
    const config = root ? await loadRepoConfig(root).catch(() => null) : null;
    const choices = await profilesOf(root || process.cwd(), config);
    const { runDashboard } = await ui;
    return await runDashboard({
      supervisor: multi,
      engine: multiLink(multi),
      ...choices,
      repoLabel: opts.label ?? 'all engines',
      // every repo has its own base: a lane starts from its engine's (repo config, else current branch)
      baseBranch: '',
      viewSwitch: opts.viewSwitch,
    });
  } finally {
    if (poll) clearInterval(poll);
    multi.disconnect();
  }
}

/**
 * The dashboard's side of several engines: each member reconnects on its own (with backoff), so
 * no engine-gone overlay; the quit dialog's second choice stops every connected engine.
 */
function multiLink(multi: MultiSupervisor): EngineLink {
  return {
    onLost: () => () => {},
    onChange: (l) => multi.onChange(l),
    async restart() {
      await Promise.all(multi.members().map((m) => multi.reconnectNow(m.key)));
      return [];
    },
    stopEngine: () => multi.stopEngines('a dashboard'),
    disconnect: () => multi.disconnect(),
  };
}

/** Prints the dashboard's last sentence on the normal screen and sets the exit code. */
function endDashboard(exit: DashboardExit): void {
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

/**
 * The dashboard over `members` (e.g. `--remote NAME`: one remote's engine): lanes grouped by
 * member, each reconnecting on its own. Needs a TTY (NOT_A_TTY); with no member at all, says so
 * and exits 1. Prints the last sentence and sets the exit code, as the dashboard does.
 */
export async function runMultiDashboard(members: MemberSpec[], opts: MultiDashboardOptions = {}): Promise<void> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw new CliError(NOT_A_TTY, EXIT.usage);
  if (members.length === 0) throw new CliError(NO_ENGINES, EXIT.failure);
  const ui = loadUi();
  let exit: DashboardExit;
  try {
    exit = await multiView(members, ui, opts);
  } finally {
    (await ui.catch(() => null))?.leaveHandedOverScreen();
    leaveSplash();
  }
  endDashboard(exit);
}

/** This repo, or null when `--all` runs outside any (and no --repo names one). */
async function repoIfAny(cmd: Command): Promise<RepoPaths | null> {
  try {
    return await repoOf(cmd);
  } catch (err) {
    if (err instanceof NotARepoError && cmd.optsWithGlobals<{ repo?: string }>().repo === undefined) return null;
    throw err;
  }
}

/**
 * `--all`'s members: this repo's engine (started when none runs) first, then every engine the
 * registry lists, one per state dir, keyed by repo basename made unique; and the discovery that
 * adds engines started since (or tries a stopped one again when it is back).
 */
function allEngines(repo: RepoPaths | null): {
  members: MemberSpec[];
  home?: string;
  discover: (multi: MultiSupervisor) => void;
} {
  const keys = new Map<string, string>(); // state dir -> key
  const members: MemberSpec[] = [];
  let home: string | undefined;
  if (repo) {
    home = uniqueKey(path.basename(repo.root), new Set());
    keys.set(path.resolve(repo.stateDir), home);
    let started = false;
    members.push({
      key: home,
      title: repo.root,
      remote: false,
      stateDir: repo.stateDir,
      // this repo's engine is started once, as its dashboard would; later attempts only connect
      connect: async () => {
        if (started) return EngineConnection.connect(repo.stateDir, 'dashboard');
        started = true;
        try {
          return (await ensureEngine(repo, { client: 'dashboard' })).conn;
        } catch (err) {
          started = false;
          throw err;
        }
      },
    });
  }
  const add = (entry: EngineEntry): MemberSpec | null => {
    const dir = path.resolve(entry.stateDir);
    if (keys.has(dir)) return null;
    const key = uniqueKey(path.basename(entry.repoRoot), new Set(keys.values()));
    keys.set(dir, key);
    return engineMember(entry, key);
  };
  for (const entry of listEngines()) {
    const spec = add(entry);
    if (spec) members.push(spec);
  }
  // every remote of the user too, named as added (`ao-console remote add`)
  let remotes;
  try {
    remotes = readRemotes();
  } catch (err) {
    if (err instanceof RemoteError) throw new CliError(err.message, EXIT.failure);
    throw err;
  }
  for (const remote of remotes) {
    const key = uniqueKey(remote.name, new Set(keys.values()));
    keys.set(`remote:${remote.name}`, key);
    members.push(remoteMember(remote, key));
  }
  const discover = (multi: MultiSupervisor): void => {
    const states = new Map(multi.members().map((m) => [m.key, m.state]));
    for (const entry of listEngines()) {
      const known = keys.get(path.resolve(entry.stateDir));
      if (known !== undefined) {
        // a stopped engine of a repo we show was started again
        if (states.get(known) === 'stopped') void multi.reconnectNow(known);
        continue;
      }
      const spec = add(entry);
      if (spec) void multi.addMember(spec).catch(() => {});
    }
  };
  return { members, home, discover };
}

export async function runDashboardCommand(cmd: Command): Promise<void> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw new CliError(NOT_A_TTY, EXIT.usage);
  const { remote: remoteName, all: allOpt } = cmd.optsWithGlobals<{ remote?: string; all?: boolean }>();
  if (remoteName !== undefined) {
    // one remote's engine, over ssh (docs/remotes.md): the multi view with that one member
    if (allOpt) throw new CliError('--remote and --all do not go together: --all shows every remote too', EXIT.usage);
    if (cmd.optsWithGlobals<{ repo?: string }>().repo !== undefined)
      throw new CliError("--remote and --repo do not go together: the remote's URL names its repo", EXIT.usage);
    let remote;
    try {
      remote = findRemote(remoteName);
    } catch (err) {
      if (err instanceof RemoteError) throw new CliError(err.message, EXIT.failure);
      throw err;
    }
    return runMultiDashboard([remoteMember(remote)], { label: `remote ${remote.name}` });
  }
  // Loading the UI (ink, react: most of the start-up time) overlaps with reaching the engine.
  const ui = loadUi();
  const all = cmd.optsWithGlobals<{ all?: boolean }>().all === true;
  const repo = all ? await repoIfAny(cmd) : await repoOf(cmd);
  let view: 'repo' | 'all' = all ? 'all' : 'repo';
  let exit: DashboardExit;
  try {
    for (;;) {
      if (view === 'repo' && repo) exit = await repoView(repo, ui, 'all');
      else {
        const { members, home, discover } = allEngines(repo);
        if (members.length === 0) throw new CliError(NO_ENGINES, EXIT.failure);
        exit = await multiView(members, ui, {
          home,
          discover,
          viewSwitch: repo ? 'repo' : undefined,
          profilesRoot: repo?.root,
        });
      }
      if (exit.cause !== 'switch-view') break;
      view = view === 'repo' ? 'all' : 'repo';
    }
  } finally {
    (await ui.catch(() => null))?.leaveHandedOverScreen();
    leaveSplash();
  }
  endDashboard(exit);
}
