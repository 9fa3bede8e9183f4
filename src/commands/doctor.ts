/**
 * `ao-console doctor`: checks what the console needs and says how to fix each problem.
 * Exits 1 when any check fails; a warning (the engine dies at logout, ...) does not fail it,
 * and neither does an engine that is not running (that is normal).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { dbFile, lockFile, type RepoPaths } from '../../lanes/config/paths.js';
import { ownerAlive, readLock } from '../../lanes/control/lock.js';
import type { EngineStatusData } from '../../lanes/control/protocol.js';
import { engineLogPath } from '../../lanes/engine/log.js';
import { NoConsoleError, resolveSocketPath } from '../control/client.js';
import { EngineConnection, ProtocolMismatchError } from '../control/engineConnection.js';
import { formatAge } from '../format/table.js';
import { EXIT, printJson, println, repoOf } from './common.js';
import { checkDatabase, repairDatabaseStep, type RepairStep } from './doctorDatabase.js';
import { checkMerges, repairMergesStep } from './doctorMerge.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** how to fix it, when not ok (or what to do about a warning) */
  fix?: string;
  /** ok, but worth knowing (printed as `warn`; the exit code stays 0) */
  warn?: boolean;
}

export const MIN_GIT = [2, 38] as const;

/** `git version 2.39.5` → [2, 39, 5]; null when unparsable. */
export function parseGitVersion(out: string): number[] | null {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(out);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

async function checkGit(): Promise<Check> {
  const { gitVersion } = await import('../../lanes/git/repo.js');
  const res = await gitVersion().catch((err: Error) => ({ error: err.message }));
  const v = 'version' in res ? parseGitVersion(res.version) : null;
  if (!v)
    return {
      name: 'git',
      ok: false,
      detail: `git not usable: ${('error' in res && res.error) || 'no version'}`,
      fix: `install git ${MIN_GIT.join('.')} or newer`,
    };
  const ok = v[0] > MIN_GIT[0] || (v[0] === MIN_GIT[0] && v[1] >= MIN_GIT[1]);
  return {
    name: 'git',
    ok,
    detail: `git ${v.join('.')}${ok ? '' : ` is older than ${MIN_GIT.join('.')} (needed for merge-tree --write-tree)`}`,
    ...(ok ? {} : { fix: `install git ${MIN_GIT.join('.')} or newer` }),
  };
}

const REBUILD =
  'run `npm rebuild better-sqlite3 node-pty` in the ao-console install (needs a C++ toolchain and python3)';

async function checkSqlite(): Promise<Check> {
  try {
    const { sqliteVersion } = await import('../../lanes/store/open.js');
    const version = sqliteVersion();
    return { name: 'better-sqlite3', ok: true, detail: `loads (SQLite ${version})` };
  } catch (err) {
    return { name: 'better-sqlite3', ok: false, detail: `does not load: ${(err as Error).message}`, fix: REBUILD };
  }
}

async function checkPty(): Promise<Check> {
  try {
    const pty = await import('node-pty');
    const code = await new Promise<number>((resolve, reject) => {
      const p = pty.spawn('/bin/sh', ['-c', 'exit 7'], {
        cols: 80,
        rows: 24,
        cwd: process.cwd(),
        env: { PATH: process.env.PATH ?? '' },
      });
      const timer = setTimeout(() => {
        p.kill();
        reject(new Error('a shell in a pty did not exit within 5s'));
      }, 5000);
      p.onExit(({ exitCode }) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    if (code !== 7) throw new Error(`a shell in a pty exited ${code}, expected 7`);
    return { name: 'node-pty', ok: true, detail: 'loads and runs a process in a pty' };
  } catch (err) {
    return { name: 'node-pty', ok: false, detail: `does not work: ${(err as Error).message}`, fix: REBUILD };
  }
}

function checkPermissions(stateDir: string): Check[] {
  if (!existsSync(stateDir))
    return [{ name: 'state dir', ok: true, detail: `${stateDir} not created yet (the first console creates it 0700)` }];
  const checks: Check[] = [];
  const mode = statSync(stateDir).mode & 0o777;
  checks.push(
    mode === 0o700
      ? { name: 'state dir', ok: true, detail: `${stateDir} is 0700` }
      : {
          name: 'state dir',
          ok: false,
          detail: `${stateDir} is 0${mode.toString(8)}, others can read it`,
          fix: `chmod 700 '${stateDir}'`,
        },
  );
  const db = dbFile(stateDir);
  for (const f of [db, `${db}-wal`, `${db}-shm`]) {
    if (!existsSync(f)) continue;
    const m = statSync(f).mode & 0o777;
    if (m !== 0o600)
      checks.push({ name: 'database file', ok: false, detail: `${f} is 0${m.toString(8)}`, fix: `chmod 600 '${f}'` });
  }
  if (existsSync(db) && checks.length === 1)
    checks.push({ name: 'database file', ok: true, detail: `${path.basename(db)} is 0600` });
  return checks;
}

/** The names of the store's open lanes (none without a readable store). */
async function openLanesOf(repo: RepoPaths): Promise<string[]> {
  const file = dbFile(repo.stateDir);
  if (!existsSync(file)) return [];
  try {
    const [{ openReplayDb }, { openLaneNames }] = await Promise.all([
      import('../../lanes/recording/reader.js'),
      import('../../lanes/store/lanes.js'),
    ]);
    const db = openReplayDb(file);
    try {
      return openLaneNames(db);
    } finally {
      db.close();
    }
  } catch {
    return []; // the database check says what is wrong with it
  }
}

async function checkWorktrees(repo: RepoPaths): Promise<Check> {
  try {
    const { listLaneWorktrees } = await import('../../lanes/git/worktree.js');
    const stale = (await listLaneWorktrees(repo.root, repo.stateDir)).filter((w) => w.missing);
    if (stale.length === 0) return { name: 'worktrees', ok: true, detail: 'no stale lane worktrees' };
    // A lane still open (interrupted, stopped, ...) owns its worktree: gc leaves it; removing the lane frees it.
    const open = new Set(await openLanesOf(repo));
    const owned = stale.filter((w) => open.has(w.lane));
    const fixes = [
      ...(owned.length
        ? [
            `remove the lane${owned.length === 1 ? '' : 's'} whose worktree is gone (X in the dashboard, or ${owned.map((w) => `\`ao-console ctl remove ${w.lane}\``).join(', ')} with the engine running; its commits are kept)`,
          ]
        : []),
      'run `ao-console gc`',
    ];
    return {
      name: 'worktrees',
      ok: false,
      detail: `${stale.length} lane worktree(s) registered but gone: ${stale.map((w) => `${w.path}${open.has(w.lane) ? ` (lane ${w.lane} is still open)` : ''}`).join(', ')}`,
      fix: fixes.join(', then '),
    };
  } catch (err) {
    return {
      name: 'worktrees',
      ok: false,
      detail: `cannot list worktrees: ${(err as Error).message}`,
      fix: 'run `git worktree list` in the repo to see what git reports',
    };
  }
}

async function checkProfiles(repoRoot: string): Promise<Check> {
  try {
    const { loadProfiles, formatProfileLoadError } = await import('../../profiles/loader.js');
    const { profiles, errors } = loadProfiles(repoRoot);
    if (errors.length === 0) return { name: 'profiles', ok: true, detail: `${profiles.size} valid profile(s)` };
    return {
      name: 'profiles',
      ok: false,
      detail: `${errors.length} problem(s): ${errors.map(formatProfileLoadError).join('; ')}`,
      fix: 'correct or remove the named file(s); `ao-console profiles check` shows every problem',
    };
  } catch (err) {
    return {
      name: 'profiles',
      ok: false,
      detail: (err as Error).message,
      fix: 'reinstall ao-console (the built-in profiles are missing)',
    };
  }
}

async function checkConfig(repoRoot: string): Promise<Check> {
  try {
    const { loadRepoConfig } = await import('../../lanes/config/repoConfig.js');
    await loadRepoConfig(repoRoot);
    return {
      name: 'repo config',
      ok: true,
      detail: existsSync(path.join(repoRoot, '.ao', 'config.json'))
        ? '.ao/config.json is valid'
        : 'no .ao/config.json (defaults)',
    };
  } catch (err) {
    return {
      name: 'repo config',
      ok: false,
      detail: (err as Error).message,
      fix: 'correct .ao/config.json (see docs/config.md)',
    };
  }
}

/** Whether the repo config's commands are allowed (lanes/trust/): a warning when not, never a failure. */
async function checkCommandTrust(repoRoot: string): Promise<Check | null> {
  const { loadRepoConfig } = await import('../../lanes/config/repoConfig.js');
  const config = await loadRepoConfig(repoRoot).catch(() => null);
  if (!config) return null; // the config check says why
  const { checkTrust, untrustedReason } = await import('../../lanes/trust/trust.js');
  const state = checkTrust(repoRoot, config);
  const n = `${state.commands.length} command${state.commands.length === 1 ? '' : 's'}`;
  if (state.trusted)
    return {
      name: 'trust',
      ok: true,
      detail: state.status === 'none' ? 'the repo config runs no command' : `the repo config's ${n} are allowed`,
    };
  return {
    name: 'trust',
    ok: true,
    warn: true,
    detail: `${untrustedReason(state)}; until then setup and command gates fail and the notify hook is skipped`,
    fix: 'review them with `ao-console trust` and allow them there',
  };
}

// ---------------------------------------------------------------- the engine

/** How long doctor waits for the engine to answer (connect, hello, engine-status). */
const ENGINE_ANSWER_MS = 5000;

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Lanes by state as "1 running, 2 merged" (none: "no lanes"). */
function lanesByState(lanes: EngineStatusData['lanes']): string {
  const parts = Object.entries(lanes)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([state, n]) => `${n} ${state}`);
  return parts.length ? parts.join(', ') : 'no lanes';
}

/** One line about a running engine, from its engine-status answer (`clients` counts doctor too). */
export function describeEngine(s: EngineStatusData, now = Date.now()): string {
  const others = Math.max(0, s.clients - 1);
  const idle = s.idleExitMinutes > 0 ? `exits after ${s.idleExitMinutes} min idle` : 'never exits when idle';
  return (
    `running (pid ${s.pid}, ao-console ${s.version}, protocol ${s.protocol}, ${s.mode}), up ${formatAge(s.startedAt, now) || '0s'}; ` +
    `${others} client${others === 1 ? '' : 's'} besides doctor; ${s.alive} lane${s.alive === 1 ? '' : 's'} with a running agent ` +
    `(${lanesByState(s.lanes)}); ${idle}`
  );
}

type Answer<T> = { value: T } | { error: unknown } | { timeout: true };

/** Waits for `p` at most `ms`; a value that comes later is handed to `late` (to close it). */
function within<T>(p: Promise<T>, ms: number, late: (value: T) => void): Promise<Answer<T>> {
  return new Promise((resolve) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      resolve({ timeout: true });
    }, ms);
    p.then(
      (value) => {
        if (done) return late(value);
        clearTimeout(timer);
        resolve({ value });
      },
      (error: unknown) => {
        if (done) return;
        clearTimeout(timer);
        resolve({ error });
      },
    );
  });
}

