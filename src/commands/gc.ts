/**
 * `ao-console gc`: removes what closed lanes left behind and recordings past the retention.
 * Never loses a commit: a lane's worktree and branch go through removeLaneWorktree, which keeps
 * unmerged commits and uncommitted files under `refs/ao/archive/...` first, and waits for the
 * repository's worktree lock, so gc beside a running console never races its `git worktree add`.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { Db } from '../../lanes/store/open.js';
import type { RecordingTotals } from '../../lanes/store/output.js';
import { dbFile, lockFile, type RepoPaths } from '../../lanes/config/paths.js';
import { ownerAlive, readLock } from '../../lanes/control/lock.js';
import { CliError, EXIT, printJson, println, repoOf } from './common.js';

interface WorktreeAction {
  lane: string;
  path: string;
  branch: string;
  why: string;
  archivedRefs: string[];
  notes: string[];
  error?: string;
}

export interface GcResult {
  dryRun: boolean;
  retentionDays: number;
  /** all recordings kept within this many MB (closed lanes' dropped oldest first); null: no bound */
  retentionMaxMb: number | null;
  worktrees: WorktreeAction[];
  recordings: RecordingTotals[];
  skipped: string[];
}

function parseDays(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new CliError(
      `--retention-days must be a number of days (0 or more), got ${JSON.stringify(value)}`,
      EXIT.usage,
    );
  return n;
}

function parseMb(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new CliError(`--max-mb must be a number of megabytes (0 or more), got ${JSON.stringify(value)}`, EXIT.usage);
  return n;
}

export async function runGc(
  repo: RepoPaths,
  opts: { dryRun: boolean; retentionDays?: number; maxMb?: number },
): Promise<GcResult> {
  const { loadRepoConfig } = await import('../../lanes/config/repoConfig.js');
  const { listLaneWorktrees, removeLaneWorktree } = await import('../../lanes/git/worktree.js');
  const { branchTip } = await import('../../lanes/git/refs.js');
  const { currentBranch } = await import('../../lanes/git/repo.js');
  const { latestClosedLanes, openLaneNames } = await import('../../lanes/store/lanes.js');
  const { deleteRecordings, recordingsClosedBefore, recordingsOverBudget } =
    await import('../../lanes/store/output.js');
  const { retention } = await loadRepoConfig(repo.root);
  const retentionDays = opts.retentionDays ?? retention.recordingsDays;
  const retentionMaxMb = opts.maxMb ?? retention.recordingsMaxMb;
  const result: GcResult = {
    dryRun: opts.dryRun,
    retentionDays,
    retentionMaxMb,
    worktrees: [],
    recordings: [],
    skipped: [],
  };
  const file = dbFile(repo.stateDir);
  let db: Db | null = null;
  if (existsSync(file)) {
    const { openDb } = await import('../../lanes/store/open.js');
    db = openDb(file, { readonly: opts.dryRun, autoCheckpoint: true });
  }
  try {
    const registered = await listLaneWorktrees(repo.root, repo.stateDir);
    const openNames = new Set<string>(db ? openLaneNames(db) : []);
    // The latest row of each lane name that is closed and has no open successor.
    const closed = db ? latestClosedLanes(db).filter((l) => !openNames.has(l.name)) : [];
    const targets: (Omit<WorktreeAction, 'archivedRefs' | 'notes'> & { base: string })[] = [];
    for (const l of closed) {
      const isRegistered = registered.some((w) => w.lane === l.name);
      const tip = await branchTip(repo.root, l.branch).catch(() => null);
      if (existsSync(l.worktree) || isRegistered || tip) {
        targets.push({ lane: l.name, path: l.worktree, branch: l.branch, base: l.base, why: 'lane is closed' });
      }
    }
    const consoleRunning = (() => {
      const owner = readLock(lockFile(repo.stateDir));
      return owner !== null && ownerAlive(owner);
    })();
    for (const w of registered) {
      if (openNames.has(w.lane) || targets.some((t) => t.lane === w.lane)) continue;
      if (consoleRunning) {
        result.skipped.push(
          `${w.path}: no lane of the store owns it, but a console is running (it may be creating it); run gc again when no console runs`,
        );
        continue;
      }
      targets.push({
        lane: w.lane,
        path: w.path,
        branch: `ao/${w.lane}`,
        base: (await currentBranch(repo.root)) ?? 'HEAD',
        why: w.prunable ? 'worktree directory is gone' : 'no lane of the store owns it',
      });
    }
    for (const t of targets) {
      const action: WorktreeAction = {
        lane: t.lane,
        path: t.path,
        branch: t.branch,
        why: t.why,
        archivedRefs: [],
        notes: [],
      };
      if (!opts.dryRun) {
        try {
          const res = await removeLaneWorktree({
            repoRoot: repo.root,
            stateDir: repo.stateDir,
            lane: t.lane,
            worktreePath: t.path,
            branch: t.branch,
            base: t.base,
          });
          action.archivedRefs = res.archivedRefs;
          action.notes = res.notes;
        } catch (err) {
          action.error = (err as Error).message;
        }
      }
      result.worktrees.push(action);
    }

    if (db) {
      const cutoff = Date.now() - retentionDays * 86_400_000;
      result.recordings = recordingsClosedBefore(db, cutoff);
      if (retentionMaxMb !== null) {
        // past the size bound too: the oldest closed lanes' recordings, beyond those already going
        const going = new Set(result.recordings.map((r) => r.laneId));
        const goingBytes = result.recordings.reduce((n, r) => n + r.bytes, 0);
        result.recordings.push(...recordingsOverBudget(db, retentionMaxMb * 1_000_000 + goingBytes, going));
      }
      const laneIds = result.recordings.map((r) => r.laneId);
      if (!opts.dryRun && laneIds.length) deleteRecordings(db, laneIds);
    }
  } finally {
    db?.close();
  }
  return result;
}

