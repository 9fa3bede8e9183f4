/**
 * `ao-console doctor`: checks what the console needs and says how to fix each problem.
 * Exits 1 when any check fails.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { dbFile, type RepoPaths } from '../../lanes/config/paths.js';
import { EXIT, printJson, println, repoOf } from './common.js';
import { checkDatabase, repairDatabaseStep, type RepairStep } from './doctorDatabase.js';
import { checkMerges, repairMergesStep } from './doctorMerge.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** how to fix it, when not ok */
  fix?: string;
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

async function checkWorktrees(repo: RepoPaths): Promise<Check> {
  try {
    const { listLaneWorktrees } = await import('../../lanes/git/worktree.js');
    const stale = (await listLaneWorktrees(repo.root, repo.stateDir)).filter((w) => w.prunable);
    if (stale.length === 0) return { name: 'worktrees', ok: true, detail: 'no stale lane worktrees' };
    return {
      name: 'worktrees',
      ok: false,
      detail: `${stale.length} lane worktree(s) registered but gone: ${stale.map((w) => w.path).join(', ')}`,
      fix: `run \`ao-console gc\`, or: ${stale.map((w) => `git worktree unlock '${w.path}'`).join('; ')}; git worktree prune`,
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
  ];
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check git, native modules, state dir permissions, database integrity, stale worktrees, unfinished merges, profiles and repo config; exit 1 on a problem, each with its fix',
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
        println(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`);
        if (!c.ok && c.fix) println(`      fix: ${c.fix}`);
      }
      println(ok ? '\nno problems found' : `\n${checks.filter((c) => !c.ok).length} problem(s) found`);
    });
}