/**
 * Is an engine running for the repo: asks it for engine-status over the control socket. No
 * engine is fine (a dashboard or `engine start` starts one); one that does not answer, or speaks
 * another protocol, is a problem.
 */
export async function checkEngine(stateDir: string, timeoutMs = ENGINE_ANSWER_MS): Promise<Check> {
  const holder = readLock(lockFile(stateDir));
  const pidNote = holder && ownerAlive(holder) ? ` (pid ${holder.pid} holds the engine lock)` : '';
  const kill = holder && ownerAlive(holder) ? `\`kill -TERM ${holder.pid}\` stops its lanes cleanly and ends it` : '';
  const fix = `see \`ao-console engine logs\`${kill ? `; ${kill}` : ''}`;
  const opened = await within(EngineConnection.open(resolveSocketPath(stateDir)), timeoutMs, (c) => c.close());
  if ('error' in opened && opened.error instanceof NoConsoleError) {
    if (pidNote)
      return {
        name: 'engine',
        ok: true,
        warn: true,
        detail: `nothing listens on ${opened.error.socketPath}, but an engine process${pidNote}: it is starting, or stuck`,
        fix: `see \`ao-console engine logs\`; when it stays so, ${kill}`,
      };
    return {
      name: 'engine',
      ok: true,
      detail: 'none runs for this repo (normal: `ao-console` or `ao-console engine start` starts one)',
    };
  }
  if (!('value' in opened)) return engineProblem(opened, timeoutMs, pidNote, fix);
  const conn = opened.value;
  try {
    const hello = await within(conn.hello('doctor'), timeoutMs, () => {});
    if ('error' in hello && hello.error instanceof ProtocolMismatchError)
      return {
        name: 'engine',
        ok: false,
        detail: hello.error.message,
        fix: kill
          ? `stop it with the ao-console that started it, or ${kill}`
          : 'stop it with the ao-console that started it',
      };
    if (!('value' in hello)) return engineProblem(hello, timeoutMs, pidNote, fix);
    const status = await within(conn.request<EngineStatusData>('engine-status'), timeoutMs, () => {});
    if (!('value' in status)) return engineProblem(status, timeoutMs, pidNote, fix);
    return { name: 'engine', ok: true, detail: describeEngine(status.value) };
  } finally {
    conn.close();
  }
}

