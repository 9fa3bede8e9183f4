/**
 * Codex CLI's usage: its rollout files, `<CODEX_HOME, else ~/.codex>/sessions/YYYY/MM/DD/rollout-*.jsonl`.
 *
 * - The first line (`session_meta`) names the session's `cwd`: a file counts for the lane when it
 *   is the worktree and the session is not older than the lane.
 * - Tokens: `token_usage_record` lines (0.169: one per model response, `payload.usage` with
 *   `input_tokens` counting the cached ones, `cached_input_tokens`, `output_tokens`; keyed by
 *   `response_id`). Rollouts without them (older versions) count the last `event_msg`
 *   `token_count`'s `info.total_token_usage` (the session's running total).
 * - Model: the latest `turn_context`'s `payload.model`. No cost: priced from the table.
 */
import path from 'node:path';
import { JsonlTail, filesNamed } from './jsonl.js';
import {
  count,
  homeOf,
  timeOf,
  type ModelUsage,
  type TokenCounts,
  type UsageReader,
  type UsageScope,
} from './types.js';

export function codexHome(scope: UsageScope): string {
  return scope.env.CODEX_HOME || path.join(homeOf(scope), '.codex');
}

const DAY = 86_400_000;
const pad = (n: number) => String(n).padStart(2, '0');

interface Rollout {
  tail: JsonlTail;
  /** null until the session_meta line is read; false: not this lane's */
  mine: boolean | null;
  model: string;
  /** how many token_usage_record lines it has (0: an older rollout, counted by its total) */
  records: number;
  /** the latest token_count total (fallback) */
  total: (TokenCounts & { model: string }) | null;
}

function counts(u: Record<string, unknown> | undefined): TokenCounts {
  return {
    inputTokens: count(u?.input_tokens),
    cachedInputTokens: count(u?.cached_input_tokens),
    outputTokens: count(u?.output_tokens),
  };
}

export function createCodexReader(scope: UsageScope): UsageReader {
  const sessions = path.join(codexHome(scope), 'sessions');
  const rollouts = new Map<string, Rollout>();
  /** response id -> tokens and model, over every rollout of the lane */
  const responses = new Map<string, TokenCounts & { model: string }>();

  /** The day folders from the lane's start (a day early, for time zones) to tomorrow. */
  const dayDirs = (): string[] => {
    const out: string[] = [];
    for (let t = scope.since - DAY; t <= Date.now() + DAY; t += DAY) {
      const d = new Date(t);
      out.push(path.join(sessions, String(d.getFullYear()), pad(d.getMonth() + 1), pad(d.getDate())));
    }
    return [...new Set(out)];
  };

  const take = (r: Rollout, line: Record<string, unknown>): void => {
    const payload = (line.payload ?? {}) as Record<string, unknown>;
    if (line.type === 'session_meta') {
      r.mine = payload.cwd === scope.cwd && timeOf(payload.timestamp ?? line.timestamp) >= scope.since;
      return;
    }
    if (!r.mine) return;
    if (line.type === 'turn_context' && typeof payload.model === 'string') r.model = payload.model;
    else if (line.type === 'token_usage_record' && typeof payload.response_id === 'string') {
      r.records++;
      // keyed across rollouts: a resumed session's copied history counts once
      responses.set(payload.response_id, {
        model: r.model,
        ...counts(payload.usage as Record<string, unknown>),
      });
    } else if (line.type === 'event_msg' && payload.type === 'token_count') {
      const info = payload.info as { total_token_usage?: Record<string, unknown> } | null;
      if (info?.total_token_usage) r.total = { model: r.model, ...counts(info.total_token_usage) };
    }
  };

  return {
    kind: 'codex',
    read() {
      for (const dir of dayDirs()) {
        for (const file of filesNamed(dir, 'rollout-', '.jsonl')) {
          let r = rollouts.get(file);
          if (!r) {
            r = { tail: new JsonlTail(file), mine: null, model: 'unknown', records: 0, total: null };
            rollouts.set(file, r);
          }
          if (r.mine === false) continue;
          for (const line of r.tail.readNew())
            if (line && typeof line === 'object') take(r, line as Record<string, unknown>);
        }
      }
      const out = new Map<string, ModelUsage>();
      const add = (model: string, c: TokenCounts) => {
        const m = out.get(model) ?? {
          model,
          inputTokens: 0,
          cachedInputTokens: 0,
          outputTokens: 0,
          agentCostUsd: null,
        };
        m.inputTokens += c.inputTokens;
        m.cachedInputTokens += c.cachedInputTokens;
        m.outputTokens += c.outputTokens;
        out.set(model, m);
      };
      for (const r of rollouts.values()) {
        if (!r.mine) continue;
        if (r.records === 0 && r.total) add(r.total.model, r.total);
      }
      for (const c of responses.values()) add(c.model, c);
      return [...out.values()];
    },
  };
}
