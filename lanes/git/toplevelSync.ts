/**
 * The repo's top-level directory, synchronously and with nothing loaded but node:child_process:
 * the bin entry's first frame (src/splash.ts) names the repo before the engine (and execa) load.
 * Everything else asks lanes/git/repo.ts.
 */
import { spawnSync } from 'node:child_process';

/** The top level of the work tree containing `dir`, or null when git cannot say within 2 s. */
export function toplevelSync(dir: string): string | null {
  const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd: dir, encoding: 'utf8', timeout: 2000 });
  return top.status === 0 && top.stdout.trim() ? top.stdout.trim() : null;
}
