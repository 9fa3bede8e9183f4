/**
 * The harness for real agent CLIs through a whole task in a lane of a real repo, against the
 * scripted model server (test/model/server.ts): the task reaches the model; the model asks to
 * write a file; the agent's permission prompt shows and the lane reads waiting-input; a key typed
 * into the lane approves it; the file is written; the turn ends and the lane hands off (through
 * the agent's own hook, wired by its profile without writing into the worktree or the user's
 * config); gates run; the lane awaits approval; a rejection's reason reaches the model in the next
 * request; the agent writes again and hands off again; approve merges it and the file is on the
 * base branch.
 *
 * The CLIs come from the npm registry into a cache folder (test/helpers/agentCache.ts); HOME is a
 * temp dir, so no real credentials or config are read. The engine runs in-process (the real
 * Supervisor) with its control socket, so the agents' hooks reach it through `ao-console ctl`.
 * One test file per agent (test/integration/agentLoop.<agent>.test.ts) calls agentLoopHarness()
 * inside its describe.
 */
import { afterEach, beforeAll, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createTempRepo, type TempRepo } from './tempRepo.js';
import { waitFor } from './waitFor.js';
import { ensureAgentCache, type AgentCache } from './agentCache.js';
import { startModelServer, type ModelServer, type Step } from '../model/server.js';
import { prepareAgent, type LoopAgent } from '../model/agents.js';
import { createSupervisor, type Supervisor } from '../../lanes/supervisor/supervisor.js';
import { startControlServer, type ControlServer } from '../../lanes/control/server.js';
import { socketFile, worktreesDir } from '../../lanes/config/paths.js';
import { git } from '../../lanes/git/git.js';
import type { LaneState } from '../../lanes/lane/types.js';
import { expectUsageMatches } from './usageCheck.js';

/** What differs per agent in the loop. */
export interface LoopSpec {
  agent: LoopAgent;
  /** the permission prompt's text on screen, first write and overwrite */
  prompt: RegExp;
  overwritePrompt: RegExp;
  /** the key that accepts the permission prompt */
  approveKey: string;
  /** how long the agent may take to start and answer (opencode is slow) */
  slowMs: number;
  /** the event cause the handoff came through (the agent's hook: `control`; else idle) */
  handoffCause: RegExp;
  /** the model's replies, when the agent needs other steps than loopScript() (e.g. an edit to rewrite) */
  script?: Step[];
}

export const TASK = 'create hello.txt saying hello';
export const REASON = 'say hello world instead of hello';
export const U1 = { inputTokens: 1200, cachedInputTokens: 200, outputTokens: 50 };
export const U2 = { inputTokens: 1300, cachedInputTokens: 300, outputTokens: 7 };
export const U3 = { inputTokens: 2100, cachedInputTokens: 400, outputTokens: 60 };
export const U4 = { inputTokens: 2200, cachedInputTokens: 500, outputTokens: 8 };

export function loopScript(): Step[] {
  return [
    { tool: 'write', path: 'hello.txt', content: 'hello\n', usage: U1 },
    { text: 'done: hello.txt says hello', usage: U2 },
    { tool: 'write', path: 'hello.txt', content: 'hello world\n', usage: U3 },
    { text: 'done: hello.txt says hello world', usage: U4 },
  ];
}

/**
 * The real Supervisor for a real agent CLI in `repo`: the CLIs of `cache` first on PATH, HOME the
 * test's temp HOME, `env` the agent's setup (test/model/agents.ts), fast ticks.
 */