/** The engine check failed: it did not answer in time, or the connection broke. */
function engineProblem(
  answer: { error: unknown } | { timeout: true },
  timeoutMs: number,
  pidNote: string,
  fix: string,
): Check {
  return {
    name: 'engine',
    ok: false,
    detail:
      'timeout' in answer
        ? `the engine${pidNote} did not answer within ${timeoutMs / 1000} s`
        : `cannot talk to the engine${pidNote}: ${answer.error instanceof Error ? answer.error.message : String(answer.error)}`,
    fix,
  };
}

/** Where the engine logs (`<state dir>/engine.log`) and how big it is. */
export function checkEngineLog(stateDir: string): Check {
  const file = engineLogPath(stateDir);
  const size = (f: string): number | null => {
    try {
      return statSync(f).size;
    } catch {
      return null;
    }
  };
  const now = size(file);
  const older = size(`${file}.1`);
  return {
    name: 'engine log',
    ok: true,
    detail:
      `${file} (${now === null ? 'none yet' : formatBytes(now)})` +
      (older === null ? '' : `; the one before: ${path.basename(file)}.1 (${formatBytes(older)})`),
  };
}

// ---------------------------------------------------------------- systemd-logind: killed at logout?

/** What logind.conf's [Login] section says about killing a user's processes at logout. */
export interface LogindSettings {
  /** null: not set anywhere (logind's built-in default applies) */
  killUserProcesses: boolean | null;
  /** empty: every user (when killUserProcesses is on) */
  killOnlyUsers: string[];
  killExcludeUsers: string[];
}

