/**
 * Copilot CLI's usage: `~/.copilot/session-state/<session>/events.jsonl` (1.0.102).
 *
 * - The first event (`session.start`) names the session's `data.context.cwd`: a session counts
 *   for the lane when it is the worktree and the session is not older than the lane.
 * - Tokens: `session.usage_record` events, `data.usage` (`inputTokens` counting the cached ones
 *   with the OpenAI wire shapes, `cacheReadTokens`, `outputTokens`, `model`), one per model call,
 *   keyed by `accounting.usageId` (else `apiCallId`, else the event id).
 * - Cost: `data.usage.cost`, 0 with your own provider (BYOK): a cost of 0 is priced from the table.
 */
import path from 'node:path';
import { DirList, JsonlTail } from './jsonl.js';
import {
  count,
  homeOf,
  timeOf,
  type ModelUsage,
  type TokenCounts,
  type UsageReader,
  type UsageScope,
} from './types.js';

export function copilotStateDir(scope: UsageScope): string {
  return path.join(scope.env.COPILOT_HOME || path.join(homeOf(scope), '.copilot'), 'session-state');
}

interface Session {
  tail: JsonlTail;
  mine: boolean | null;
  calls: Map<string, TokenCounts & { model: string; cost: number }>;
}

export function createCopilotReader(scope: UsageScope): UsageReader {
  const root = copilotStateDir(scope);
  const rootList = new DirList(root);
  const sessions = new Map<string, Session>();

  const take = (s: Session, e: Record<string, unknown>): void => {
    const data = (e.data ?? {}) as Record<string, unknown>;
    if (s.mine === null) {
      if (e.type !== 'session.start') return;
      const ctx = (data.context ?? {}) as Record<string, unknown>;
      s.mine = ctx.cwd === scope.cwd && timeOf(data.startTime ?? e.timestamp) >= scope.since;
      return;
    }
    if (!s.mine || e.type !== 'session.usage_record') return;
    const u = (data.usage ?? {}) as Record<string, unknown>;
    const acc = (u.accounting ?? {}) as Record<string, unknown>;
    const key = [acc.usageId, u.apiCallId, e.id].find((k) => typeof k === 'string') as string | undefined;
    if (!key) return;
    s.calls.set(key, {
      model: typeof u.model === 'string' ? u.model : 'unknown',
      inputTokens: count(u.inputTokens),
      cachedInputTokens: count(u.cacheReadTokens),
      outputTokens: count(u.outputTokens),
      cost: typeof u.cost === 'number' && Number.isFinite(u.cost) && u.cost > 0 ? u.cost : 0,
    });
  };

  return {
    kind: 'copilot',
    read() {
      for (const id of rootList.list()) {
        if (id.startsWith('.')) continue;
        let s = sessions.get(id);
        if (!s) {
          s = { tail: new JsonlTail(path.join(root, id, 'events.jsonl')), mine: null, calls: new Map() };
          sessions.set(id, s);
        }
        if (s.mine === false) continue;
        for (const e of s.tail.readNew()) if (e && typeof e === 'object') take(s, e as Record<string, unknown>);
      }
      const out = new Map<string, ModelUsage & { priced: number; unpriced: number }>();
      for (const s of sessions.values()) {
        if (!s.mine) continue;
        for (const c of s.calls.values()) {
          const m = out.get(c.model) ?? {
            model: c.model,
            inputTokens: 0,
            cachedInputTokens: 0,
            outputTokens: 0,
            agentCostUsd: null,
            priced: 0,
            unpriced: 0,
          };
          m.inputTokens += c.inputTokens;
          m.cachedInputTokens += c.cachedInputTokens;
          m.outputTokens += c.outputTokens;
          if (c.cost > 0) m.priced += c.cost;
          else m.unpriced++;
          out.set(c.model, m);
        }
      }
      // A model's cost is the agent's only when every call of it carried one.
      return [...out.values()].map(({ priced, unpriced, ...m }) => ({
        ...m,
        agentCostUsd: unpriced === 0 && priced > 0 ? priced : null,
      }));
    },
  };
}
