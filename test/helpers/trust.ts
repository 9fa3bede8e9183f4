/**
 * Trust in tests (lanes/trust/): every test file that runs repo commands (command gates, a setup
 * command, the notify hook) points AO_TRUST_FILE at a file of its own, so no test reads or
 * writes the operator's real `~/.local/state/ao-console/trust.json`, and allows the repo's
 * commands the way `ao-console trust --yes` does. There is no bypass: the engine checks the file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadRepoConfig } from '../../lanes/config/repoConfig.js';
import { allowCommands, type TrustState } from '../../lanes/trust/trust.js';

/**
 * Sets process.env.AO_TRUST_FILE to a new empty temp dir's `trust.json` (call it at the top of
 * a test file, before any env is copied from process.env) and returns the file and a cleanup.
 */
export function useTempTrustFile(): { file: string; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ao-trust-'));
  const file = path.join(dir, 'trust.json');
  process.env.AO_TRUST_FILE = file;
  return { file, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Allows the repo's current `.ao/config.json` commands (as `ao-console trust --yes`). */
export async function trustRepo(repoDir: string, env: NodeJS.ProcessEnv = process.env): Promise<TrustState> {
  return allowCommands(repoDir, await loadRepoConfig(repoDir), env);
}