/** logind's defaults for the lists (KillExcludeUsers=root). */
export const LOGIND_DEFAULTS: LogindSettings = {
  killUserProcesses: null,
  killOnlyUsers: [],
  killExcludeUsers: ['root'],
};

function parseBool(value: string): boolean | null {
  const v = value.trim().toLowerCase();
  if (['1', 'yes', 'y', 'true', 't', 'on'].includes(v)) return true;
  if (['0', 'no', 'n', 'false', 'f', 'off'].includes(v)) return false;
  return null;
}

/**
 * Applies one logind.conf (or drop-in) text to `base`, as systemd reads it: only the [Login]
 * section; `#` and `;` start comment lines; the last assignment wins (an unreadable boolean is
 * ignored); a list assignment adds words, an empty one clears the list.
 */
export function parseLogindConf(text: string, base: LogindSettings = LOGIND_DEFAULTS): LogindSettings {
  const out: LogindSettings = {
    killUserProcesses: base.killUserProcesses,
    killOnlyUsers: [...base.killOnlyUsers],
    killExcludeUsers: [...base.killExcludeUsers],
  };
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1].trim();
      continue;
    }
    if (section !== 'Login') continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'KillUserProcesses') {
      const b = parseBool(value);
      if (b !== null) out.killUserProcesses = b;
    } else if (key === 'KillOnlyUsers' || key === 'KillExcludeUsers') {
      const list = key === 'KillOnlyUsers' ? 'killOnlyUsers' : 'killExcludeUsers';
      out[list] = value ? [...out[list], ...value.split(/\s+/)] : [];
    }
  }
  return out;
}

