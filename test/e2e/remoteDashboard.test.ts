/**
 * The dashboard of a remote, end to end: the built binary in tmux, a real OpenSSH sshd on
 * 127.0.0.1 (test/helpers/sshd.ts) in front of a repo whose path holds spaces and `$(…)`.
 *
 * - `ao-console remote add`, then `ao-console --remote box`: a lane created there through the
 *   new-lane form, its screen drawn, its question answered in attach mode, approved by keystroke,
 *   its work on the remote repo's base branch;
 * - the link dropped (the ssh process killed while the network is "down": a wrapper in front of
 *   the harness's ssh fails like an unreachable host while a file exists): the dashboard shows
 *   the remote disconnected with ssh's words; the remote lane still runs (asked on the host
 *   itself); the network back, the dashboard reconnects by itself and shows the lane live.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../../lanes/git/git.js';
import { KEYMAP } from '../../src/keymap/index.js';
import { CLI, runCli } from '../helpers/cliBin.js';
import { sshdSkipReason, startSshd, type Sshd } from '../helpers/sshd.js';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';

const SKIP = sshdSkipReason();
if (SKIP) console.warn(`remote dashboard tests skipped: ${SKIP}`);
const DETACH = 'ctrl-]';
const HEADER = /^ao-console · remote box · 1 engine, (\d) connected/m;

function keyOf(id: string): string {
  const binding = KEYMAP.find((b) => b.id === id);
  if (!binding) throw new Error(`no binding ${id} in src/keymap/`);
  return binding.keys[0];
}
const lines = (screen: string) => screen.replace(/\n$/, '').split('\n');
/** The lane list row of `name` (under its engine's header the name has no prefix). */
const laneRow = (screen: string, name: string) =>
  lines(screen).find((l) => new RegExp(`^[› ][* ]\\S ${name}\\s`).test(l));
const laneState = (screen: string, name: string) =>
  laneRow(screen, name)?.match(
    /(running|idle|waiting input|gating|awaiting approval|queued|merging|merged|validating)/,
  )?.[1];
const groupRow = (screen: string) => lines(screen).find((l) => l.startsWith('▾ box · '));

