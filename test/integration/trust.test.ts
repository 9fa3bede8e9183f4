/**
 * Consent before a repo's config runs commands (lanes/trust/), against real git, the demo agent,
 * real gate processes and the real binary: an untrusted config's gate command never runs (a
 * canary file is not created) and its verdict says how to allow it; `ao-console trust --yes`
 * allows it and it runs; a changed command is untrusted again; the trust file is 0600 in a 0700
 * dir; a damaged trust file names itself, counts as untrusted and crashes nothing.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';
import { runCli } from '../helpers/cliBin.js';
import { trustRepo, useTempTrustFile } from '../helpers/trust.js';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { loadRepoConfig, parseRepoConfig } from '../../lanes/config/repoConfig.js';
import { allowCommands, checkTrust, hashCommands, repoCommands, TrustFileError } from '../../lanes/trust/trust.js';
import { runGates } from '../../lanes/gates/runGates.js';
import type { LaneState } from '../../lanes/lane/types.js';

const trustFile = useTempTrustFile();
const env = { ...process.env, AO_DEMO_SPEED: '0' };

let repo: TempRepo | null = null;
let sup: Supervisor | null = null;
const dirs: string[] = [];

afterEach(async () => {
  await sup?.shutdown('test over');
  sup = null;
  await repo?.cleanup();
  repo = null;
  rmSync(trustFile.file, { force: true });
});
afterAll(() => {
  trustFile.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A gate that creates `file` when it runs. */
