// The real agent CLIs the tests drive (Claude Code, Codex, Gemini CLI, opencode, Copilot CLI),
// installed from the npm registry into a cache folder outside the project's dependencies:
// `$AO_AGENT_CACHE`, else `~/.cache/ao-console-agents`, one subfolder per version list (so
// changing a version installs a fresh set, and an unchanged list is reused).
//
// The pinned versions live in test/helpers/agentPackages.json (the one list: this script and the
// tests' helper test/helpers/agentCache.ts both read it). `.ci/run` runs this script before
// `npm test`, so no test waits for an install; a test that finds no complete install still
// installs through the same function (ensureAgentCache) at test time.
//
//   node scripts/installAgents.mjs     installs (if needed) and prints the folder
//
// Exit 0 when the CLIs are installed, or when the npm registry cannot be reached (a warning is
// printed; the agent tests then skip, saying so); exit 1 when an install fails otherwise.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LIST = fileURLToPath(new URL('../test/helpers/agentPackages.json', import.meta.url));

/**
 * The CLIs by the name of their command, with the exact package version tested.
 * @type {Record<'claude' | 'codex' | 'gemini' | 'opencode' | 'copilot', { pkg: string; version: string }>}
 */
export const AGENT_PACKAGES = JSON.parse(readFileSync(LIST, 'utf8'));

const MARKER = 'ao-agent-cache.json';

/** `pkg@version` of every CLI, in the list's order (the cache folder's name is a hash of these). */
export function agentSpecs() {
  return Object.values(AGENT_PACKAGES).map((p) => `${p.pkg}@${p.version}`);
}

export function agentCacheRoot(env = process.env) {
  return env.AO_AGENT_CACHE ? path.resolve(env.AO_AGENT_CACHE) : path.join(os.homedir(), '.cache', 'ao-console-agents');
}

/** The cache folder for the current version list. */
export function agentCacheDir(env = process.env) {
  const key = createHash('sha256').update(agentSpecs().join('\n')).digest('hex').slice(0, 12);
  return path.join(agentCacheRoot(env), `agents-${key}`);
}

function run(cmd, args, opts) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d.toString()));
    child.stderr.on('data', (d) => (output += d.toString()));
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

async function readMarker(dir) {
  try {
    const marker = JSON.parse(await readFile(path.join(dir, MARKER), 'utf8'));
    return JSON.stringify(marker.specs) === JSON.stringify(agentSpecs());
  } catch {
    return false;
  }
}

function result(dir) {
  const versions = Object.fromEntries(Object.entries(AGENT_PACKAGES).map(([name, p]) => [name, p.version]));
  return { ok: true, cache: { dir, binDir: path.join(dir, 'node_modules', '.bin'), versions } };
}

/**
 * Returns the installed CLIs, installing them first when the cache has no complete install of
 * this version list. Installs into a temporary sibling folder and renames it into place, so an
 * interrupted install is never mistaken for a complete one. Skips (ok: false) only when the npm
 * registry cannot be reached; any other install failure throws.
 */
export async function ensureAgentCache(env = process.env) {
  const dir = agentCacheDir(env);
  if (await readMarker(dir)) return result(dir);
  await mkdir(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  const specs = agentSpecs();
  try {
    await writeFile(
      path.join(tmp, 'package.json'),
      `${JSON.stringify({ name: 'ao-agent-cache', private: true }, null, 2)}\n`,
    );
    const install = await run(
      'npm',
      ['install', '--prefix', tmp, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', ...specs],
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
        `npm install of ${specs.join(' ')} failed (exit ${install.code}):\n${install.output.slice(-4000)}`,
      );
    }
    for (const name of Object.keys(AGENT_PACKAGES)) {
      if (!existsSync(path.join(tmp, 'node_modules', '.bin', name)))
        throw new Error(`npm install gave no ${name} command in ${tmp}`);
    }
    await writeFile(
      path.join(tmp, MARKER),
      `${JSON.stringify({ specs, installedAt: new Date().toISOString() }, null, 2)}\n`,
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

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const say = (msg) => process.stderr.write(`installAgents: ${msg}\n`);
  const started = Date.now();
  say(`${agentSpecs().join(' ')} -> ${agentCacheDir()}`);
  ensureAgentCache().then(
    (r) => {
      if (r.ok) {
        say(`ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
        process.stdout.write(`${r.cache.dir}\n`);
      } else {
        say(`warning: ${r.skip}; the real-agent tests will skip`);
      }
    },
    (err) => {
      say(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
