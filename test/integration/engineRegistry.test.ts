/**
 * The per-user engine registry (lanes/engine/registry.ts) and `ao-console engines`, with real
 * engines: the built binary's `engine start` (`serve --background`, a separate process) in real
 * temp repos, the registry in a temp dir through AO_ENGINE_REGISTRY (passed on to the engines).
 *
 * - two engines are both listed by `engines --json` and in the table; the files are 0600 in a
 *   0700 directory, named by the state dir;
 * - `engine stop` removes its entry (the engine does it, before any reader prunes);
 * - an entry whose pid is dead, one whose pid runs but is not that repo's engine, and damaged
 *   files are removed by the next listing, which still shows the live engine;
 * - an engine that does not answer (SIGSTOP) shows "not answering" without hanging the list;
 * - an engine killed with -9 is pruned; an empty registry says so in a sentence;
 * - an engine whose registry cannot be written still starts, and says why in its log.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../lanes/control/protocol.js';
import { entryFileName, listEngines, registerEngine, registryDir } from '../../lanes/engine/registry.js';
import { ENGINE_NODE_FLAGS, engineEnv } from '../../src/control/engineStart.js';
import { runCli } from '../helpers/cliBin.js';
import { alive, enginePid, stopEverything } from '../helpers/laneProcs.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';

const repos: TempRepo[] = [];
const tempDirs: string[] = [];
const stopped: number[] = [];
let registry = '';

afterEach(async () => {
  for (const pid of stopped.splice(0)) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  for (const r of repos.splice(0)) {
    await stopEverything(r, { AO_ENGINE_REGISTRY: registry });
    await r.cleanup();
  }
  for (const d of tempDirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A registry path inside a new temp dir; not created (the first engine creates it). */
async function newRegistry(): Promise<string> {
  const base = await mkdtemp(path.join(tmpdir(), 'ao-registry-'));
  tempDirs.push(base);
  registry = path.join(base, 'state', 'engines');
  return registry;
}

async function newRepo(): Promise<TempRepo> {
  const repo = await createTempRepo();
  repos.push(repo);
  return repo;
}

const envOf = (repo?: TempRepo): Record<string, string> => ({
  AO_ENGINE_REGISTRY: registry,
  ...(repo ? { AO_STATE_DIR: repo.stateDir } : {}),
});

async function startEngineOf(repo: TempRepo): Promise<number> {
  const r = await runCli(['engine', 'start'], { cwd: repo.dir, env: envOf(repo), timeoutMs: 60_000 });
  expect(r.code, `engine start\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  const pid = enginePid(repo);
  expect(pid).not.toBeNull();
  // the engine runs with its V8 flags, before the script
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  expect(argv.slice(1, 1 + ENGINE_NODE_FLAGS.length)).toEqual(ENGINE_NODE_FLAGS);
  // and with one malloc arena (engineEnv), the caller not having set one
  const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  expect(environ).toContain(`MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? '1'}`);
  return pid!;
}

interface Listed {
  pid: number;
  repoRoot: string;
  stateDir: string;
  socketPath: string;
  version: string;
  protocol: number;
  startedAt: number;
  lanes: number | null;
  alive: number | null;
  problem?: string;
}

/** `ao-console engines --json`, run outside any repo. */
async function enginesJson(): Promise<Listed[]> {
  const r = await runCli(['engines', '--json'], { cwd: tmpdir(), env: envOf(), timeoutMs: 30_000 });
  expect(r.code, `engines --json\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as Listed[];
}

const mode = (file: string) => statSync(file).mode & 0o777;