describe.skipIf(SKIP)('the dashboard of a remote over a real sshd', () => {
  let sshd: Sshd;
  let repo: TempRepo;
  let home: string;
  let env: Record<string, string>;
  let t: TmuxSession | undefined;
  /** while this file exists, `ssh` fails as an unreachable host does (exit 255) */
  let down: string;

  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'ao-remote-dash-'));
    const registry = path.join(home, 'engines');
    sshd = await startSshd({ sessionEnv: { AO_ENGINE_REGISTRY: registry, AO_DEMO_SPEED: '0' } });
    repo = await createTempRepo({ subdir: "far repo $(id) 'x'" });
    down = path.join(home, 'network-down');
    const partition = path.join(home, 'bin');
    mkdirSync(partition, { mode: 0o700 });
    writeFileSync(
      path.join(partition, 'ssh'),
      [
        '#!/bin/sh',
        `if [ -e '${down}' ]; then echo 'ssh: connect to host buildbox port 22: Network is unreachable' >&2; exit 255; fi`,
        `exec '${path.join(sshd.binDir, 'ssh')}' "$@"`,
        '',
      ].join('\n'),
      { mode: 0o700 },
    );
    env = {
      PATH: [partition, sshd.binDir, process.env.PATH].join(path.delimiter),
      XDG_CONFIG_HOME: path.join(home, 'config'),
      AO_ENGINE_REGISTRY: registry,
    };
    const added = await runCli(
      ['remote', 'add', 'box', `ssh://${sshd.user}@buildbox:${sshd.port}${encodeURI(repo.dir)}`],
      { env, cwd: home },
    );
    expect(added.code, added.stderr).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await t?.kill();
    rmSync(down, { force: true });
    await runCli(['--repo', repo.dir, 'engine', 'stop', '--yes'], { env, timeoutMs: 120_000 }).catch(() => undefined);
    await sshd?.stop();
    await repo?.cleanup();
    rmSync(home, { recursive: true, force: true });
  }, 180_000);

  it('creates a lane there, shows its screen, answers it in attach mode, approves it: merged on the remote', async () => {
    t = await startTmux({ command: [process.execPath, CLI, '--remote', 'box'], cwd: home, env, cols: 180, rows: 36 });
    let screen = await t.waitFor((s) => HEADER.exec(s)?.[1] === '1', 'the remote dashboard, connected', 60_000);
    expect(groupRow(screen)).toContain(`buildbox:${repo.dir}`);

    await t.press(keyOf('lane.new'));
    await t.waitFor('New lane', 'the new lane form');
    await t.type('far'); // after the `box/` the form starts with
    await t.press(keyOf('form.next'));
    const chosen = (s: string) => /^[› ] profile .*?\[([^\]]+)\]/m.exec(s)?.[1];
    screen = await t.waitFor((s) => chosen(s) !== undefined, 'the profile field');
    for (let i = 0; chosen(screen) !== 'demo'; i++) {
      if (i > 20) throw new Error(`no demo profile in the form:\n${screen}`);
      const before = chosen(screen);
      await t.press(keyOf('form.choiceNext'));
      screen = await t.waitFor((s) => chosen(s) !== before, 'the next profile');
    }
    await t.press(keyOf('form.next'));
    await t.type('ask, then create file far.txt');
    await t.press(keyOf('form.submit'));

    // its screen, drawn from the remote engine's emulator
    await t.waitFor(
      (s) => laneState(s, 'far') === 'waiting input' && s.includes('Allow write to far.txt? [y/n]'),
      'the remote lane asking, its screen in the focus pane',
      90_000,
    );
    await t.press(keyOf('lane.attach'));
    await t.waitFor('attached to box/far', 'attach mode over ssh');
    await t.press('y', 'enter');
    screen = await t.waitFor((s) => HEADER.test(s) || /Committed 1 file: far\.txt/.test(s), 'the answer taken', 60_000);
    if (!HEADER.test(screen)) {
      await t.press(DETACH);
      await t.waitFor((s) => HEADER.test(s), 'the dashboard after ctrl-]');
    }
    await t.waitFor((s) => laneState(s, 'far') === 'awaiting approval', 'far awaiting approval', 120_000);
    await t.press(keyOf('review.approve'));
    await t.waitFor((s) => laneState(s, 'far') === 'merged' || s.includes('y/enter yes'), 'merged or a confirmation');
    if ((await t.capture()).includes('y/enter yes')) await t.press(keyOf('confirm.yes'));
    await t.waitFor((s) => laneState(s, 'far') === 'merged', 'far merged', 90_000);
    expect((await git(['show', 'main:far.txt'], { cwd: repo.dir })).stdout).toMatch(/Created by the ao-demo agent/);

    // the history of a remote is on its host: the dashboard says how to replay it there (never a local store)
    await t.press(keyOf('history.open'));
    await t.waitFor('`ao-console --remote box replay` plays them there', 'where the remote history is');
  }, 300_000);

  it('a dropped link shows the remote disconnected, the lane runs on there, and the dashboard reconnects by itself', async () => {
    const made = await runCli(
      [
        '--remote',
        'box',
        'ctl',
        'new',
        '--name',
        'stays',
        '--profile',
        'demo',
        '--task',
        'ask about create file stays.txt',
      ],
      { env, cwd: home, timeoutMs: 60_000 },
    );
    expect(made.code, made.stderr).toBe(0);
    await t!.waitFor((s) => laneState(s, 'stays') === 'waiting input', 'stays waiting', 90_000);

    // the network goes down and the link with it
    writeFileSync(down, '');
    const links = sshd.clientPids();
    expect(links.length).toBeGreaterThan(0);
    for (const pid of links) process.kill(pid, 'SIGKILL');
    const screen = await t!.waitFor(
      (s) =>
        /disconnected — retrying in \d+s/.test(groupRow(s) ?? '') &&
        HEADER.exec(s)?.[1] === '0' &&
        s.includes('Network is unreachable'),
      "the remote shown disconnected, with ssh's words from the retry",
      30_000,
    );
    // its last known lanes stay listed
    expect(laneRow(screen, 'stays')).toBeDefined();

    // on the host, the lane never noticed: still there, still asking
    const onHost = await runCli(['--repo', repo.dir, 'ctl', 'status', '--json'], { env, timeoutMs: 30_000 });
    expect(onHost.code, onHost.stderr).toBe(0);
    const lanes = (JSON.parse(onHost.stdout) as { lanes: { name: string; state: string; pid?: number }[] }).lanes;
    expect(lanes.find((l) => l.name === 'stays')?.state).toBe('waiting-input');

    // the network is back: the dashboard reconnects on its own and the lane is live again
    rmSync(down);
    await t!.waitFor((s) => HEADER.exec(s)?.[1] === '1', 'the remote connected again', 90_000);
    const stopped = await runCli(['--remote', 'box', 'ctl', 'stop', 'stays'], { env, cwd: home, timeoutMs: 60_000 });
    expect(stopped.code, stopped.stderr).toBe(0);
    await t!.waitFor((s) => /stopped/.test(laneRow(s, 'stays') ?? ''), 'the stop seen live over the new link', 60_000);
    expect(existsSync(down)).toBe(false);
  }, 300_000);

  it('--all shows the remote among every engine, named after it', async () => {
    await t?.kill();
    t = await startTmux({ command: [process.execPath, CLI, '--all'], cwd: home, env, cols: 180, rows: 36 });
    const screen = await t.waitFor(
      (s) => /^▾ box · \d+ lanes? · connected · .*buildbox:/m.test(s),
      'the remote group in the all-engines view',
      60_000,
    );
    expect(screen).toMatch(/^ao-console · all engines · \d+ engines?, \d+ connected/m);
    expect(laneRow(screen, 'far')).toMatch(/merged/);
  }, 120_000);
});
