/**
 * The context packet a new lane is briefed with: TASK, CONSTRAINTS (active rejection-derived),
 * LEARNINGS (FTS5 bm25 relevance to the task, combined with recency and utility: rank.ts),
 * HISTORY (recent closures of related lanes), rendered under a size budget by
 * lanes/learnings/briefing.ts. The caller logs which learnings went in (recordInjection).
 */
import type { Db } from '../store/open.js';
import { liveConstraints, rankableLearnings } from '../store/learnings.js';
import { recentClosures } from '../store/review.js';
import { renderBriefing } from './briefing.js';
import { rankLearnings } from './rank.js';
import { ftsQueryOf, significantWords } from './text.js';

export interface PacketRequest {
  lane: string;
  task: string;
  /** the lane being briefed: its own closures are not history */
  laneId?: number;
  budget?: number;
  now?: number;
  maxConstraints?: number;
  maxLearnings?: number;
  maxHistory?: number;
}

export interface PacketItem {
  id: number;
  text: string;
  score: number | null;
}

export interface ContextPacket {
  markdown: string;
  /** what went in, after budget trimming */
  constraints: PacketItem[];
  learnings: PacketItem[];
  history: string[];
}

/** Live learnings other than constraints that share a significant word with the task, ranked. */
export function relevantLearnings(db: Db, task: string, opts: { now?: number; limit?: number } = {}): PacketItem[] {
  const q = ftsQueryOf(task);
  if (!q) return [];
  return rankLearnings(rankableLearnings(db, q), { now: opts.now ?? Date.now() })
    .slice(0, opts.limit ?? 20)
    .map((r) => ({ id: r.item.id, text: r.item.text, score: r.score }));
}

/** Active rejection-derived constraints: the ones sharing words with the task first, then the newest. */
export function activeConstraintItems(db: Db, task: string, limit = 20): PacketItem[] {
  const rows = liveConstraints(db);
  const words = new Set(significantWords(task));
  const overlap = (t: string) => significantWords(t).filter((w) => words.has(w)).length;
  return rows
    .map((r, i) => ({ r, i, o: overlap(r.text) }))
    .sort((a, b) => b.o - a.o || a.i - b.i)
    .slice(0, limit)
    .map(({ r }) => ({ id: r.id, text: r.text, score: null }));
}

/**
 * Recent closures of lanes whose task shares significant words with this one, most related
 * first: "lane (outcome): why — task".
 */
export function relatedHistory(db: Db, task: string, opts: { excludeLaneId?: number; limit?: number } = {}): string[] {
  const words = new Set(significantWords(task));
  if (words.size === 0) return [];
  const rows = recentClosures(db, { excludeLaneId: opts.excludeLaneId });
  return rows
    .map((r, i) => ({ r, i, o: new Set(significantWords(r.task).filter((w) => words.has(w))).size }))
    .filter((x) => x.o > 0)
    .sort((a, b) => b.o - a.o || a.i - b.i)
    .slice(0, opts.limit ?? 10)
    .map(({ r }) => {
      const why = r.reason ?? r.cause ?? '';
      const task = r.task.replace(/\s+/g, ' ').trim().slice(0, 120);
      return `${r.name} (${r.outcome})${why ? `: ${why.replace(/\s+/g, ' ').slice(0, 200)}` : ''} — task: ${task}`;
    });
}

/** Assembles and renders the context packet for a lane. Pure reads: nothing is logged here. */
export function buildContextPacket(db: Db, req: PacketRequest): ContextPacket {
  const now = req.now ?? Date.now();
  const constraints = activeConstraintItems(db, req.task, req.maxConstraints ?? 20);
  const learnings = relevantLearnings(db, req.task, { now, limit: req.maxLearnings ?? 20 });
  const history = relatedHistory(db, req.task, { excludeLaneId: req.laneId, limit: req.maxHistory ?? 10 });
  const rendered = renderBriefing({
    lane: req.lane,
    task: req.task,
    constraints: constraints.map((c) => c.text),
    learnings: learnings.map((l) => l.text),
    history,
    budget: req.budget,
  });
  return {
    markdown: rendered.markdown,
    constraints,
    learnings: learnings.slice(0, rendered.learnings.length),
    history: rendered.history,
  };
}