/** Texts in the order systemd applies them: the main file, then the drop-ins. */
export function parseLogindConfs(texts: readonly string[]): LogindSettings {
  return texts.reduce<LogindSettings>((acc, t) => parseLogindConf(t, acc), LOGIND_DEFAULTS);
}

/** The config directories in systemd's order of precedence (a drop-in in an earlier one hides one of the same name in a later). */
const LOGIND_DIRS = ['etc/systemd', 'run/systemd', 'usr/local/lib/systemd', 'usr/lib/systemd'];

/**
 * The files logind reads, in the order it applies them: the first logind.conf found, then every
 * `logind.conf.d/*.conf` sorted by file name (a name in /etc hides the same name in /run and
 * /usr/lib). `root` is `/` but for tests.
 */
export function logindConfFiles(root = '/'): string[] {
  const files: string[] = [];
  const main = LOGIND_DIRS.map((d) => path.join(root, d, 'logind.conf')).find((f) => existsSync(f));
  if (main) files.push(main);
  const dropIns = new Map<string, string>();
  for (const d of LOGIND_DIRS) {
    const dir = path.join(root, d, 'logind.conf.d');
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) if (name.endsWith('.conf') && !dropIns.has(name)) dropIns.set(name, path.join(dir, name));
  }
  for (const name of [...dropIns.keys()].sort()) files.push(dropIns.get(name)!);
  return files;
}

/** True when these settings end `user`'s session processes at logout. */
export function killsAtLogout(s: LogindSettings, user: string): boolean {
  if (s.killUserProcesses !== true) return false;
  if (s.killOnlyUsers.length > 0 && !s.killOnlyUsers.includes(user)) return false;
  return !s.killExcludeUsers.includes(user);
}

/** Runs a program (argv, no shell) and resolves with its stdout, or null when it fails or is missing. */
function run(file: string, args: readonly string[], timeoutMs = 3000): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, encoding: 'utf8', env: { ...process.env, SYSTEMD_PAGER: '', LC_ALL: 'C' } },
      (err, stdout) => resolve(err ? null : stdout),
    );
  });
}

function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? String(process.getuid?.() ?? '');
  }
}

/**
 * Does logging out kill the engine? Where systemd-logind has KillUserProcesses=yes for this user,
 * every process of the login session ends at logout, the engine a dashboard started included.
 * Asks loginctl (the values logind runs with) when it answers, else reads logind.conf and its
 * drop-ins. A warning, never a failure.
 */
