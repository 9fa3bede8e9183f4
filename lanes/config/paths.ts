import { mkdirSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { findRepo } from '../git/repo.js';

export class NotARepoError extends Error {
  constructor(dir: string) {
    super(`${dir} is not inside a git repository (run ao-console in a repo, or pass --repo DIR)`);
    this.name = 'NotARepoError';
  }
}

export interface RepoPaths {
  /** top level of the repo's main working tree */
  root: string;
  /** git's common dir (shared by all worktrees) */
  commonDir: string;
  /** where ao-console keeps its database, worktrees and socket */
  stateDir: string;
}

/** Finds the repository containing `dir` and the console's state dir for it. */
export async function resolveRepo(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<RepoPaths> {
  const repo = await findRepo(dir);
  if (!repo) throw new NotARepoError(dir);
  const { root, commonDir } = repo;
  // In a linked worktree, show-toplevel is that worktree; the main one is the parent of the common dir.
  const mainRoot = path.basename(commonDir) === '.git' ? path.dirname(commonDir) : root;
  const stateDir = env.AO_STATE_DIR ? path.resolve(env.AO_STATE_DIR) : path.join(commonDir, 'ao');
  return { root: mainRoot, commonDir, stateDir };
}

/** Creates the state dir (0700) and returns it. */
export function ensureStateDir(stateDir: string): string {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chmodSync(stateDir, 0o700);
  return stateDir;
}

export const dbFile = (stateDir: string) => path.join(stateDir, 'ao.db');
export const socketFile = (stateDir: string) => path.join(stateDir, 'ao.sock');
export const lockFile = (stateDir: string) => path.join(stateDir, 'console.lock');
export const worktreesDir = (stateDir: string) => path.join(stateDir, 'worktrees');
