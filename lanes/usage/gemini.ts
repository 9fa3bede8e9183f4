/**
 * Gemini CLI's usage: `~/.gemini/tmp/<project>/chats/session-*.jsonl` (0.61: `<project>` is a
 * short name, with the working directory in `<project>/.project_root`; the session's first line
 * has `projectHash`, the SHA-256 of that directory).
 *
 * - Tokens: lines with `type: "gemini"` and `tokens` (`input` counts the cached ones, `cached`,
 *   `output`, `thoughts`: billed as output, so counted as output here), `model`. A reply is
 *   written again as it grows (same `id`): the last line of an id counts, once.
 * - Belongs to the lane: the project's root is the worktree, the reply not older than the lane.
 * - No cost: priced from the table.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DirList, JsonlTail, filesNamed } from './jsonl.js';
import {
  count,
  homeOf,
  timeOf,
  type ModelUsage,
  type TokenCounts,
  type UsageReader,
  type UsageScope,
} from './types.js';

export function geminiTmpDir(scope: UsageScope): string {
  return path.join(homeOf(scope), '.gemini', 'tmp');
}

export function createGeminiReader(scope: UsageScope): UsageReader {
  const tmp = geminiTmpDir(scope);
  const tmpList = new DirList(tmp);
  /** project folder -> whether it is the worktree's (checked once per folder) */
  const projects = new Map<string, boolean>();
  const tails = new Map<string, JsonlTail>();
  const replies = new Map<string, TokenCounts & { model: string }>();

  const isMine = (dir: string): boolean => {
    let mine = projects.get(dir);
    if (mine !== undefined) return mine;
    try {
      mine = readFileSync(path.join(tmp, dir, '.project_root'), 'utf8').trim() === scope.cwd;
    } catch {
      return false; // not written yet: asked again next time
    }
    projects.set(dir, mine);
    return mine;
  };

  const take = (r: Record<string, unknown>): void => {
    if (r.type !== 'gemini' || typeof r.id !== 'string' || !r.tokens || typeof r.tokens !== 'object') return;
    if (!(timeOf(r.timestamp) >= scope.since)) return;
    const t = r.tokens as Record<string, unknown>;
    replies.set(r.id, {
      model: typeof r.model === 'string' ? r.model : 'unknown',
      inputTokens: count(t.input),
      cachedInputTokens: count(t.cached),
      outputTokens: count(t.output) + count(t.thoughts),
    });
  };

  return {
    kind: 'gemini',
    read() {
      for (const dir of tmpList.list()) {
        if (!isMine(dir)) continue;
        for (const file of filesNamed(path.join(tmp, dir, 'chats'), 'session-', '.jsonl')) {
          let tail = tails.get(file);
          if (!tail) tails.set(file, (tail = new JsonlTail(file)));
          for (const r of tail.readNew()) if (r && typeof r === 'object') take(r as Record<string, unknown>);
        }
      }
      const out = new Map<string, ModelUsage>();
      for (const r of replies.values()) {
        const m = out.get(r.model) ?? {
          model: r.model,
          inputTokens: 0,
          cachedInputTokens: 0,
          outputTokens: 0,
          agentCostUsd: null,
        };
        m.inputTokens += r.inputTokens;
        m.cachedInputTokens += r.cachedInputTokens;
        m.outputTokens += r.outputTokens;
        out.set(r.model, m);
      }
      return [...out.values()];
    },
  };
}
