/**
 * One dashboard over two repos' engines, end to end: the built binary in tmux (a private
 * server), two temp repos each with its engine and a demo lane awaiting approval, and a registry
 * of engines of the test's own (AO_ENGINE_REGISTRY, in the environment of everything started
 * here) so the user's other engines never show.
 *
 * - `ao-console --all` (outside any repo) shows both repos as groups with their lanes; one lane
 *   approved in each by keystroke lands on its own repo's base branch (checked with git);
 * - inside a repo, `A` switches from its dashboard to the all-engines view and back.
 */
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../../lanes/git/git.js';
import { KEYMAP } from '../../src/keymap/index.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { stopEverything } from '../helpers/laneProcs.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';

const ENV = { AO_DEMO_SPEED: '0', AO_DEMO_ORPHAN_SECS: '120' };
const ALL_HEADER = /^ao-console · all engines · 2 engines, 2 connected/m;
const REPO_HEADER = /^ao-console · repo \S+ · base /m;

function keyOf(id: string): string {
  const binding = KEYMAP.find((b) => b.id === id);
  if (!binding) throw new Error(`no binding ${id} in src/keymap/`);
  return binding.keys[0];
}

const lines = (screen: string) => screen.replace(/\n$/, '').split('\n');

/** The lane list row of `name` (under its engine's header the name has no prefix). */
function laneRow(screen: string, name: string): string | undefined {
  return lines(screen).find((l) => new RegExp(`^[› ][* ]\\S ${name}\\s`).test(l));
}

function laneState(screen: string, name: string): string | undefined {
  return laneRow(screen, name)?.match(
    /(running|idle|waiting input|gating|awaiting approval|queued|merging|merged|validating)/,
  )?.[1];
}

/** The group header row of engine `key`. */
function groupRow(screen: string, key: string): string | undefined {
  return lines(screen).find((l) => l.startsWith(`▾ ${key} · `));
}

