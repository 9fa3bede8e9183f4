/**
 * Which profiles can run here: a profile whose command is not on PATH is marked (with how to
 * install it), and the new-lane form's default is the repo's configured profile, else the first
 * profile (by name) whose command is on PATH.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { PLACEHOLDER_RE } from './schema.js';

/** How to install the agent CLIs of the built-in profiles, by command. */
export const INSTALL_HINTS: Readonly<Record<string, string>> = {
  claude: 'npm install -g @anthropic-ai/claude-code',
  codex: 'npm install -g @openai/codex',
  gemini: 'npm install -g @google/gemini-cli',
  aider: 'python -m pip install aider-chat',
  opencode: 'npm install -g opencode-ai',
  copilot: 'npm install -g @github/copilot',
};

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * True when `command` can run: a placeholder (`{node}`, `{shell}`: the console provides it), an
 * executable path, or an executable on `envPath`.
 */
export function commandAvailable(command: string, envPath = process.env.PATH ?? ''): boolean {
  if (new RegExp(PLACEHOLDER_RE.source).test(command)) return true;
  if (command.includes('/')) return isExecutable(command);
  return envPath.split(path.delimiter).some((dir) => !!dir && isExecutable(path.join(dir, command)));
}

export interface ProfileChoices {
  /** the profile names, sorted */
  names: string[];
  /** the form's default: the configured one, else the first whose command is on PATH, else null */
  defaultProfile: string | null;
  /** profiles whose command is missing: why, and how to install it */
  missing: Record<string, string>;
}

/** The profiles the new-lane form offers, its default, and the ones that cannot run here. */
export function profileChoices(
  profiles: ReadonlyMap<string, { command: string }>,
  opts: { configured?: string | null; envPath?: string } = {},
): ProfileChoices {
  const names = [...profiles.keys()].sort();
  const missing: Record<string, string> = {};
  for (const name of names) {
    const { command } = profiles.get(name) as { command: string };
    if (commandAvailable(command, opts.envPath)) continue;
    const hint = INSTALL_HINTS[path.basename(command)];
    missing[name] = `${command} is not on PATH${hint ? `: ${hint}` : ''}`;
  }
  const configured = opts.configured && profiles.has(opts.configured) ? opts.configured : null;
  const defaultProfile = configured ?? names.find((n) => !missing[n]) ?? null;
  return { names, defaultProfile, missing };
}
