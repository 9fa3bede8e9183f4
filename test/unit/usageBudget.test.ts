/**
 * The usage tracker (lanes/usage/tracker.ts) with a real store (SQLite in a temp dir) and real
 * Claude Code transcript lines (the shape of test/fixtures/usage/claude) written as a test goes:
 * totals stored, what grew added to the day, the budget warned at 80%, the agent paused at 100%
 * (a signal spy stands in for the process group), resumed when the budget is raised or the lane
 * released. The real agent paused by the real engine: test/integration/usageBudget.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDb, type Db } from '../../lanes/store/open.js';
import { createSession } from '../../lanes/store/sessions.js';
import { insertLane } from '../../lanes/store/lanes.js';
import { costByOutcome, dayCost, dayOf, getLaneUsage } from '../../lanes/store/usage.js';
import { UsageTracker, type UsageHost } from '../../lanes/usage/tracker.js';
import type { UsageConfig } from '../../lanes/config/repoConfig.js';
import { claudeProjectDir } from '../../lanes/usage/claude.js';
import { upsertClosure, insertDecision } from '../../lanes/store/review.js';

const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'usage', 'claude', '.claude', 'projects');

const dirs: string[] = [];
const dbs: Db[] = [];
const trackers: UsageTracker[] = [];
afterEach(() => {
  for (const t of trackers.splice(0)) t.close();
  for (const d of dbs.splice(0)) d.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A real assistant line of Claude Code 2.1.330 (from the fixture), to be given new ids and figures. */
function assistantTemplate(): Record<string, unknown> {
  const dir = path.join(FIXTURE, '-home-agent-work-repo');
  const file = path.join(dir, readdirSync(dir)[0]);
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.includes('"type":"assistant"'))!;
  return JSON.parse(line) as Record<string, unknown>;
}

interface World {
  db: Db;
  laneId: number;
  tracker: UsageTracker;
  config: UsageConfig;
  notices: string[];
  paused: string[];
  signals: string[];
  /** appends one reply of `input` (uncached) and `output` tokens, claude-sonnet-4-5, to the lane's transcript */
  reply(input: number, output: number): void;
  alive: boolean;
}

let seq = 0;

function world(budget: UsageConfig['budget'] = {}): World {
  const dir = mkdtempSync(path.join(tmpdir(), 'ao-usage-budget-'));
  dirs.push(dir);
  const db = openDb(path.join(dir, 'ao.db'));
  dbs.push(db);
  const session = createSession(db, { repo: dir });
  const cwd = path.join(dir, 'wt');
  const lane = insertLane(db, {
    name: 'l1',
    sessionId: session.id,
    profile: 'claude',
    task: 't',
    branch: 'ao/l1',
    base: 'main',
    worktree: cwd,
    createdAt: Date.now() - 1000,
    cols: 80,
    rows: 24,
  });
  const home = path.join(dir, 'home');
  const projects = path.join(home, '.claude', 'projects', claudeProjectDir(cwd));
  mkdirSync(projects, { recursive: true });
  const transcript = path.join(projects, 'session.jsonl');
  const template = assistantTemplate();
  const w: World = {
    db,
    laneId: lane.id,
    config: { prices: {}, budget },
    notices: [],
    paused: [],
    signals: [],
    alive: true,
    tracker: null as unknown as UsageTracker,
    reply(input, output) {
      const msg = template.message as Record<string, unknown>;
      const line = {
        ...template,
        cwd,
        timestamp: new Date().toISOString(),
        message: {
          ...msg,
          id: `msg_test_${++seq}`,
          usage: {
            input_tokens: input,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
            output_tokens: output,
          },
        },
      };
      appendFileSync(transcript, `${JSON.stringify(line)}\n`);
    },
  };
  const host: UsageHost = {
    db,
    config: () => w.config,
    agentPid: () => (w.alive ? 4242 : null),
    notice: (_lane, message) => w.notices.push(message),
    paused: (_lane, reason) => w.paused.push(reason),
    signal: (pid, signal) => w.signals.push(`${signal} ${pid}`),
  };
  w.tracker = new UsageTracker(host, { pollMs: 3_600_000 });
  trackers.push(w.tracker);
  w.tracker.started({ id: lane.id, name: 'l1', createdAt: lane.createdAt, worktree: cwd }, 'claude', { HOME: home });
  return w;
}

