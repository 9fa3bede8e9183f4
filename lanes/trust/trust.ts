/**
 * Consent before a repo's config runs commands. A config can ask for commands in three places:
 * the lane setup command (`setup.run` / `setup.shell`), command gates (`run` / `shell`, the
 * default `npm test` gate included: it runs package.json's script) and the `notify.command` hook.
 * Those commands run only when the operator allowed exactly this set for this repo
 * (`ao-console trust`): the set's SHA-256 over a canonical JSON is stored in the trust file
 * (trustFile.ts) under the repo's real path. A changed set (a command added, edited, removed,
 * its env changed) is not allowed until the operator allows it again. Built-in gates and
 * `setup.copy` / `setup.link` run no command and need no consent.
 *
 * What is hashed is the command lines, not the scripts they start: a trusted `npm test` runs
 * whatever package.json says at the time (docs/config.md, "Trust").
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { isBuiltinGate, type RepoConfig } from '../config/repoConfig.js';
import {
  readTrustFile,
  trustFilePath,
  TrustFileError,
  writeTrustFile,
  type RepoCommand,
  type TrustEntry,
} from './trustFile.js';

export { trustFilePath, TrustFileError, type RepoCommand, type TrustEntry } from './trustFile.js';

/** Whether commands may run; when not, the reason says why and how to allow them. */
export type TrustDecision = { allowed: true } | { allowed: false; reason: string };

export const ALLOWED: TrustDecision = { allowed: true };

export interface TrustState {
  /** the repo's real path (the trust file's key) */
  repo: string;
  file: string;
  /** what the config would run, in order: setup, gates, notify */
  commands: RepoCommand[];
  sha256: string;
  /**
   * none: the config runs no command; allowed: this set is allowed; new: nothing allowed for the
   * repo yet; changed: another set was allowed; unreadable: the trust file is damaged
   */
  status: 'none' | 'allowed' | 'new' | 'changed' | 'unreadable';
  /** commands may run */
  trusted: boolean;
  /** the set allowed before (status changed) */
  previous?: TrustEntry;
  /** status unreadable: the file's problem */
  error?: string;
}

/** The commands a config would run, in a fixed order: setup, each command gate, the notify hook. */
export function repoCommands(config: RepoConfig): RepoCommand[] {
  const out: RepoCommand[] = [];
  const s = config.setup;
  if (s && (s.run || s.shell !== undefined)) {
    out.push({
      kind: 'setup',
      name: 'setup',
      ...(s.run ? { run: s.run } : { shell: s.shell }),
      ...(s.env ? { env: s.env } : {}),
    });
  }
  for (const g of config.gates) {
    if (isBuiltinGate(g)) continue;
    out.push({
      kind: 'gate',
      name: g.name,
      ...(g.run ? { run: g.run } : { shell: g.shell }),
      ...(g.env ? { env: g.env } : {}),
    });
  }
  if (config.notify.command) out.push({ kind: 'notify', name: 'notify.command', run: config.notify.command });
  return out;
}

/** JSON with object keys sorted at every level: the same commands always give the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashCommands(commands: RepoCommand[]): string {
  return createHash('sha256').update(canonicalJson(commands)).digest('hex');
}

/** The key of a repo in the trust file: its real path. */
export function repoKey(repoRoot: string): string {
  try {
    return realpathSync(repoRoot);
  } catch {
    return path.resolve(repoRoot);
  }
}

/** Whether the config's commands are allowed for the repo. Never throws: a damaged file is `unreadable`. */
export function checkTrust(repoRoot: string, config: RepoConfig, env: NodeJS.ProcessEnv = process.env): TrustState {
  const file = trustFilePath(env);
  const repo = repoKey(repoRoot);
  const commands = repoCommands(config);
  const sha256 = hashCommands(commands);
  const base = { repo, file, commands, sha256 };
  if (commands.length === 0) return { ...base, status: 'none', trusted: true };
  let entry: TrustEntry | undefined;
  try {
    entry = readTrustFile(file).repos[repo];
  } catch (err) {
    return { ...base, status: 'unreadable', trusted: false, error: (err as Error).message };
  }
  if (!entry) return { ...base, status: 'new', trusted: false };
  // The stored hash must be of the stored commands and equal to this set's.
  if (entry.sha256 === sha256 && hashCommands(entry.commands) === sha256)
    return { ...base, status: 'allowed', trusted: true };
  return { ...base, status: 'changed', trusted: false, previous: entry };
}

/** The operator's way to allow, for every message that says a command did not run. */
export const HOW_TO_ALLOW = 'run `ao-console trust` to review and allow them (`ao-console trust --yes` in a script)';

/** Why the commands may not run, in one sentence with the way out. */
export function untrustedReason(state: TrustState): string {
  switch (state.status) {
    case 'unreadable':
      return `the repo config's commands are not allowed: ${state.error ?? 'the trust file cannot be read'}`;
    case 'changed':
      return `the repo config's commands changed since they were allowed (${state.previous?.allowedAt ?? 'earlier'}): ${HOW_TO_ALLOW}`;
    default:
      return `the repo config's commands are not allowed yet (.ao/config.json asks to run ${state.commands.length} command${state.commands.length === 1 ? '' : 's'}): ${HOW_TO_ALLOW}`;
  }
}

export function decide(state: TrustState): TrustDecision {
  return state.trusted ? ALLOWED : { allowed: false, reason: untrustedReason(state) };
}

/**
 * Allows the config's current commands for the repo (replacing what was allowed before). A damaged
 * trust file is not overwritten: TrustFileError (the operator fixes or removes it).
 */
export function allowCommands(repoRoot: string, config: RepoConfig, env: NodeJS.ProcessEnv = process.env): TrustState {
  const file = trustFilePath(env);
  const data = readTrustFile(file);
  const state = checkTrust(repoRoot, config, env);
  data.repos[state.repo] = { sha256: state.sha256, allowedAt: new Date().toISOString(), commands: state.commands };
  writeTrustFile(file, data);
  return { ...state, status: state.commands.length === 0 ? 'none' : 'allowed', trusted: true };
}

/** Drops what was allowed for the repo (the demo's throwaway repo on exit). A damaged file is left alone. */
export function forgetRepo(repoRoot: string, env: NodeJS.ProcessEnv = process.env): void {
  const file = trustFilePath(env);
  let data;
  try {
    data = readTrustFile(file);
  } catch (err) {
    if (err instanceof TrustFileError) return;
    throw err;
  }
  const key = repoKey(repoRoot);
  if (!(key in data.repos)) return;
  delete data.repos[key];
  writeTrustFile(file, data);
}

/** One line for a command: `gate "lint": run ["npm","run","lint"]`. */
export function describeCommand(c: RepoCommand): string {
  const what = c.run ? `run ${JSON.stringify(c.run)}` : `shell ${JSON.stringify(c.shell)}`;
  const env = c.env && Object.keys(c.env).length ? ` env ${JSON.stringify(c.env)}` : '';
  return `${c.kind === 'gate' ? `gate ${JSON.stringify(c.name)}` : c.name}: ${what}${env}`;
}