export function agentSupervisor(opts: {
  repo: TempRepo;
  cache: AgentCache;
  home: string;
  env: Record<string, string>;
  usagePollMs?: number;
}): Promise<Supervisor> {
  return createSupervisor({
    repoRoot: opts.repo.dir,
    stateDir: opts.repo.stateDir,
    cols: 100,
    rows: 30,
    env: {
      PATH: `${opts.cache.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: opts.home,
      LANG: 'C.UTF-8',
      USER: process.env.USER ?? 'ao',
      ...opts.env,
    },
    tickMs: 100,
    ...(opts.usagePollMs === undefined ? {} : { usagePollMs: opts.usagePollMs }),
    stopGraceMs: 1000,
  });
}

export interface Loop {
  sup: Supervisor;
  server: ModelServer;
  repo: TempRepo;
  home: string;
  lane: string;
  worktree: string;
  state: () => LaneState | undefined;
  screen: () => string;
  causes: () => { to: string; cause: string }[];
}

/**
 * The agent CLIs (installed once, beforeAll) for the tests of the calling describe or file:
 * `need(ctx)` returns them, or skips the test saying why they are missing.
 */
export function useAgentCache(): (ctx: { skip: (note?: string) => void }) => AgentCache {
  let cache: AgentCache | null = null;
  let skipReason = '';
  beforeAll(async () => {
    const res = await ensureAgentCache();
    if (res.ok) cache = res.cache;
    else skipReason = res.skip;
  }, 600_000);
  return (ctx) => {
    if (!cache) ctx.skip(skipReason || 'agent CLIs not installed');
    return cache!;
  };
}

/** What a test pushes here runs after it (afterEach), last pushed first, errors ignored. */
export function useCleanups(): (() => Promise<unknown>)[] {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {});
  });
  return cleanups;
}

/**
 * Registers the agent cache install and the cleanups in the calling describe, and returns the
 * loop's steps.
 */
export function agentLoopHarness() {
  const need = useAgentCache();
  const cleanups = useCleanups();

  async function tempDir(prefix: string): Promise<string> {
    const dir = await realpath(await mkdtemp(path.join(tmpdir(), prefix)));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  async function startLoop(spec: LoopSpec, c: AgentCache): Promise<Loop> {
    const repo = await createTempRepo();
    cleanups.push(() => repo.cleanup());
    const home = await tempDir(`ao-loop-${spec.agent}-`);
    const lane = `loop-${spec.agent}`;
    const worktree = path.join(worktreesDir(repo.stateDir), lane);
    const server = await startModelServer({ script: spec.script ?? loopScript(), cwd: worktree });
    cleanups.push(() => server.close());
    const setup = await prepareAgent(spec.agent, { home, url: server.url, worktree });
    const sup = await agentSupervisor({ repo, cache: c, home, env: setup.env });
    const control: ControlServer = await startControlServer(sup, socketFile(repo.stateDir));
    let exited = false;
    sup.on((e) => {
      if (e.type === 'lane-exit' && e.lane === lane) exited = true;
    });
    cleanups.push(async () => {
      await sup.stop(lane).catch(() => {});
      await waitFor(() => exited || !sup.getLane(lane), `${lane} to exit`, 30_000).catch(() => {});
      await control.close();
      await sup.shutdown('test over');
    });
    await sup.newLane({ name: lane, profile: spec.agent, task: TASK });
    expect(sup.getLane(lane)!.worktree).toBe(worktree);
    return {
      sup,
      server,
      repo,
      home,
      lane,
      worktree,
      state: () => sup.getLane(lane)?.state,
      screen: () => sup.screenText(lane).join('\n'),
      causes: () => {
        const db = new Database(path.join(repo.stateDir, 'ao.db'), { readonly: true });
        try {
          return db
            .prepare(
              'SELECT to_state AS "to", cause FROM lane_events e JOIN lanes l ON l.id = e.lane_id WHERE l.name = ? AND kind = \'state\' ORDER BY e.id',
            )
            .all(lane) as { to: string; cause: string }[];
        } finally {
          db.close();
        }
      },
    };
  }

  /** Every file under `dir` with its size and mtime (to see that nothing was changed). */
  async function snapshotFiles(dir: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const name of await readdir(dir, { recursive: true })) {
      const st = await stat(path.join(dir, name)).catch(() => null);
      if (st?.isFile()) out.set(name, `${st.size}:${st.mtimeMs}`);
    }
    return out;
  }

  /** The permission prompt shows; the lane reads waiting-input within 2 s of it; the key approves it. */
  async function approvePrompt(l: Loop, spec: LoopSpec, prompt: RegExp): Promise<void> {
    await waitFor(() => prompt.test(l.screen()), `${spec.agent} permission prompt ${prompt}`, spec.slowMs, 50);
    await waitFor(
      () => l.state() === 'waiting-input',
      `${l.lane} waiting-input within 2 s of its prompt (is ${l.state()})`,
      2000,
      20,
    );
    // An agent may drop a key that arrives while its dialog is still settling (Claude Code's second
    // dialog ignores an Enter typed in the same instant it shows, about half the time on this box).
    // As an operator would, press again while the prompt is still there after a moment.
    for (let attempt = 1; ; attempt++) {
      l.sup.send(l.lane, spec.approveKey);
      const answered = await waitFor(() => !prompt.test(l.screen()), `${spec.agent} prompt answered`, 3000, 50).then(
        () => true,
        () => false,
      );
      if (answered || attempt === 3) break;
    }
  }

  async function runLoop(spec: LoopSpec, c: AgentCache): Promise<Loop> {
    const l = await startLoop(spec, c);
    const reach = (s: LaneState, ms = spec.slowMs) =>
      waitFor(() => l.state() === s, `${l.lane} to be ${s} (is ${l.state()})\n${l.screen()}`, ms, 50);

    // 1. The task reaches the model.
    await l.server.waitForStep(1, spec.slowMs);
    expect(l.server.mainRequests()[0].text).toContain(TASK);
    // 2-3. The write is asked; the prompt reads waiting-input; a key approves it.
    const userConfig = await snapshotFiles(l.home);
    await approvePrompt(l, spec, spec.prompt);
    // 4. The file is written, the turn ends, the lane hands off and awaits approval.
    await waitFor(() => existsSync(path.join(l.worktree, 'hello.txt')), 'hello.txt written', spec.slowMs);
    await reach('awaiting-approval');
    expect(l.server.used).toBe(2);
    const handoff = l.causes().filter((e) => e.to === 'gating');
    expect(handoff.at(-1)!.cause).toMatch(spec.handoffCause);
    const review = await l.sup.review(l.lane);
    expect(review.diffStat.map((d) => d.path)).toEqual(['hello.txt']);
    expect(review.requiredPassed).toBe(true);
    expect(await readFile(path.join(l.worktree, 'hello.txt'), 'utf8')).toBe('hello\n');
    // The hooks came in through the command line: the user's own config files are as they were.
    const after = await snapshotFiles(l.home);
    for (const [file, sig] of userConfig) {
      if (/settings\.json$|config\.(toml|json)$|opencode\.json$/.test(file)) expect(after.get(file), file).toBe(sig);
    }

    // 5. Reject with a reason: it reaches the model in the next request (it was submitted).
    await l.sup.reject(l.lane, { reason: REASON, mode: 'rework' });
    await l.server.waitForStep(3, spec.slowMs);
    expect(l.server.mainRequests()[2].newText).toContain(REASON);
    await approvePrompt(l, spec, spec.overwritePrompt);
    await waitFor(
      async () => (await readFile(path.join(l.worktree, 'hello.txt'), 'utf8')) === 'hello world\n',
      'hello.txt rewritten',
      spec.slowMs,
    );
    await reach('awaiting-approval');
    expect(l.server.used).toBe(4);
    await l.sup.approve(l.lane, { wait: true });
    expect(l.state()).toBe('merged');
    const onBase = await git(['show', 'main:hello.txt'], { cwd: l.repo.dir });
    expect(onBase.stdout.trim()).toBe('hello world');
    const causes = l.causes();
    expect(causes.map((e) => e.to)).toEqual(
      expect.arrayContaining(['running', 'waiting-input', 'gating', 'awaiting-approval', 'merged']),
    );
    // 6. The lane's tokens and cost equal what the server sent (test/helpers/usageCheck.ts).
    await expectUsageMatches(l, spec.agent);
    return l;
  }

  return { startLoop, runLoop, approvePrompt, need, tempDir, snapshotFiles };
}