describe('the usage tracker', () => {
  it('stores the totals, priced from the table while Claude Code wrote no cost-state, and adds what grew to the day', () => {
    const w = world();
    w.tracker.tick();
    expect(getLaneUsage(w.db, w.laneId)).toBeNull(); // nothing read yet: nothing stored
    w.reply(1000, 100);
    w.tracker.tick();
    // claude-sonnet-4-5 from the table: 1000 * 3 + 100 * 15 per Mtok
    expect(w.tracker.usageOf(w.laneId)).toMatchObject({
      inputTokens: 1000,
      cachedInputTokens: 0,
      outputTokens: 100,
      priced: 'table',
    });
    expect(w.tracker.usageOf(w.laneId)!.costUsd).toBeCloseTo(0.0045, 10);
    w.reply(2000, 0);
    w.tracker.update(w.laneId);
    expect(getLaneUsage(w.db, w.laneId)).toMatchObject({ inputTokens: 3000, outputTokens: 100 });
    expect(dayCost(w.db, dayOf(Date.now()))).toBeCloseTo(0.0105, 10);
    expect(getLaneUsage(w.db, w.laneId)!.models.map((m) => m.model)).toEqual(['claude-sonnet-4-5']);
  });

  it('warns at 80% of the lane budget, pauses at 100%, and goes on when the budget is raised', () => {
    const w = world({ laneUsd: 1 });
    w.reply(250_000, 0); // $0.75
    w.tracker.tick();
    expect(w.notices).toEqual([]);
    expect(w.signals).toEqual([]);
    w.reply(20_000, 0); // $0.81
    w.tracker.tick();
    expect(w.notices).toHaveLength(1);
    expect(w.notices[0]).toMatch(/has used 81% of its lane budget \(\$0\.8100 of \$1\.00\)/);
    w.tracker.tick();
    expect(w.notices).toHaveLength(1); // told once
    w.reply(70_000, 0); // $1.02
    w.tracker.tick();
    expect(w.signals).toEqual(['SIGSTOP 4242']);
    expect(w.paused).toHaveLength(1);
    expect(w.paused[0]).toMatch(/^budget reached: \$1\.02 of its lane budget \$1\.00; agent paused/);
    expect(w.tracker.usageOf(w.laneId)!.paused).toBe(w.paused[0]);
    w.tracker.tick();
    expect(w.signals).toEqual(['SIGSTOP 4242']); // paused once
    w.config = { prices: {}, budget: { laneUsd: 2 } };
    w.tracker.configChanged();
    expect(w.signals).toEqual(['SIGSTOP 4242', 'SIGCONT 4242']);
    expect(w.notices.at(-1)).toMatch(/budget raised/);
    expect(w.tracker.usageOf(w.laneId)!.paused).toBeUndefined();
  });

  it("pauses every lane at the repo's daily budget; a released lane's agent is resumed so it can exit", () => {
    const w = world({ dayUsd: 0.5 });
    w.reply(200_000, 0); // $0.60
    w.tracker.tick();
    expect(w.signals).toEqual(['SIGSTOP 4242']);
    expect(w.paused[0]).toMatch(/of the repo's budget for today \$0\.5000/);
    w.tracker.released(w.laneId);
    expect(w.signals).toEqual(['SIGSTOP 4242', 'SIGCONT 4242']);
  });

  it('a paused agent that exits ends its pause: nothing is signalled to the gone process', () => {
    const w = world({ laneUsd: 0.1 });
    w.reply(100_000, 0); // $0.30
    w.tracker.tick();
    expect(w.signals).toEqual(['SIGSTOP 4242']);
    w.alive = false;
    w.tracker.exited(w.laneId);
    expect(w.tracker.usageOf(w.laneId)!.paused).toBeUndefined();
    w.config = { prices: {}, budget: { laneUsd: 5 } };
    w.tracker.configChanged();
    w.tracker.released(w.laneId);
    expect(w.signals).toEqual(['SIGSTOP 4242']);
  });

  it('a lower budget than spent pauses at the next read; a lane whose agent is not running is not signalled', () => {
    const w = world();
    w.reply(100_000, 0); // $0.30
    w.tracker.tick();
    w.alive = false;
    w.config = { prices: {}, budget: { laneUsd: 0.1 } };
    w.tracker.configChanged();
    expect(w.signals).toEqual([]);
    w.alive = true;
    w.tracker.configChanged();
    expect(w.signals).toEqual(['SIGSTOP 4242']);
  });

  it('the repo config prices a model over the table', () => {
    const w = world();
    w.config = { prices: { 'claude-sonnet-4-5': { input: 10, cachedInput: 1, output: 100 } }, budget: {} };
    w.reply(1_000_000, 1000);
    w.tracker.tick();
    expect(w.tracker.usageOf(w.laneId)!.costUsd).toBeCloseTo(10.1, 10);
  });

  it('cost per merged and per rejected lane (metrics) from the stored usage', () => {
    const w = world();
    w.reply(1_000_000, 0); // $3
    w.tracker.tick();
    expect(costByOutcome(w.db)).toEqual({ merged: { lanes: 0, usd: 0 }, rejected: { lanes: 0, usd: 0 } });
    insertDecision(w.db, w.laneId, {
      lane: 'l1',
      action: 'reject',
      mode: 'discard',
      reason: 'no',
      override: false,
      by: 'me',
      at: Date.now(),
    });
    upsertClosure(w.db, w.laneId, 'discarded', {});
    expect(costByOutcome(w.db).rejected).toEqual({ lanes: 1, usd: 3 });
  });
});