const canaryGate = (name: string, file: string) => ({
  name,
  run: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(file)}, 'ran')`],
});

async function writeConfig(config: object): Promise<void> {
  await mkdir(path.join(repo!.dir, '.ao'), { recursive: true });
  await writeFile(path.join(repo!.dir, '.ao', 'config.json'), JSON.stringify(config));
}

async function start(config: object): Promise<Supervisor> {
  repo = await createTempRepo();
  await writeConfig(config);
  sup = await createSupervisor({
    repoRoot: repo.dir,
    stateDir: repo.stateDir,
    cols: 100,
    rows: 30,
    env,
    tickMs: 100,
    stopGraceMs: 1000,
  });
  return sup;
}

const stateOf = (lane: string) => sup!.getLane(lane)?.state;
const reach = (lane: string, s: LaneState, ms = 30_000) =>
  waitFor(() => stateOf(lane) === s, `${lane} to be ${s} (is ${stateOf(lane)})`, ms);

function canaryDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'ao-canary-'));
  dirs.push(d);
  return d;
}

describe('an untrusted config', () => {
  it('never runs its gate command (no canary); trust --yes lets it run; a changed command is untrusted again', async () => {
    const d = canaryDir();
    const canary = path.join(d, 'canary');
    await start({ gates: [canaryGate('canary', canary), { builtin: 'no-secrets' }] });
    const notices: string[] = [];
    sup!.on((ev) => {
      if (ev.type === 'notice' || ev.type === 'error') notices.push(ev.message);
    });
    await sup!.newLane({ name: 'l1', profile: 'demo', task: 'create file src/a.txt' });
    await reach('l1', 'awaiting-approval');
    let review = await sup!.review('l1');
    const [gate, builtin] = review.verdicts;
    expect(gate).toMatchObject({ gate: 'canary', status: 'ERROR' });
    expect(gate.output).toContain("not run: the repo config's commands are not allowed yet");
    expect(gate.output).toContain('`ao-console trust`');
    expect(gate.output).toContain('`ao-console trust --yes`');
    expect(builtin).toMatchObject({ gate: 'no-secrets', status: 'PASS' }); // built-ins run either way
    expect(existsSync(canary)).toBe(false);
    // the dashboard's flash: at lane creation and when the gates did not run
    expect(notices.some((m) => m.startsWith('command gates will not run:') && m.includes('ao-console trust'))).toBe(
      true,
    );
    expect(notices.some((m) => m.startsWith('command gates not run:'))).toBe(true);

    // allowed with the real binary, as a script would
    const allowed = await runCli(['trust', '--yes'], { cwd: repo!.dir, env: { AO_TRUST_FILE: trustFile.file } });
    expect(allowed.code, allowed.stderr).toBe(0);
    await sup!.rerunGates('l1');
    review = await sup!.review('l1');
    expect(review.verdicts[0]).toMatchObject({ gate: 'canary', status: 'PASS' });
    expect(readFileSync(canary, 'utf8')).toBe('ran');

    // the command changes: untrusted again, the new canary is never made
    const canary2 = path.join(d, 'canary2');
    await writeConfig({ gates: [canaryGate('canary', canary2), { builtin: 'no-secrets' }] });
    await waitFor(() => JSON.stringify(sup!.config.gates).includes('canary2'), 'the config to be reloaded', 15_000);
    await sup!.rerunGates('l1');
    review = await sup!.review('l1');
    expect(review.verdicts[0]).toMatchObject({ gate: 'canary', status: 'ERROR' });
    expect(review.verdicts[0].output).toContain("the repo config's commands changed since they were allowed");
    expect(existsSync(canary2)).toBe(false);
  });

  it('runGates without a trust decision asks the trust file itself (fail closed)', async () => {
    const d = canaryDir();
    const canary = path.join(d, 'canary');
    repo = await createTempRepo();
    await writeConfig({ gates: [canaryGate('canary', canary)] });
    const head = (await import('../../lanes/git/refs.js')).resolveCommit;
    const ctx = { worktree: repo.dir, repoRoot: repo.dir, base: 'main', head: (await head(repo.dir, 'HEAD'))!, env };
    const gates = (await loadRepoConfig(repo.dir)).gates;
    const [untrusted] = await runGates({ ...ctx, gates });
    expect(untrusted.status).toBe('ERROR');
    expect(existsSync(canary)).toBe(false);
    await trustRepo(repo.dir);
    const [trusted] = await runGates({ ...ctx, gates });
    expect(trusted.status).toBe('PASS');
    // gates that are not the config's are not covered by its trust
    const other = path.join(d, 'other');
    const [stranger] = await runGates({
      ...ctx,
      gates: [{ ...canaryGate('canary', other), timeoutSec: 60, required: true }],
    });
    expect(stranger.status).toBe('ERROR');
    expect(existsSync(other)).toBe(false);
  });
});

describe('the trust file', () => {
  it('is 0600 in a 0700 dir under XDG_STATE_HOME, keyed by the real path, with the hash of the commands', async () => {
    const state = canaryDir();
    const xdgEnv = { HOME: '/nonexistent', XDG_STATE_HOME: state };
    repo = await createTempRepo();
    await writeConfig({ setup: { run: ['npm', 'ci'] }, notify: { command: ['notify-hook'] } });
    const config = await loadRepoConfig(repo.dir);
    expect(checkTrust(repo.dir, config, xdgEnv)).toMatchObject({ status: 'new', trusted: false });
    const allowed = allowCommands(repo.dir, config, xdgEnv);
    const file = path.join(state, 'ao-console', 'trust.json');
    expect(allowed.file).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { repos: Record<string, { sha256: string }> };
    expect(Object.keys(stored.repos)).toEqual([repo.dir]);
    expect(stored.repos[repo.dir].sha256).toBe(hashCommands(repoCommands(config)));
    expect(checkTrust(repo.dir, config, xdgEnv)).toMatchObject({ status: 'allowed', trusted: true });
    // the same repo reached through a symlink is the same repo
    const link = path.join(canaryDir(), 'repo-link');
    (await import('node:fs')).symlinkSync(repo.dir, link);
    expect(checkTrust(link, config, xdgEnv).trusted).toBe(true);
  });

  it('damaged: a clear error naming the file, untrusted everywhere, nothing crashes', async () => {
    const d = canaryDir();
    const canary = path.join(d, 'canary');
    await start({ gates: [canaryGate('canary', canary)] });
    writeFileSync(trustFile.file, '{"version": 1, "repos": {');
    const config = await loadRepoConfig(repo!.dir);
    const state = checkTrust(repo!.dir, config);
    expect(state).toMatchObject({ status: 'unreadable', trusted: false });
    expect(state.error).toContain(`trust file ${trustFile.file} is damaged (not valid JSON`);
    expect(() => allowCommands(repo!.dir, config)).toThrow(TrustFileError);
    expect(() => allowCommands(repo!.dir, config)).toThrow(trustFile.file);

    // the engine's supervisor goes on: the gate is an ERROR naming the file
    await sup!.newLane({ name: 'l1', profile: 'demo', task: 'create file src/a.txt' });
    await reach('l1', 'awaiting-approval');
    const [v] = (await sup!.review('l1')).verdicts;
    expect(v.status).toBe('ERROR');
    expect(v.output).toContain(trustFile.file);
    expect(existsSync(canary)).toBe(false);

    // the command says so and exits 1, and does not overwrite the file
    const out = await runCli(['trust', '--yes'], { cwd: repo!.dir, env: { AO_TRUST_FILE: trustFile.file } });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`trust file ${trustFile.file} is damaged`);
    expect(readFileSync(trustFile.file, 'utf8')).toBe('{"version": 1, "repos": {');
    // a well-formed file of the wrong shape is damaged too
    writeFileSync(trustFile.file, JSON.stringify({ version: 1, repos: { [repo!.dir]: { sha256: 'x' } } }));
    expect(checkTrust(repo!.dir, config).error).toContain('is damaged');
  });
});

describe('ao-console trust', () => {
  it('lists what would run; exits 1 untrusted without a terminal; --yes allows; --json reports', async () => {
    repo = await createTempRepo();
    await writeConfig({
      setup: { shell: 'npm ci', copy: ['.env'] },
      gates: [{ name: 'lint', run: ['npm', 'run', 'lint'] }, { builtin: 'merge-clean' }],
      notify: { command: ['./hook.sh', '--quiet'] },
    });
    const cliEnv = { AO_TRUST_FILE: trustFile.file };
    const first = await runCli(['trust'], { cwd: repo.dir, env: cliEnv });
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('setup: shell "npm ci"');
    expect(first.stdout).toContain('gate "lint": run ["npm","run","lint"]');
    expect(first.stdout).toContain('notify.command: run ["./hook.sh","--quiet"]');
    expect(first.stdout).not.toContain('merge-clean');
    expect(first.stdout).toContain('NOT allowed: never allowed for this repo');
    expect(first.stdout).toContain('ao-console trust --yes');
    expect(existsSync(trustFile.file)).toBe(false);

    const json = await runCli(['trust', '--json'], { cwd: repo.dir, env: cliEnv });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { status: string; trusted: boolean; commands: { kind: string }[] };
    expect(report).toMatchObject({ status: 'new', trusted: false });
    expect(report.commands.map((c) => c.kind)).toEqual(['setup', 'gate', 'notify']);

    const yes = await runCli(['trust', '--yes', '--json'], { cwd: repo.dir, env: cliEnv });
    expect(yes.code).toBe(0);
    expect(JSON.parse(yes.stdout)).toMatchObject({ status: 'allowed', trusted: true });
    const again = await runCli(['trust'], { cwd: repo.dir, env: cliEnv });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('status      allowed');

    // changed: what was added and removed is shown
    await writeConfig({ gates: [{ name: 'lint', run: ['npm', 'run', 'lint', '--fix'] }] });
    const changed = await runCli(['trust'], { cwd: repo.dir, env: cliEnv });
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('NOT allowed: the commands changed since they were allowed');
    expect(changed.stdout).toContain('+ gate "lint": run ["npm","run","lint","--fix"]');
    expect(changed.stdout).toContain('- setup: shell "npm ci"');

    // doctor: a warning, not a failure
    const doctor = await runCli(['doctor', '--json'], { cwd: repo.dir, env: cliEnv });
    const checks = (
      JSON.parse(doctor.stdout) as { checks: { name: string; ok: boolean; warn?: boolean; detail: string }[] }
    ).checks;
    const trust = checks.find((c) => c.name === 'trust');
    expect(trust).toMatchObject({ ok: true, warn: true });
    expect(trust?.detail).toContain('changed since they were allowed');
  });

  it('a config that runs no command needs no trust', async () => {
    repo = await createTempRepo();
    await writeConfig({ gates: [{ builtin: 'merge-clean' }], setup: { copy: ['.env'] } });
    const out = await runCli(['trust'], { cwd: repo.dir, env: { AO_TRUST_FILE: trustFile.file } });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('runs no command');
    const config = parseRepoConfig({}, { file: 'c', hasTestScript: true });
    // the default gates run package.json's test script: a command to allow
    expect(repoCommands(config)).toEqual([{ kind: 'gate', name: 'npm test', run: ['npm', 'test'] }]);
  });
});