export async function checkLogout(
  opts: { root?: string; loginctl?: boolean; user?: string } = {},
): Promise<Check | null> {
  if (process.platform !== 'linux') return null;
  const root = opts.root ?? '/';
  const user = opts.user ?? currentUser();
  const useLoginctl = opts.loginctl ?? true;
  // `show-user` without a user shows the manager's properties (KillUserProcesses is one of them).
  const manager = useLoginctl
    ? await run('loginctl', [
        '--no-pager',
        'show-user',
        '-p',
        'KillUserProcesses',
        '-p',
        'KillOnlyUsers',
        '-p',
        'KillExcludeUsers',
      ])
    : null;
  let settings: LogindSettings;
  let source: string;
  if (manager !== null && /^KillUserProcesses=/m.test(manager)) {
    settings = parseLogindConf(`[Login]\n${manager}`, {
      killUserProcesses: null,
      killOnlyUsers: [],
      killExcludeUsers: [],
    });
    source = 'loginctl';
  } else {
    if (!existsSync(path.join(root, 'run/systemd/system')) && opts.root === undefined)
      return {
        name: 'logout',
        ok: true,
        detail: 'systemd is not the init system here: no systemd-logind ends processes at logout',
      };
    const files = logindConfFiles(root);
    const texts = files.flatMap((f) => {
      try {
        return [readFileSync(f, 'utf8')];
      } catch {
        return [];
      }
    });
    settings = parseLogindConfs(texts);
    source = files.length ? files.join(', ') : 'no logind.conf';
  }
  if (!killsAtLogout(settings, user)) {
    const why =
      settings.killUserProcesses === true
        ? `KillUserProcesses=yes, but not for user ${user}`
        : settings.killUserProcesses === false
          ? 'KillUserProcesses=no'
          : 'KillUserProcesses is not set (logind’s built-in default applies)';
    return { name: 'logout', ok: true, detail: `systemd-logind: ${why} (${source}): an engine outlives your logout` };
  }
  let linger = existsSync(path.join(root, 'var/lib/systemd/linger', user));
  if (!linger && useLoginctl) {
    const out = await run('loginctl', ['--no-pager', 'show-user', user, '-p', 'Linger']);
    linger = out !== null && /^Linger=yes$/m.test(out);
  }
  const underManager =
    'start the engine under your user manager instead of in the login session: `systemd-run --user --scope ao-console serve --background &` in the repo (dashboards started later connect to it)';
  return {
    name: 'logout',
    ok: true,
    warn: true,
    detail:
      `systemd-logind kills every process of your login session at logout (KillUserProcesses=yes, ${source}): ` +
      `an engine a dashboard started dies with it and its running lanes are interrupted; lingering is ${linger ? 'on' : 'off'}`,
    fix: linger
      ? underManager
      : `\`loginctl enable-linger ${user}\` (your user manager then outlives the logout), and ${underManager}`,
  };
}

export async function runDoctor(repo: RepoPaths): Promise<Check[]> {
  const [gitCheck, sqlite, pty] = await Promise.all([checkGit(), checkSqlite(), checkPty()]);
  return [
    gitCheck,
    sqlite,
    pty,
    ...checkPermissions(repo.stateDir),
    await checkDatabase(repo.stateDir),
    await checkWorktrees(repo),
    ...(await checkMerges(repo)),
    await checkProfiles(repo.root),
    await checkConfig(repo.root),
    ...[await checkCommandTrust(repo.root)].filter((c): c is Check => c !== null),
    await checkEngine(repo.stateDir),
    checkEngineLog(repo.stateDir),
    ...[await checkLogout()].filter((c): c is Check => c !== null),
  ];
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check git, native modules, state dir permissions, database integrity, stale worktrees, unfinished merges, profiles and repo config, and report the engine (running or not, its log) and whether logging out kills it; exit 1 on a problem, each with its fix (no engine running is not one)',
    )
    .option('--json', 'print the checks as JSON')
    .option(
      '--repair',
      'first repair what can be: a damaged database is kept as a timestamped copy and rebuilt from what can be read; a merge a killed console left is finished or rolled back',
    )
    .action(async (opts: { json?: boolean; repair?: boolean }, cmd: Command) => {
      const repo = await repoOf(cmd);
      // The database first: the merge step records its lanes in it.
      const repairs: RepairStep[] = opts.repair ? [await repairDatabaseStep(repo), await repairMergesStep(repo)] : [];
      if (!opts.json) for (const r of repairs) for (const line of r.lines) println(line);
      const checks = await runDoctor(repo);
      const ok = checks.every((c) => c.ok) && repairs.every((r) => r.ok);
      if (!ok) process.exitCode = EXIT.failure;
      if (opts.json) return printJson(opts.repair ? { ok, repairs, checks } : { ok, checks });
      if (repairs.length) println();
      for (const c of checks) {
        println(`${c.ok ? (c.warn ? 'warn' : 'ok  ') : 'FAIL'}  ${c.name}: ${c.detail}`);
        if ((!c.ok || c.warn) && c.fix) println(`      ${c.ok ? 'what to do' : 'fix'}: ${c.fix}`);
      }
      const warnings = checks.filter((c) => c.ok && c.warn).length;
      const warned = warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : '';
      println(
        ok ? `\nno problems found${warned}` : `\n${checks.filter((c) => !c.ok).length} problem(s) found${warned}`,
      );
    });
}
