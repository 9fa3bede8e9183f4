/**
 * The environment an agent runs with. It is an allowlist: nothing from the console's own
 * environment reaches an agent unless it is named here or in the profile's passthrough list,
 * so tokens, sockets and credentials of the operator's shell stay out of lanes by default.
 */
import { randomBytes } from 'node:crypto';

/** Names every agent gets from the console's environment when they are set. */
const BASE_NAMES = ['PATH', 'HOME', 'LANG', 'USER', 'SHELL'];

/**
 * What the lane's terminal declares, as a terminal emulator does for the programs it runs. An
 * agent writes to ao-console's emulator (@xterm/headless), not to the operator's terminal, so
 * these describe that one and the console's own TERM, COLORTERM and TERM_PROGRAM never pass:
 * xterm.js understands xterm's sequences with 256 and 24-bit colours. Without COLORTERM, agents
 * such as Gemini CLI fall back to 256 colours and look different than in a normal terminal. A
 * profile's `env` may still set any of them.
 */
export const LANE_TERMINAL_ENV: Readonly<Record<string, string>> = {
  TERM: 'xterm-256color',
  COLORTERM: 'truecolor',
  TERM_PROGRAM: 'ao-console',
};
/** Prefixes every agent gets (locale settings). */
const BASE_PREFIXES = ['LC_'];

export interface AgentEnvOptions {
  /** the console's environment (usually process.env) */
  source: NodeJS.ProcessEnv;
  /** extra names to pass through; a trailing `*` matches a prefix (`ANTHROPIC_*`) */
  passthrough: string[];
  /** set as is (profile env, task hand-over variables); wins over everything but AO_* */
  extra: Record<string, string>;
  lane: string;
  session: string;
  stateDir: string;
  /** the token the reaper finds the lane's processes by (see newProcToken) */
  procToken: string;
}

/** A fresh random token for AO_PROC_TOKEN. */
export function newProcToken(): string {
  return randomBytes(16).toString('hex');
}

function matcher(patterns: string[]): (name: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of patterns) {
    if (p.endsWith('*')) prefixes.push(p.slice(0, -1));
    else exact.add(p);
  }
  return (name) => exact.has(name) || prefixes.some((pre) => name.startsWith(pre));
}

export function buildAgentEnv(opts: AgentEnvOptions): Record<string, string> {
  const allowed = matcher([...BASE_NAMES, ...BASE_PREFIXES.map((p) => `${p}*`), ...opts.passthrough]);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(opts.source)) {
    if (value !== undefined && allowed(name)) env[name] = value;
  }
  Object.assign(env, LANE_TERMINAL_ENV, opts.extra);
  // Set last: a profile or the console's env must not be able to forge the lane identity.
  env.AO_LANE = opts.lane;
  env.AO_SESSION = opts.session;
  env.AO_STATE_DIR = opts.stateDir;
  env.AO_PROC_TOKEN = opts.procToken;
  return env;
}