export function registerGc(program: Command): void {
  program
    .command('gc')
    .description(
      'remove worktrees and branches of closed lanes (unmerged commits and uncommitted files are kept under refs/ao/archive/ first) and recordings of lanes closed longer ago than the retention',
    )
    .option('--dry-run', 'only say what would be removed')
    .option(
      '--retention-days <days>',
      'keep recordings of lanes closed within this many days (default: retention.recordingsDays of .ao/config.json, else 30)',
    )
    .option(
      '--max-mb <mb>',
      "then drop recordings of closed lanes, oldest closed first, until all recordings take at most this many MB (default: retention.recordingsMaxMb, else no bound); never an open lane's",
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: { dryRun?: boolean; retentionDays?: string; maxMb?: string; json?: boolean }, cmd: Command) => {
        const retentionDays = opts.retentionDays === undefined ? undefined : parseDays(opts.retentionDays);
        const maxMb = opts.maxMb === undefined ? undefined : parseMb(opts.maxMb);
        const result = await runGc(await repoOf(cmd), { dryRun: Boolean(opts.dryRun), retentionDays, maxMb });
        const failed = result.worktrees.filter((w) => w.error);
        if (failed.length) process.exitCode = EXIT.failure;
        if (opts.json) return printJson(result);
        const verb = result.dryRun ? 'would remove' : 'removed';
        for (const w of result.worktrees) {
          if (w.error) println(`could not remove ${w.path} (lane ${w.lane}): ${w.error}`);
          else
            println(
              `${verb} worktree ${w.path} and branch ${w.branch} (${w.why})${w.archivedRefs.length ? `; work kept at ${w.archivedRefs.join(', ')} (\`ao-console show ${w.lane}\` says how to get it back)` : ''}`,
            );
        }
        for (const r of result.recordings)
          println(`${verb} the recording of lane ${r.lane} (#${r.laneId}): ${r.chunks} chunk(s), ${r.bytes} bytes`);
        for (const s of result.skipped) println(`skipped ${s}`);
        if (!result.worktrees.length && !result.recordings.length)
          println(
            `nothing to remove (recordings are kept ${result.retentionDays} day(s) after a lane closes${result.retentionMaxMb === null ? '' : `, ${result.retentionMaxMb} MB in all`})`,
          );
      },
    );
}
