/**
 * The built-in agent profiles against the real agent CLIs (installed from the npm registry into a
 * cache outside the project, see test/helpers/agentCache.ts). Without network, Codex and Gemini
 * CLI show their interactive sign-in / trust screens, opencode starts working on the task and
 * keeps trying to reach its model, and Claude Code prints a connection error and exits.
 *
 * For each program a lane starts it with its profile, and the same argv runs in tmux at the same
 * size, in the same worktree, with the same environment (read from the lane's process), except
 * for HOME (a second fresh temp dir, so neither run sees what the other wrote) and
 * AO_PROC_TOKEN (the tmux twin gets its own, so the lane's reaper never touches it and the test
 * can reap the twin). The lane's screen must equal tmux's `capture-pane`, line by line after
 * trimming trailing spaces. HOME is a temp dir, so no real credentials or config are read.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';
import { waitFor } from '../helpers/waitFor.js';
import type { AgentCache, AgentName } from '../helpers/agentCache.js';
import { useAgentCache, useCleanups } from '../helpers/agentLoop.js';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { newProcToken } from '../../lanes/process/agentEnv.js';
import { stopProcessTree } from '../../lanes/process/reaper.js';
import { expandArgs } from '../../profiles/loader.js';
import { decodeChunk } from '../../lanes/store/output.js';

const run = promisify(execFile);
const COLS = 100;
const ROWS = 30;
const TASK = 'add a README section about testing';
const DOWN = '\x1b[B';

const need = useAgentCache();

interface Twin {
  /** tmux's screen, one line per row, trailing spaces trimmed */
  screen: () => Promise<string[]>;
  sendKeys: (...keys: string[]) => Promise<void>;
}

interface Pair {
  sup: Supervisor;
  lane: string;
  stateDir: string;
  laneScreen: () => string[];
  twin: Twin;
}

const trim = (rows: string[]) => rows.map((r) => r.replace(/\s+$/, ''));

/**
 * Gemini CLI's own inputs that differ between two runs, fixed in both HOMEs: its update check asks
 * the npm registry and, when the answer comes in time, adds a "Gemini CLI update available!" row
 * (and may start an install); settings in ~/.gemini/settings.json turn both off.
 */