/** A pid that ran and exited (reaped): nothing runs under it now. */
function deadPid(): number {
  const r = spawnSync('/bin/sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim());
  expect(alive(pid)).toBe(false);
  return pid;
}

describe('engine registry', () => {
  it('lists two real engines; files 0600 in 0700; engine stop removes its entry; stale and damaged files are pruned', async () => {
    await newRegistry();
    const [a, b] = await Promise.all([newRepo(), newRepo()]);
    const [pidA, pidB] = await Promise.all([startEngineOf(a), startEngineOf(b)]);

    const listed = await enginesJson();
    const expected = [
      { repo: a, pid: pidA },
      { repo: b, pid: pidB },
    ].sort((x, y) => (x.repo.dir < y.repo.dir ? -1 : 1));
    expect(listed.map((e) => [e.repoRoot, e.pid, e.stateDir])).toEqual(
      expected.map((x) => [x.repo.dir, x.pid, x.repo.stateDir]),
    );
    for (const e of listed) {
      expect(lstatSync(e.socketPath).isSocket()).toBe(true);
      expect(e.protocol).toBe(PROTOCOL_VERSION);
      expect(e.version).toMatch(/\S/);
      expect(e.lanes).toBe(0);
      expect(e.alive).toBe(0);
      expect(Date.now() - e.startedAt).toBeLessThan(10 * 60_000);
    }

    // the files: one per state dir, 0600, in a 0700 directory (and its parent, also created)
    expect(mode(registry)).toBe(0o700);
    expect(mode(path.dirname(registry))).toBe(0o700);
    const files = readdirSync(registry).sort();
    expect(files).toEqual([entryFileName(a.stateDir), entryFileName(b.stateDir)].sort());
    for (const f of files) expect(mode(path.join(registry, f))).toBe(0o600);

    // the table names both repos and pids
    const table = await runCli(['engines'], { cwd: tmpdir(), env: envOf(), timeoutMs: 30_000 });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^REPO\s+PID\s+VERSION\s+STARTED\s+LANES/);
    for (const x of expected)
      expect(table.stdout).toMatch(new RegExp(`${x.repo.dir}\\s+${x.pid}\\s+\\S+\\s+.* ago\\s+0`));

    // engine stop: the engine removes its own entry before it is gone
    const stop = await runCli(['engine', 'stop', '--yes'], { cwd: a.dir, env: envOf(a), timeoutMs: 60_000 });
    expect(stop.code, stop.stderr).toBe(0);
    expect(existsSync(path.join(registry, entryFileName(a.stateDir)))).toBe(false);
    expect(readdirSync(registry)).toEqual([entryFileName(b.stateDir)]);

    // by hand: a dead pid; a live pid (this test process) that is not the engine of its state dir;
    // a file that is not JSON; JSON of the wrong shape; a valid entry under a name not its own
    const entry = (stateDir: string, pid: number) => ({
      pid,
      repoRoot: path.dirname(stateDir),
      stateDir,
      socketPath: path.join(stateDir, 'ao.sock'),
      version: '0.0.0',
      protocol: PROTOCOL_VERSION,
      startedAt: Date.now(),
    });
    const deadDir = path.join(path.dirname(registry), 'dead', 'ao');
    const reusedDir = path.join(path.dirname(registry), 'reused', 'ao');
    const write = (name: string, text: string) => writeFileSync(path.join(registry, name), text, { mode: 0o600 });
    write(entryFileName(deadDir), JSON.stringify(entry(deadDir, deadPid())));
    write(entryFileName(reusedDir), JSON.stringify(entry(reusedDir, process.pid)));
    write('0123456789abcdef.json', '{"pid": 12');
    write('fedcba9876543210.json', JSON.stringify({ pid: 'one', repoRoot: 3 }));
    write('00000000000000ab.json', JSON.stringify(entry(deadDir, process.pid)));
    write('notes.txt', 'not an entry: left alone');

    const after = await enginesJson();
    expect(after.map((e) => [e.repoRoot, e.pid])).toEqual([[b.dir, pidB]]);
    expect(readdirSync(registry).sort()).toEqual([entryFileName(b.stateDir), 'notes.txt'].sort());
  }, 120_000);

  it('an engine that does not answer shows "not answering"; one killed with -9 is pruned; none left says so', async () => {
    await newRegistry();
    const repo = await newRepo();
    const pid = await startEngineOf(repo);

    process.kill(pid, 'SIGSTOP');
    stopped.push(pid);
    const [frozen] = await enginesJson();
    expect(frozen.pid).toBe(pid);
    expect(frozen.lanes).toBeNull();
    expect(frozen.problem).toMatch(/^not answering \(no answer in \d+ ms\)$/);
    const table = await runCli(['engines'], { cwd: tmpdir(), env: envOf(), timeoutMs: 30_000 });
    expect(table.stdout).toContain('not answering');
    process.kill(pid, 'SIGCONT');

    // killed without a chance to clean up: its file stays until the next listing prunes it
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !alive(pid), `engine ${pid} to die`);
    expect(readdirSync(registry)).toEqual([entryFileName(repo.stateDir)]);
    expect(await enginesJson()).toEqual([]);
    expect(readdirSync(registry)).toEqual([]);

    const empty = await runCli(['engines'], { cwd: tmpdir(), env: envOf(), timeoutMs: 30_000 });
    expect(empty.code).toBe(0);
    expect(empty.stdout.trim()).toBe(
      `no engine runs for this user (none listed in ${registry}); \`ao-console\` in a repo starts one`,
    );
  }, 120_000);

  it('an engine whose registry cannot be written still starts and logs why', async () => {
    await newRegistry();
    await mkdir(path.dirname(registry), { recursive: true });
    writeFileSync(registry, 'a file where the registry directory should be');
    const repo = await newRepo();
    const pid = await startEngineOf(repo);
    expect(alive(pid)).toBe(true);
    const logs = await runCli(['engine', 'logs'], { cwd: repo.dir, env: envOf(repo) });
    expect(logs.stdout).toContain(`not listed in the engine registry ${registry}`);
    // the listing names the problem instead of pretending there is no engine
    const r = await runCli(['engines', '--json'], { cwd: tmpdir(), env: envOf() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`engine registry ${registry} is not a directory`);
  }, 120_000);
});

