/**
 * The real agent CLIs for tests, installed from the npm registry into a cache folder outside the
 * project's dependencies: `$AO_AGENT_CACHE`, else `~/.cache/ao-console-agents`, one subfolder per
 * version list (so changing a version installs a fresh set, and an unchanged list is reused).
 *
 * Versions are pinned: the tests compare screens and the recorded fixtures in
 * test/fixtures/screens are named after these versions. To move to newer CLIs, change the list,
 * run test/integration/realAgents.test.ts and re-record the fixtures.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The CLIs by the name of their command, with the exact package version tested. */
export const AGENT_PACKAGES = {
  claude: { pkg: '@anthropic-ai/claude-code', version: '2.1.330' },
  codex: { pkg: '@openai/codex', version: '0.169.0' },
  gemini: { pkg: '@google/gemini-cli', version: '0.61.0' },
  opencode: { pkg: 'opencode-ai', version: '1.18.33' },
  copilot: { pkg: '@github/copilot', version: '1.0.102' },
} as const;

export type AgentName = keyof typeof AGENT_PACKAGES;

export interface AgentCache {
  /** the install folder (holds node_modules) */
  dir: string;
  /** `node_modules/.bin`: put it first on PATH */
  binDir: string;
  /** version by command name */
  versions: Record<AgentName, string>;
}

export type AgentCacheResult = { ok: true; cache: AgentCache } | { ok: false; skip: string };

const MARKER = 'ao-agent-cache.json';

function specs(): string[] {
  return Object.values(AGENT_PACKAGES).map((p) => `${p.pkg}@${p.version}`);
}

export function agentCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.AO_AGENT_CACHE ? path.resolve(env.AO_AGENT_CACHE) : path.join(os.homedir(), '.cache', 'ao-console-agents');
}

/** The cache folder for the current version list. */
export function agentCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const key = createHash('sha256').update(specs().join('\n')).digest('hex').slice(0, 12);
  return path.join(agentCacheRoot(env), `agents-${key}`);
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; timeoutMs: number },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, output: `${output}${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function readMarker(dir: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(path.join(dir, MARKER), 'utf8')) as { specs?: string[] };
    return JSON.stringify(marker.specs) === JSON.stringify(specs());
  } catch {
    return false;
  }
}

function result(dir: string): AgentCacheResult {
  const versions = Object.fromEntries(Object.entries(AGENT_PACKAGES).map(([name, p]) => [name, p.version])) as Record<
    AgentName,
    string
  >;
  return { ok: true, cache: { dir, binDir: path.join(dir, 'node_modules', '.bin'), versions } };
}

/**
 * Returns the installed CLIs, installing them first when the cache has no complete install of
 * this version list. Installs into a temporary sibling folder and renames it into place, so an
 * interrupted install is never mistaken for a complete one. Skips (ok: false) only when the npm
 * registry cannot be reached; any other install failure throws.
 */
export async function ensureAgentCache(env: NodeJS.ProcessEnv = process.env): Promise<AgentCacheResult> {
  const dir = agentCacheDir(env);
  if (await readMarker(dir)) return result(dir);
  await mkdir(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  try {
    await writeFile(
      path.join(tmp, 'package.json'),
      `${JSON.stringify({ name: 'ao-agent-cache', private: true }, null, 2)}\n`,
    );
    const install = await run(
      'npm',
      ['install', '--prefix', tmp, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', ...specs()],
      { cwd: tmp, timeoutMs: 540_000 },
    );
    if (install.code !== 0) {
      const ping = await run('npm', ['ping'], { timeoutMs: 30_000 });
      if (ping.code !== 0) {
        return {
          ok: false,
          skip: `the npm registry is unreachable (npm ping: ${ping.output.trim().split('\n').pop() ?? ''}); real agent CLIs not installed`,
        };
      }
      throw new Error(
        `npm install of ${specs().join(' ')} failed (exit ${install.code}):\n${install.output.slice(-4000)}`,
      );
    }
    for (const name of Object.keys(AGENT_PACKAGES)) {
      if (!existsSync(path.join(tmp, 'node_modules', '.bin', name)))
        throw new Error(`npm install gave no ${name} command in ${tmp}`);
    }
    await writeFile(
      path.join(tmp, MARKER),
      `${JSON.stringify({ specs: specs(), installedAt: new Date().toISOString() }, null, 2)}\n`,
    );
    if (await readMarker(dir)) {
      await rm(tmp, { recursive: true, force: true }); // another process finished first
      return result(dir);
    }
    await rm(dir, { recursive: true, force: true }); // an incomplete install of an older run
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    // Another process may have finished the same install first.
    if (await readMarker(dir)) return result(dir);
    throw err;
  }
  return result(dir);
}