describe('ao-console --all: two repos, one dashboard', () => {
  let registry: string;
  let outside: string;
  let env: Record<string, string>;
  const repos: TempRepo[] = [];
  let t: TmuxSession | undefined;

  beforeAll(async () => {
    registry = await mkdtemp(path.join(tmpdir(), 'ao-registry-'));
    outside = await realpath(await mkdtemp(path.join(tmpdir(), 'ao-outside-')));
    env = { ...ENV, AO_ENGINE_REGISTRY: registry };
    for (const [i, name] of ['one', 'two'].entries()) {
      const repo = await createTempRepo();
      repos.push(repo);
      // `ctl new` needs the engine: `engine start` runs it in the background (and registers it)
      const started = await runCli(['engine', 'start'], { cwd: repo.dir, env, timeoutMs: 60_000 });
      expect(started.code, started.stderr).toBe(0);
      const made = await runCli(
        ['ctl', 'new', '--name', name, '--profile', 'demo', '--task', `create file ${name}.txt`],
        {
          cwd: repo.dir,
          env,
        },
      );
      expect(made.code, made.stderr).toBe(0);
      const waited = await runCli(['ctl', 'wait', name, '--state', 'awaiting-approval', '--timeout', '90'], {
        cwd: repo.dir,
        env,
        timeoutMs: 100_000,
      });
      expect(waited.code, `${i}: ${waited.stdout}${waited.stderr}`).toBe(0);
    }
  }, 240_000);

  afterAll(async () => {
    await t?.kill();
    for (const r of repos) {
      await stopEverything(r, env);
      await r.cleanup();
    }
    await rm(registry, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('shows both repos as groups and approves one lane in each by keystroke: each lands on its base branch', async () => {
    const [a, b] = repos;
    const keyA = path.basename(a.dir);
    const keyB = path.basename(b.dir);
    t = await startTmux({ command: [process.execPath, CLI, '--all'], cwd: outside, env, cols: 140, rows: 40 });
    let screen = await t.waitFor(
      (s) =>
        ALL_HEADER.test(s) &&
        laneState(s, 'one') === 'awaiting approval' &&
        laneState(s, 'two') === 'awaiting approval',
      'both engines and their lanes awaiting approval',
      60_000,
    );
    // a header per repo: its key, its lane count, how it stands, its path
    expect(groupRow(screen, keyA)).toMatch(
      new RegExp(`1 lane · connected · ${a.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
    expect(groupRow(screen, keyB)).toMatch(/1 lane · connected/);
    const rows = lines(screen);
    const order = [rows.findIndex((l) => l === groupRow(screen, keyA)), rows.indexOf(laneRow(screen, 'one')!)];
    expect(order[1]).toBe(order[0] + 1); // the lane under its repo's header

    for (const name of ['one', 'two']) {
      // move the selection onto the lane (selection moves over lanes only; the groups come in key order)
      for (let i = 0; i < 10; i++) {
        const now = lines(await t.capture());
        const target = now.indexOf(laneRow(now.join('\n'), name) ?? '');
        const selected = now.findIndex((l) => /^›[* ]\S /.test(l));
        if (target < 0 || target === selected) break;
        await t.press(keyOf(target > selected ? 'lanes.next' : 'lanes.prev'));
        await new Promise((r) => setTimeout(r, 150));
      }
      const at = await t.capture();
      expect(laneRow(at, name), at).toMatch(/^›/);
      await t.press(keyOf('review.approve'));
      screen = await t.waitFor(
        (s) => laneState(s, name) === 'merged' || s.includes('y/enter yes'),
        `${name} merged or a confirmation`,
        60_000,
      );
      if (screen.includes('y/enter yes')) await t.press(keyOf('confirm.yes'));
      await t.waitFor((s) => laneState(s, name) === 'merged', `${name} merged`, 60_000);
    }

    for (const [repo, file, other] of [
      [a, 'one.txt', 'two.txt'],
      [b, 'two.txt', 'one.txt'],
    ] as const) {
      const tree = (await git(['ls-tree', '--name-only', 'main'], { cwd: repo.dir })).stdout.split('\n');
      expect(tree).toContain(file);
      expect(tree).not.toContain(other);
    }

    // quit: both engines keep running
    await t.press(keyOf('app.quit'));
    await t.waitFor(/keep running/, 'the quit confirmation');
    await t.press(keyOf('confirm.yes'));
    expect(await t.waitForExit(30_000)).toBe(0);
    const listed = await runCli(['engines', '--json'], { cwd: outside, env });
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { repoRoot: string }[]).map((e) => e.repoRoot).sort()).toEqual(
      [a.dir, b.dir].sort(),
    );
    await t.kill();
    t = undefined;
  }, 180_000);

  it("switches from a repo's dashboard to the all-engines view with A, and back", async () => {
    const [a] = repos;
    t = await startTmux({ command: [process.execPath, CLI], cwd: a.dir, env, cols: 140, rows: 40 });
    await t.waitFor((s) => REPO_HEADER.test(s), "the repo's dashboard", 60_000);
    expect(await t.capture()).toMatch(/A repo ⇄ all/); // the footer lists the key
    await t.press(keyOf('view.switch'));
    await t.waitFor(
      (s) => ALL_HEADER.test(s) && groupRow(s, path.basename(repos[1].dir)) !== undefined,
      'the all-engines view',
      60_000,
    );
    await t.press(keyOf('view.switch'));
    await t.waitFor((s) => REPO_HEADER.test(s) && !s.includes('▾ '), "the repo's dashboard again", 60_000);
    await t.press(keyOf('app.quit'));
    await t.waitFor(/keep running/, 'the quit confirmation');
    await t.press(keyOf('confirm.yes'));
    expect(await t.waitForExit(30_000)).toBe(0);
  }, 120_000);
});

describe('ao-console --all with no engine', () => {
  it('says so in one sentence and exits 1', async () => {
    const registry = await mkdtemp(path.join(tmpdir(), 'ao-registry-'));
    const outside = await mkdtemp(path.join(tmpdir(), 'ao-outside-'));
    const t = await startTmux({
      command: [process.execPath, CLI, '--all'],
      cwd: outside,
      env: { ...ENV, AO_ENGINE_REGISTRY: registry },
    });
    try {
      expect(await t.waitForExit(30_000)).toBe(1);
      expect(await t.capture({ history: true })).toMatch(/no engine runs: start one in a repo/);
    } finally {
      await t.kill();
      await rm(registry, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    }
  });
});
