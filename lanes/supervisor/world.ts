/**
 * The supervisor's seam to the outside world (as zellij's ServerOsApi): the agent processes, the
 * recorder, git and the gates come in through these small interfaces, built for real in one place
 * (createSupervisor in lanes/supervisor/supervisor.ts) and faked in unit tests
 * (test/unit/reviewFlow.test.ts). The store is the SQLite handle opened at the same place.
 */
import type { LaneRuntimeOptions, RuntimeAttach } from '../lane/laneRuntime.js';
import type { Activity, StyledRow } from '../lane/types.js';
import type { SourcedActivity } from '../lane/activitySources.js';
import type { StopOptions } from '../process/reaper.js';
import type { RunGatesOptions } from '../gates/runGates.js';
import type { Keyframe } from '../store/output.js';
import type { Db } from '../store/open.js';
import type { CommitAuthor } from '../git/handoffCommit.js';
import type {
  CreateLaneWorktreeOptions,
  CreatedLaneWorktree,
  RemoveLaneWorktreeOptions,
  RemovedLaneWorktree,
} from '../git/worktree.js';
import type { MergeLaneOptions, MergeResult } from '../git/merge.js';
import type { Landing } from '../git/landing.js';
import type { LoadedProfile } from '../../profiles/loader.js';
import type { RepoConfig } from '../config/repoConfig.js';
import type { DiffStatEntry, GateVerdict } from './api.js';

/** One agent process as the supervisor uses it (lanes/lane/laneRuntime.ts is the real one). */
export interface LaneProcess {
  readonly pid: number;
  readonly alive: boolean;
  /** the next output sequence number */
  readonly nextSeq: number;
  readonly outputBytes: number;
  readonly terminal: {
    text(): string[];
    ansiLines(): string[];
    styled(): StyledRow[];
    cursor(): { x: number; y: number; visible: boolean };
    lastLine(): string;
  };
  whenExited(): Promise<void>;
  outputRate(now?: number): number;
  activity(now?: number): Activity;
  /** the activity and the source it came from (hook, status file, title, screen: lanes/lane/activitySources.ts) */
  activityReport?(now?: number): SourcedActivity;
  /** an agent hook reported `activity` (the most trusted source; kept until the operator types) */
  holdActivity(activity: Activity, detail?: string): void;
  recorderDrained(): void;
  /** reads the pty to its end without flow control (the agent is being stopped) */
  drainForExit(): void;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  syncScreen(): Promise<void>;
  /** the first frame as of a screen sync, then raw output to `listener` (lanes/lane/laneRuntime.ts) */
  attach(listener: (data: string) => void): Promise<RuntimeAttach>;
  /** a front end draws this lane's screen now (styled snapshots) or no longer */
  setWatched?(on: boolean): void;
  dispose(): void;
}

/** Where recorded output goes (lanes/recording/recorder.ts). */
export interface RecordingSink {
  /** false: the recorder is behind and the lane should pause */
  append(laneId: number, seq: number, tMs: number, data: Uint8Array | readonly Uint8Array[]): boolean;
  keyframe(k: Keyframe): boolean;
  /** resolves when everything appended so far is stored */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The git a supervisor runs (all of it under lanes/git/). */
export interface LaneGit {
  createLaneWorktree(opts: CreateLaneWorktreeOptions): Promise<CreatedLaneWorktree>;
  removeLaneWorktree(opts: RemoveLaneWorktreeOptions): Promise<RemovedLaneWorktree>;
  /** the repo's checked-out branch; null on a detached HEAD */
  currentBranch(repoRoot: string): Promise<string | null>;
  /** commits whatever the agent left uncommitted in its worktree; null when nothing was pending */
  commitPendingChanges(
    worktree: string,
    opts: { message: string; author?: CommitAuthor; exclude?: readonly string[] },
  ): Promise<string | null>;
  headCommit(worktree: string): Promise<string>;
  /** the commit a branch points at now; null when there is none */
  branchTip(repoRoot: string, branch: string): Promise<string | null>;
  isEmptyAgainst(repoRoot: string, base: string, head: string): Promise<boolean>;
  diffStat(repoRoot: string, base: string, head: string): Promise<DiffStatEntry[]>;
  fullDiff(repoRoot: string, base: string, head: string): Promise<string>;
  /** the lane's commits on top of `base`, oldest first */
  laneCommits(repoRoot: string, base: string, head: string): Promise<{ sha: string; subject: string }[]>;
  mergeLane(opts: MergeLaneOptions): Promise<MergeResult>;
  /** the commit that would land now (base + lane, the configured strategy), for the merge queue */
  prepareLanding(
    opts: Pick<MergeLaneOptions, 'repoRoot' | 'base' | 'branch' | 'strategy' | 'message' | 'author'> & {
      /** onto this commit (an earlier landing of a batch) instead of the base's tip */
      onto?: string;
    },
  ): Promise<Landing>;
  /** runs `fn` in a temporary worktree detached at `commit`, removed afterwards (lanes/git/landing.ts) */
  withValidationWorktree<T>(
    opts: { repoRoot: string; stateDir: string; name: string; commit: string },
    fn: (dir: string) => Promise<T>,
  ): Promise<T>;
  /** drops a journaled merge's intent once the lane is recorded merged (lanes/git/mergeIntent.ts) */
  clearMergeIntent(stateDir: string, laneId: number): void;
}

/** The process world of a supervisor. */
export interface LaneWorld {
  spawnRuntime(opts: LaneRuntimeOptions): LaneProcess;
  /** ends an agent and every process it left (lanes/process/reaper.ts) */
  stopProcessTree(opts: StopOptions): Promise<void>;
  runGates(opts: RunGatesOptions): Promise<GateVerdict[]>;
  recorder: RecordingSink;
  git: LaneGit;
}

/** Everything a supervisor is built from. */
export interface SupervisorDeps {
  world: LaneWorld;
  /** the store, opened by the entry point */
  db: Db;
  profiles: Map<string, LoadedProfile>;
  config: RepoConfig;
}
