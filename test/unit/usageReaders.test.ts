/**
 * The usage readers (lanes/usage/) against record files the real CLIs wrote when run against the
 * scripted model server (test/fixtures/usage/, captured with test/fixtures/usage/capture.ts: two
 * replies, U1 = 1200 input / 200 cached / 50 output and U2 = 1300 / 300 / 7). The captured HOME
 * was renamed to /home/agent, so the agent's cwd in every file is /home/agent/work/repo.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createUsageReader } from '../../lanes/usage/readers.js';
import { JsonlTail } from '../../lanes/usage/jsonl.js';
import type { UsageKind, UsageScope } from '../../lanes/usage/types.js';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'usage');
const CWD = '/home/agent/work/repo';
const SINCE = Date.parse('2026-12-02T06:00:00Z');
/** U1 + U2 as every CLI counts them here (input includes the cached part). */
const TOTAL = { inputTokens: 2500, cachedInputTokens: 500, outputTokens: 57 };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temp HOME holding the fixture of `kind`. */
function home(kind: UsageKind): string {
  const dir = mkdtempSync(path.join(tmpdir(), `ao-usage-${kind}-`));
  dirs.push(dir);
  cpSync(path.join(FIXTURES, kind), dir, { recursive: true });
  return dir;
}

function scope(h: string, over: Partial<UsageScope> = {}): UsageScope {
  return { env: { HOME: h }, cwd: CWD, since: SINCE, ...over };
}

const tokens = (m: { inputTokens: number; cachedInputTokens: number; outputTokens: number }) => ({
  inputTokens: m.inputTokens,
  cachedInputTokens: m.cachedInputTokens,
  outputTokens: m.outputTokens,
});

/** The one file of a fixture (its JSONL records), found under `sub`. */
function onlyFile(dir: string, ext: string): string {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(ext));
  expect(files).toHaveLength(1);
  return path.join(dir, files[0]);
}

describe('each reader finds the lane records of its real CLI', () => {
  const cases: { kind: UsageKind; model: string; agentCost: number | null }[] = [
    // Claude Code 2.1.330 prices its calls itself (cost-state): 2000*3 + 500*0.3 + 57*15 per Mtok
    { kind: 'claude', model: 'claude-sonnet-4-5', agentCost: 0.007005 },
    { kind: 'codex', model: 'gpt-5-codex', agentCost: null },
    { kind: 'gemini', model: 'gemini-2.5-flash', agentCost: null },
    // opencode prices from its config (the test config: 3 / 0.3 / 15 per Mtok)
    { kind: 'opencode', model: 'scripted-model', agentCost: 0.007005 },
    // Copilot CLI with your own provider reports cost 0: priced from the table
    { kind: 'copilot', model: 'gpt-5', agentCost: null },
  ];
  for (const c of cases) {
    it(`${c.kind}: U1 + U2, model ${c.model}`, () => {
      const reader = createUsageReader(c.kind, scope(home(c.kind)));
      const got = reader.read();
      expect(got.map((m) => m.model)).toEqual([c.model]);
      expect(tokens(got[0])).toEqual(TOTAL);
      if (c.agentCost === null) expect(got[0].agentCostUsd).toBeNull();
      else expect(got[0].agentCostUsd).toBeCloseTo(c.agentCost, 9);
      // read again with nothing new: the same totals (nothing counted twice)
      expect(tokens(reader.read()[0])).toEqual(TOTAL);
    });

    it(`${c.kind}: another worktree's or an older lane's records do not count`, () => {
      const h = home(c.kind);
      expect(createUsageReader(c.kind, scope(h, { cwd: '/home/agent/work/other' })).read()).toEqual([]);
      expect(createUsageReader(c.kind, scope(h, { since: Date.parse('2026-12-02T07:00:00Z') })).read()).toEqual([]);
    });

    it(`${c.kind}: no records at all (a fresh HOME) reads as nothing`, () => {
      const h = mkdtempSync(path.join(tmpdir(), 'ao-usage-empty-'));
      dirs.push(h);
      expect(createUsageReader(c.kind, scope(h)).read()).toEqual([]);
    });
  }

  it('claude: a resumed session (--continue) appends to its transcript; its cost-state is the running total', () => {
    // test/fixtures/usage/claude-continue: the session above, then `claude --continue` with two
    // more replies (3000 / 1000 cached / 30 out and 4000 / 2000 / 4): one session id, one file
    const dir = mkdtempSync(path.join(tmpdir(), 'ao-usage-claude-continue-'));
    dirs.push(dir);
    cpSync(path.join(FIXTURES, 'claude-continue'), dir, { recursive: true });
    const got = createUsageReader('claude', scope(dir)).read();
    expect(got.map(tokens)).toEqual([{ inputTokens: 9500, cachedInputTokens: 3500, outputTokens: 91 }]);
    expect(got[0].agentCostUsd).toBeCloseTo(0.020415, 9);
    expect(got[0].uncovered).toBeUndefined();
  });

  it('codex: a second rollout holding the same responses (a copied history) counts them once', () => {
    const h = home('codex');
    const file = onlyFile(h, '.jsonl');
    cpSync(file, file.replace(/rollout-/, 'rollout-copy-'));
    expect(tokens(createUsageReader('codex', scope(h)).read()[0])).toEqual(TOTAL);
  });

  it('claude: CLAUDE_CONFIG_DIR is where the transcripts are when set', () => {
    const h = home('claude');
    const elsewhere = path.join(h, 'cfg');
    cpSync(path.join(h, '.claude'), elsewhere, { recursive: true });
    rmSync(path.join(h, '.claude'), { recursive: true });
    expect(createUsageReader('claude', scope(h)).read()).toEqual([]);
    const got = createUsageReader('claude', scope(h, { env: { HOME: h, CLAUDE_CONFIG_DIR: elsewhere } })).read();
    expect(tokens(got[0])).toEqual(TOTAL);
  });

  it('codex: CODEX_HOME is where the rollouts are when set', () => {
    const h = home('codex');
    const got = createUsageReader(
      'codex',
      scope('/nonexistent', { env: { CODEX_HOME: path.join(h, '.codex') } }),
    ).read();
    expect(tokens(got[0])).toEqual(TOTAL);
  });
});