describe('registry rules', () => {
  it("the engine's environment: one malloc arena unless the caller chose a number; nothing else changed", () => {
    const mine = { PATH: '/bin', HOME: '/h' };
    expect(engineEnv(mine)).toEqual({ PATH: '/bin', HOME: '/h', MALLOC_ARENA_MAX: '1' });
    expect(mine).toEqual({ PATH: '/bin', HOME: '/h' });
    expect(engineEnv({ PATH: '/bin', MALLOC_ARENA_MAX: '4' })).toEqual({ PATH: '/bin', MALLOC_ARENA_MAX: '4' });
  });

  it('where the registry is: AO_ENGINE_REGISTRY, else an absolute XDG_STATE_HOME, else ~/.local/state', () => {
    expect(registryDir({ AO_ENGINE_REGISTRY: 'rel/reg', XDG_STATE_HOME: '/x' })).toBe(path.resolve('rel/reg'));
    expect(registryDir({ XDG_STATE_HOME: '/x/state', HOME: '/home/u' })).toBe('/x/state/ao-console/engines');
    expect(registryDir({ XDG_STATE_HOME: 'relative', HOME: '/home/u' })).toBe(
      '/home/u/.local/state/ao-console/engines',
    );
    expect(registryDir({ HOME: '/home/u' })).toBe('/home/u/.local/state/ao-console/engines');
  });

  it("an engine's remover leaves an entry a later engine of the same state dir wrote", async () => {
    const reg = await newRegistry();
    const env = { AO_ENGINE_REGISTRY: reg };
    const stateDir = path.join(path.dirname(reg), 'repo', '.git', 'ao');
    const base = {
      repoRoot: path.join(path.dirname(reg), 'repo'),
      stateDir,
      socketPath: path.join(stateDir, 'ao.sock'),
      version: '1',
      protocol: PROTOCOL_VERSION,
      startedAt: 1,
    };
    const removeOld = registerEngine({ ...base, pid: deadPid() }, env);
    const removeNew = registerEngine({ ...base, pid: process.pid }, env);
    const file = path.join(reg, entryFileName(stateDir));
    removeOld();
    expect(existsSync(file)).toBe(true);
    removeNew();
    expect(existsSync(file)).toBe(false);
    removeNew(); // twice is fine
    expect(listEngines(env)).toEqual([]);
    expect(() => registerEngine({ ...base, pid: 1, stateDir: 'relative' }, env)).toThrow(/absolute/);
  });
});
