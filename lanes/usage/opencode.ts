/**
 * opencode's usage: its SQLite database, `<XDG_DATA_HOME, else ~/.local/share>/opencode/opencode.db`
 * (opencode 1.18), read-only through lanes/store/opencodeUsage.ts.
 *
 * - Belongs to the lane: messages of sessions whose `directory` is the worktree (subagent sessions
 *   too), created since the lane.
 * - Tokens: assistant messages' `data.tokens` (`input` without the cache, `cache.read`,
 *   `cache.write`, `output`, `reasoning`: billed as output), `data.modelID`. A message is updated
 *   in place while it streams: the latest row of an id counts, once.
 * - Cost: `data.cost`, computed by opencode from the per-model prices of its config. A model with
 *   no prices there reports 0: a cost of 0 is priced from the table.
 * - The database is read again only when it (or its -wal) changed since the last read.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { readOpencodeMessages } from '../store/opencodeUsage.js';
import { count, homeOf, type ModelUsage, type TokenCounts, type UsageReader, type UsageScope } from './types.js';

export function opencodeDbFile(scope: UsageScope): string {
  const data = scope.env.XDG_DATA_HOME || path.join(homeOf(scope), '.local', 'share');
  return path.join(data, 'opencode', 'opencode.db');
}

function signature(file: string): string {
  const part = (f: string) => {
    try {
      const st = statSync(f);
      return `${st.size}:${st.mtimeMs}`;
    } catch {
      return '-';
    }
  };
  return `${part(file)}/${part(`${file}-wal`)}`;
}

export function createOpencodeReader(scope: UsageScope): UsageReader {
  const file = opencodeDbFile(scope);
  const messages = new Map<string, TokenCounts & { model: string; cost: number }>();
  let cursor = 0;
  let seen = '';

  const take = (id: string, raw: string): void => {
    let d: Record<string, unknown>;
    try {
      d = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return;
    }
    if (d.role !== 'assistant' || !d.tokens || typeof d.tokens !== 'object') return;
    const t = d.tokens as Record<string, unknown>;
    const cache = (t.cache ?? {}) as Record<string, unknown>;
    const cached = count(cache.read);
    messages.set(id, {
      model: typeof d.modelID === 'string' ? d.modelID : 'unknown',
      inputTokens: count(t.input) + cached + count(cache.write),
      cachedInputTokens: cached,
      outputTokens: count(t.output) + count(t.reasoning),
      cost: typeof d.cost === 'number' && Number.isFinite(d.cost) && d.cost > 0 ? d.cost : 0,
    });
  };

  return {
    kind: 'opencode',
    read() {
      const sig = signature(file);
      if (sig !== seen) {
        const rows = readOpencodeMessages(file, { directory: scope.cwd, since: scope.since, updatedFrom: cursor });
        if (rows) {
          seen = sig;
          for (const r of rows) {
            take(r.id, r.data);
            if (r.timeUpdated > cursor) cursor = r.timeUpdated;
          }
        }
      }
      const out = new Map<string, ModelUsage & { unpriced: number }>();
      for (const m of messages.values()) {
        const u = out.get(m.model) ?? {
          model: m.model,
          inputTokens: 0,
          cachedInputTokens: 0,
          outputTokens: 0,
          agentCostUsd: null,
          unpriced: 0,
        };
        u.inputTokens += m.inputTokens;
        u.cachedInputTokens += m.cachedInputTokens;
        u.outputTokens += m.outputTokens;
        if (m.cost > 0) u.agentCostUsd = (u.agentCostUsd ?? 0) + m.cost;
        else if (m.inputTokens + m.outputTokens > 0) u.unpriced++;
        out.set(m.model, u);
      }
      // A model's cost is the agent's only when every reply of it carried one.
      return [...out.values()].map(({ unpriced, ...m }) => (unpriced > 0 ? { ...m, agentCostUsd: null } : m));
    },
  };
}
