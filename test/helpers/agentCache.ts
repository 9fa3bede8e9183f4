/**
 * The real agent CLIs for tests, installed from the npm registry into a cache folder outside the
 * project's dependencies: `$AO_AGENT_CACHE`, else `~/.cache/ao-console-agents`, one subfolder per
 * version list (so changing a version installs a fresh set, and an unchanged list is reused).
 *
 * The install itself is scripts/installAgents.mjs: `.ci/run` runs it before `npm test`, so the
 * CLIs are there up front; a test that finds no complete install (a developer's first run)
 * installs through the same function here, at test time.
 *
 * Versions are pinned in test/helpers/agentPackages.json (the one list, read by both): the tests
 * compare screens and the recorded fixtures in test/fixtures/screens are named after these
 * versions. To move to newer CLIs, change the list, run test/integration/realAgents.test.ts and
 * re-record the fixtures.
 */
import * as installer from '../../scripts/installAgents.mjs';

export type AgentName = 'claude' | 'codex' | 'gemini' | 'opencode' | 'copilot';

/** The CLIs by the name of their command, with the exact package version tested. */
export const AGENT_PACKAGES: Record<AgentName, { pkg: string; version: string }> = installer.AGENT_PACKAGES;

export interface AgentCache {
  /** the install folder (holds node_modules) */
  dir: string;
  /** `node_modules/.bin`: put it first on PATH */
  binDir: string;
  /** version by command name */
  versions: Record<AgentName, string>;
}

export type AgentCacheResult = { ok: true; cache: AgentCache } | { ok: false; skip: string };

export function agentCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return installer.agentCacheRoot(env);
}

/** The cache folder for the current version list. */
export function agentCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return installer.agentCacheDir(env);
}

/**
 * Returns the installed CLIs, installing them first when the cache has no complete install of
 * this version list (scripts/installAgents.mjs). Skips (ok: false) only when the npm registry
 * cannot be reached; any other install failure throws.
 */
export function ensureAgentCache(env: NodeJS.ProcessEnv = process.env): Promise<AgentCacheResult> {
  return installer.ensureAgentCache(env) as Promise<AgentCacheResult>;
}
