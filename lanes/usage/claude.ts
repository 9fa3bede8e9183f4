/**
 * Claude Code's usage: its transcripts, `<config>/projects/<cwd, every character but letters and
 * digits made "-">/<session>.jsonl` (config: CLAUDE_CONFIG_DIR, else ~/.claude), and subagents'
 * under `<session>/subagents/`.
 *
 * - Tokens: `type: "assistant"` lines, `message.usage` (`input_tokens` without the cache,
 *   `cache_read_input_tokens`, `cache_creation_input_tokens`, `output_tokens`), `message.model`.
 *   One reply is written as several lines with the same `message.id` (one per content block):
 *   the last line of an id counts, once.
 * - Cost: Claude Code prices its own calls: `type: "cost-state"` lines carry the session's
 *   running `modelUsage[model]` (`costUSD` and the tokens it covers; 2.1.330 writes one after each
 *   turn). The latest one per session counts; tokens it does not cover yet (the turn under way)
 *   are priced from the table until the next one.
 * - Belongs to the lane: the line's `cwd` is the worktree and its `timestamp` is not older than
 *   the lane (a reused worktree path); a cost-state counts for sessions with such lines.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { DirList, JsonlTail } from './jsonl.js';
import {
  ZERO,
  count,
  homeOf,
  timeOf,
  type ModelUsage,
  type TokenCounts,
  type UsageReader,
  type UsageScope,
} from './types.js';

/** The transcript folder name Claude Code uses for a working directory. */
export function claudeProjectDir(cwd: string): string {
  return cwd.replace(/[^A-Za-z0-9]/g, '-');
}

export function claudeConfigDir(scope: UsageScope): string {
  return scope.env.CLAUDE_CONFIG_DIR || path.join(homeOf(scope), '.claude');
}

interface Reply extends TokenCounts {
  model: string;
  session: string;
}

interface Rec {
  type?: unknown;
  cwd?: unknown;
  timestamp?: unknown;
  sessionId?: unknown;
  message?: { id?: unknown; model?: unknown; usage?: Record<string, unknown> };
  modelUsage?: Record<string, Record<string, unknown>>;
}

export function createClaudeReader(scope: UsageScope): UsageReader {
  const projects = path.join(claudeConfigDir(scope), 'projects');
  const want = claudeProjectDir(scope.cwd);
  const tails = new Map<string, JsonlTail>();
  const replies = new Map<string, Reply>();
  const sessions = new Set<string>();
  /** session -> model -> cost so far and the tokens it covers (the latest cost-state) */
  const costs = new Map<string, Map<string, { cost: number; covers: TokenCounts }>>();

  const projectList = new DirList(projects);
  /** The transcript folders of the cwd (long names may be cut by Claude Code: a prefix matches). */
  const folders = (): string[] => {
    const names = projectList.list();
    return names.filter((n) => n === want || (n.length >= 100 && want.startsWith(n.slice(0, 100))));
  };

  const files = (dir: string): string[] => {
    const out: string[] = [];
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return out;
    }
    for (const e of entries) {
      if (e.isFile() && e.name.endsWith('.jsonl')) out.push(path.join(dir, e.name));
      else if (e.isDirectory()) {
        const sub = path.join(dir, e.name, 'subagents');
        try {
          for (const f of readdirSync(sub)) if (f.endsWith('.jsonl')) out.push(path.join(sub, f));
        } catch {
          // no subagents
        }
      }
    }
    return out;
  };

  const take = (r: Rec): void => {
    if (r.type === 'assistant' && r.message && typeof r.message.id === 'string') {
      if (r.cwd !== scope.cwd || !(timeOf(r.timestamp) >= scope.since)) return;
      const u = r.message.usage;
      const model = typeof r.message.model === 'string' ? r.message.model : 'unknown';
      if (!u || model === '<synthetic>') return;
      const cached = count(u.cache_read_input_tokens);
      const session = typeof r.sessionId === 'string' ? r.sessionId : '';
      sessions.add(session);
      replies.set(r.message.id, {
        model,
        session,
        inputTokens: count(u.input_tokens) + cached + count(u.cache_creation_input_tokens),
        cachedInputTokens: cached,
        outputTokens: count(u.output_tokens),
      });
    } else if (r.type === 'cost-state' && typeof r.sessionId === 'string' && r.modelUsage) {
      const byModel = new Map<string, { cost: number; covers: TokenCounts }>();
      for (const [model, mu] of Object.entries(r.modelUsage)) {
        if (typeof mu?.costUSD !== 'number' || !Number.isFinite(mu.costUSD)) continue;
        const cached = count(mu.cacheReadInputTokens);
        byModel.set(model, {
          cost: mu.costUSD,
          covers: {
            inputTokens: count(mu.inputTokens) + cached + count(mu.cacheCreationInputTokens),
            cachedInputTokens: cached,
            outputTokens: count(mu.outputTokens),
          },
        });
      }
      costs.set(r.sessionId, byModel);
    }
  };

  return {
    kind: 'claude',
    read() {
      for (const dir of folders()) {
        for (const file of files(path.join(projects, dir))) {
          let tail = tails.get(file);
          if (!tail) tails.set(file, (tail = new JsonlTail(file)));
          for (const r of tail.readNew()) if (r && typeof r === 'object') take(r as Rec);
        }
      }
      // per model and session: the tokens, and what the session's latest cost-state covers
      const key = (model: string, session: string) => `${model}\0${session}`;
      const tokens = new Map<string, TokenCounts & { model: string; session: string }>();
      for (const r of replies.values()) {
        const k = key(r.model, r.session);
        const t = tokens.get(k) ?? { model: r.model, session: r.session, ...ZERO };
        t.inputTokens += r.inputTokens;
        t.cachedInputTokens += r.cachedInputTokens;
        t.outputTokens += r.outputTokens;
        tokens.set(k, t);
      }
      const out = new Map<string, ModelUsage & { uncovered: TokenCounts }>();
      for (const t of tokens.values()) {
        const m = out.get(t.model) ?? { model: t.model, ...ZERO, agentCostUsd: null, uncovered: { ...ZERO } };
        m.inputTokens += t.inputTokens;
        m.cachedInputTokens += t.cachedInputTokens;
        m.outputTokens += t.outputTokens;
        const priced = costs.get(t.session)?.get(t.model);
        if (priced) m.agentCostUsd = (m.agentCostUsd ?? 0) + priced.cost;
        const covers = priced?.covers ?? ZERO;
        m.uncovered.inputTokens += Math.max(0, t.inputTokens - covers.inputTokens);
        m.uncovered.cachedInputTokens += Math.max(0, t.cachedInputTokens - covers.cachedInputTokens);
        m.uncovered.outputTokens += Math.max(0, t.outputTokens - covers.outputTokens);
        out.set(t.model, m);
      }
      // With no cost-state at all the model is priced from the table (agentCostUsd null).
      return [...out.values()].map(({ uncovered, ...m }) =>
        m.agentCostUsd !== null && uncovered.inputTokens + uncovered.outputTokens > 0 ? { ...m, uncovered } : m,
      );
    },
  };
}