describe('reading incrementally', () => {
  /** Each JSONL reader: the records written in two parts, the cut inside a line. */
  for (const kind of ['claude', 'codex', 'gemini', 'copilot'] as const) {
    it(`${kind}: a half-written last line is read once it is complete; a damaged line is skipped`, () => {
      const h = home(kind);
      const file = onlyFile(h, '.jsonl');
      const text = readFileSync(file, 'utf8');
      const cut = Math.floor(text.length * 0.6);
      writeFileSync(file, text.slice(0, cut));
      const reader = createUsageReader(kind, scope(h));
      const first = reader.read();
      const firstOut = first.reduce((n, m) => n + m.outputTokens, 0);
      expect(firstOut).toBeLessThan(TOTAL.outputTokens);
      appendFileSync(file, text.slice(cut) + '{"type":"assistant", damaged\n');
      expect(tokens(reader.read()[0])).toEqual(TOTAL);
    });
  }

  it('claude: a reply written as several lines with one message id counts once', () => {
    const h = home('claude');
    const file = onlyFile(h, '.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const reply = lines.find((l) => l.includes('"type":"assistant"'))!;
    appendFileSync(file, `${reply}\n${reply}\n`);
    expect(tokens(createUsageReader('claude', scope(h)).read()[0])).toEqual(TOTAL);
  });

  it('JsonlTail reads a file that was rewritten (shorter) from its start', () => {
    const h = mkdtempSync(path.join(tmpdir(), 'ao-usage-tail-'));
    dirs.push(h);
    const file = path.join(h, 'a.jsonl');
    writeFileSync(file, '{"n":1}\n{"n":2}\n');
    const tail = new JsonlTail(file);
    expect(tail.readNew()).toEqual([{ n: 1 }, { n: 2 }]);
    expect(tail.readNew()).toEqual([]);
    writeFileSync(file, '{"n":3}\n');
    expect(tail.readNew()).toEqual([{ n: 3 }]);
    expect(tail.restarts).toBe(1);
    rmSync(file);
    expect(tail.readNew()).toEqual([]);
  });

  it('opencode: a locked database reads as nothing new, then catches up', () => {
    const h = home('opencode');
    const file = path.join(h, '.local', 'share', 'opencode', 'opencode.db');
    const reader = createUsageReader('opencode', scope(h));
    const lock = new Database(file);
    try {
      lock.exec('BEGIN EXCLUSIVE');
      expect(reader.read()).toEqual([]);
      lock.exec('COMMIT');
    } finally {
      lock.close();
    }
    expect(tokens(reader.read()[0])).toEqual(TOTAL);
  });

  it('opencode: a reply updated in place counts its latest figures once', () => {
    const h = home('opencode');
    const file = path.join(h, '.local', 'share', 'opencode', 'opencode.db');
    const reader = createUsageReader('opencode', scope(h));
    expect(tokens(reader.read()[0])).toEqual(TOTAL);
    const db = new Database(file);
    try {
      const rows = db.prepare('SELECT id, data, time_updated AS t FROM message').all() as {
        id: string;
        data: string;
        t: number;
      }[];
      const row = rows.find((r) => (JSON.parse(r.data) as { tokens?: { output?: number } }).tokens?.output === 7)!;
      const data = JSON.parse(row.data) as { tokens: { output: number } };
      data.tokens.output = 70;
      // as opencode does: the row's time_updated is now, after every earlier update
      const latest = Math.max(...rows.map((r) => r.t));
      db.prepare('UPDATE message SET data = ?, time_updated = ? WHERE id = ?').run(
        JSON.stringify(data),
        latest + 5,
        row.id,
      );
    } finally {
      db.close();
    }
    expect(tokens(reader.read()[0])).toEqual({ ...TOTAL, outputTokens: 50 + 70 });
  });
});
