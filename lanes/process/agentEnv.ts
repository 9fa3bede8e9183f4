/**
 * The environment an agent runs with. It is an allowlist: nothing from the console's own
 * environment reaches an agent unless it is named here or in the profile's passthrough list,
 * so tokens, sockets and credentials of the operator's shell stay out of lanes by default.
 */
import { randomBytes } from 'node:crypto';

/** Names every agent gets from the console's environment when they are set. */
const BASE_NAMES = ['PATH', 'HOME', 'TERM', 'LANG', 'USER', 'SHELL', 'COLORTERM'];
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
  Object.assign(env, opts.extra);
  if (!env.TERM) env.TERM = 'xterm-256color';
  // Set last: a profile or the console's env must not be able to forge the lane identity.
  env.AO_LANE = opts.lane;
  env.AO_SESSION = opts.session;
  env.AO_STATE_DIR = opts.stateDir;
  env.AO_PROC_TOKEN = opts.procToken;
  return env;
}