async function quietGemini(home: string): Promise<void> {
  await mkdir(path.join(home, '.gemini'), { recursive: true });
  const settings = { general: { enableAutoUpdate: false, enableAutoUpdateNotification: false } };
  await writeFile(path.join(home, '.gemini', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
}

/**
 * The rows of the last box on the screen (the dialog under test), from its top corner to its bottom
 * one. Gemini CLI writes the rows above its dialog (tips, "Skipping project agents…", warnings)
 * from startup work that finishes in a different order from run to run, so they are not compared:
 * the dialog carries the state the test is about.
 */
function dialogBox(rows: string[]): string[] {
  let end = rows.length - 1;
  while (end >= 0 && !/^\s*╰/.test(rows[end])) end--;
  let start = end;
  while (start >= 0 && !/^\s*╭/.test(rows[start])) start--;
  return start < 0 ? rows : rows.slice(start, end + 1);
}

describe('built-in profiles with the real agent CLIs', () => {
  const cleanups = useCleanups();

  async function tempDir(prefix: string): Promise<string> {
    const dir = await realpath(await mkdtemp(path.join(tmpdir(), prefix)));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Starts `program` in a lane with its built-in profile, and the same argv in tmux. */
  async function startPair(program: AgentName, c: AgentCache): Promise<Pair> {
    const repo: TempRepo = await createTempRepo();
    cleanups.push(() => repo.cleanup());
    const laneHome = await tempDir('ao-agent-home-');
    const twinHome = await tempDir('ao-agent-home-');
    if (program === 'gemini') for (const home of [laneHome, twinHome]) await quietGemini(home);
    const sup = await createSupervisor({
      repoRoot: repo.dir,
      stateDir: repo.stateDir,
      cols: COLS,
      rows: ROWS,
      env: {
        PATH: `${c.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        HOME: laneHome,
        LANG: 'C.UTF-8',
        USER: process.env.USER ?? 'ao',
      },
      tickMs: 100,
      stopGraceMs: 1000,
    });
    const lane = program;
    let exited = false;
    sup.on((e) => {
      if (e.type === 'lane-exit' && e.lane === lane) exited = true;
    });
    cleanups.push(async () => {
      // Stop the agent and see it exit before the supervisor closes its recorder and database:
      // shutdown waits only 5 s for an exit, and a late exit then writes to a closed database.
      await sup.stop(lane).catch(() => {});
      await waitFor(() => exited, `${lane} to exit`, 30_000).catch(() => {});
      await sup.shutdown('test over');
    });
    const snap = await sup.newLane({ name: lane, profile: program, task: TASK });

    // The lane's exact environment, from its process (the exit shim runs the agent with it).
    const db = new Database(path.join(repo.stateDir, 'ao.db'), { readonly: true });
    const { pid } = db.prepare('SELECT pid FROM lanes WHERE name = ?').get(lane) as { pid: number };
    db.close();
    // (read once the shim's exec is done: before it, the environment is the test's own, and
    // during it /proc shows none)
    let environ = '';
    for (let tries = 0; tries < 100 && !environ.includes('AO_LANE='); tries++) {
      if (tries > 0) await new Promise((r) => setTimeout(r, 50));
      environ = await readFile(`/proc/${pid}/environ`, 'utf8');
    }
    const env = Object.fromEntries(
      environ
        .split('\0')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    expect(env.HOME).toBe(laneHome);
    const twinToken = newProcToken();
    Object.assign(env, { HOME: twinHome, AO_PROC_TOKEN: twinToken });

    const profile = sup.profiles.get(program)!;
    const { command, args } = expandArgs(profile, {
      task: TASK,
      lane,
      worktree: snap.worktree,
      briefingFile: path.join(repo.stateDir, 'briefings', `${lane}.md`),
    });
    const sockDir = await tempDir('ao-tmux-');
    const sock = path.join(sockDir, 'sock');
    const conf = path.join(sockDir, 'tmux.conf');
    await writeFile(conf, 'set -g status off\nset -g remain-on-exit off\n');
    const tmux = (...a: string[]) => run('tmux', ['-S', sock, '-f', conf, ...a], { encoding: 'utf8' });
    // `sh -c '"$@"; exec sleep …'`: like the lane's exit shim, keeps the pane (and the last screen) after the agent exits.
    await tmux(
      'new-session',
      '-d',
      '-s',
      'twin',
      '-x',
      String(COLS),
      '-y',
      String(ROWS),
      '-c',
      snap.worktree,
      'env',
      '-i',
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      '/bin/sh',
      '-c',
      '"$@"; exec sleep 100000',
      'twin',
      command,
      ...args,
    );
    const panePid = Number((await tmux('display-message', '-p', '-t', 'twin', '#{pane_pid}')).stdout.trim());
    cleanups.push(async () => {
      await tmux('kill-server').catch(() => {});
      // Codex and Gemini CLI outlive SIGHUP: reap the twin's processes by its own token.
      await stopProcessTree({ pid: panePid, procToken: twinToken, graceMs: 500 });
    });
    return {
      sup,
      lane,
      stateDir: repo.stateDir,
      laneScreen: () => trim(sup.screenText(lane)),
      twin: {
        screen: async () =>
          trim((await tmux('capture-pane', '-p', '-t', 'twin')).stdout.replace(/\n$/, '').split('\n')),
        sendKeys: async (...keys) => void (await tmux('send-keys', '-t', 'twin', ...keys)),
      },
    };
  }

  /** Waits until the lane and tmux show the same screen (after `mask`) containing `text`; then asserts equality. */
  async function sameScreen(
    p: Pair,
    text: string,
    mask: (rows: string[]) => string[] = (r) => r,
    ms = 90_000,
  ): Promise<string[]> {
    let lane: string[] = [];
    let twin: string[] = [];
    await waitFor(
      async () => {
        lane = mask(p.laneScreen());
        twin = mask(await p.twin.screen());
        return lane.join('\n').includes(text) && lane.join('\n') === twin.join('\n');
      },
      `lane and tmux both showing "${text}"`,
      ms,
      250,
    ).catch(() => {});
    expect(lane).toEqual(twin);
    expect(lane.join('\n')).toContain(text);
    expect(p.laneScreen()).toHaveLength(ROWS);
    return lane;
  }

  const state = (p: Pair) => p.sup.getLane(p.lane)?.state;

  it('Claude Code: the lane fails with the connection error on screen and in the recording', async (ctx) => {
    const c = need(ctx);
    const p = await startPair('claude', c);
    await waitFor(() => state(p) === 'failed', `claude lane to fail (is ${state(p)})`, 90_000);
    expect(p.sup.getLane(p.lane)!.exitCode).toBe(1);
    const screen = await sameScreen(p, 'Unable to connect to Anthropic services');
    expect(screen.join('\n')).toContain(`Welcome to Claude Code v${c.versions.claude}`);
    const db = new Database(path.join(p.stateDir, 'ao.db'), { readonly: true });
    const chunks = db
      .prepare('SELECT data, enc FROM output_chunks c JOIN lanes l ON l.id = c.lane_id WHERE l.name = ? ORDER BY seq')
      .all(p.lane) as { data: Buffer; enc: number }[];
    db.close();
    // Claude Code moves the cursor between words (CSI n G) instead of writing spaces: read the
    // recording as text by turning those moves into a space and dropping the other escapes.
    const recorded = Buffer.concat(chunks.map((r) => decodeChunk(r.enc, r.data)))
      .toString('utf8')
      .replace(/\x1b\[\d*G/g, ' ')
      .replace(/\x1b\[[0-9;?<>=]*[A-Za-z]/g, '')
      .replace(/ +/g, ' ');
    expect(recorded).toContain('Unable to connect to Anthropic services');
    expect(recorded).toContain('Failed to connect to api.anthropic.com');
  }, 240_000);

  it('Codex CLI: the sign-in screen reads waiting-input and an arrow key moves its selection', async (ctx) => {
    const p = await startPair('codex', need(ctx));
    const before = await sameScreen(p, 'Sign in with ChatGPT');
    expect(before.join('\n')).toMatch(/^> 1\. Sign in with ChatGPT/m);
    await waitFor(() => state(p) === 'waiting-input', `codex lane waiting-input (is ${state(p)})`, 30_000);
    p.sup.send(p.lane, DOWN);
    await p.twin.sendKeys('Down');
    const after = await sameScreen(p, '> 2. Sign in with Device Code');
    expect(after).not.toEqual(before);
    expect(after.join('\n')).not.toMatch(/^> 1\./m);
  }, 240_000);

  it('Gemini CLI: the trust screen reads waiting-input and an arrow key moves its selection', async (ctx) => {
    const p = await startPair('gemini', need(ctx));
    const before = await sameScreen(p, 'Do you trust the files in this folder?', dialogBox);
    expect(before.join('\n')).toMatch(/● 1\. Trust folder/);
    await waitFor(() => state(p) === 'waiting-input', `gemini lane waiting-input (is ${state(p)})`, 30_000);
    p.sup.send(p.lane, DOWN);
    await p.twin.sendKeys('Down');
    const after = await sameScreen(p, '● 2. Trust parent folder', dialogBox);
    expect(after).not.toEqual(before);
    expect(after.join('\n')).not.toMatch(/● 1\./);
  }, 240_000);

  it('opencode: the lane shows it working on the task and reads busy', async (ctx) => {
    const p = await startPair('opencode', need(ctx));
    // Its progress bar animates (⬝ and ■ cells move every frame): masked to one glyph.
    const mask = (rows: string[]) => rows.map((r) => r.replace(/[⬝■]/g, '·'));
    // opencode starts slowly without network (about 30 s idle, longer on a loaded machine).
    await sameScreen(p, TASK, mask, 180_000);
    // The screens agree first on the prompt with the task typed in, then it starts working.
    await waitFor(() => /esc interrupt/.test(p.laneScreen().join('\n')), 'opencode working (esc interrupt)', 120_000);
    await waitFor(() => state(p) === 'running', `opencode lane running (is ${state(p)})`, 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(state(p)).toBe('running');
  }, 300_000);
});
