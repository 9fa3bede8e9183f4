/**
 * The context packet a new lane is briefed with: TASK, CONSTRAINTS (active rejection-derived),
 * LEARNINGS (FTS5 bm25 relevance to the task, combined with recency and utility: rank.ts),
 * HISTORY (recent closures of related lanes), rendered under a size budget by
 * lanes/learnings/briefing.ts. The caller logs which learnings went in (recordInjection).
 */
import type Database from 'better-sqlite3';
import { renderBriefing } from './briefing.js';
import { rankLearnings, type RankCandidate } from './rank.js';
import { ftsQueryOf, significantWords } from './text.js';

type Db = Database.Database;

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

interface CandidateRow {
  id: number;
  text: string;
  bm25: number;
  confidence: number;
  utility: number;
  created_at: number;
  updated_at: number | null;
  last_used_at: number | null;
}

const toCandidate = (r: CandidateRow): RankCandidate & { text: string } => ({
  id: r.id,
  text: r.text,
  bm25: r.bm25,
  confidence: r.confidence,
  utility: r.utility,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastUsedAt: r.last_used_at,
});

/** Live learnings other than constraints that share a significant word with the task, ranked. */
export function relevantLearnings(db: Db, task: string, opts: { now?: number; limit?: number } = {}): PacketItem[] {
  const q = ftsQueryOf(task);
  if (!q) return [];
  const rows = db
    .prepare(
      `SELECT l.id, l.text, bm25(learnings_fts) AS bm25, l.confidence, l.utility, l.created_at, l.updated_at, l.last_used_at
       FROM learnings_fts JOIN learnings l ON l.id = learnings_fts.rowid
       WHERE learnings_fts MATCH ? AND l.tombstoned = 0 AND l.category != 'constraint'
       ORDER BY bm25(learnings_fts) LIMIT 200`,
    )
    .all(q) as CandidateRow[];
  return rankLearnings(rows.map(toCandidate), { now: opts.now ?? Date.now() })
    .slice(0, opts.limit ?? 20)
    .map((r) => ({ id: r.item.id, text: r.item.text, score: r.score }));
}

/** Active rejection-derived constraints: the ones sharing words with the task first, then the newest. */
export function activeConstraintItems(db: Db, task: string, limit = 20): PacketItem[] {
  const rows = db
    .prepare(
      `SELECT id, text FROM learnings WHERE category = 'constraint' AND tombstoned = 0 ORDER BY created_at DESC, id DESC LIMIT 200`,
    )
    .all() as { id: number; text: string }[];
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
  const rows = db
    .prepare(
      `SELECT l.id, l.name, l.task, c.outcome, c.at,
         (SELECT d.reason FROM decisions d WHERE d.lane_id = l.id AND d.reason IS NOT NULL ORDER BY d.id DESC LIMIT 1) AS reason,
         (SELECT e.cause FROM lane_events e WHERE e.lane_id = l.id AND e.kind = 'state' ORDER BY e.id DESC LIMIT 1) AS cause
       FROM closures c JOIN lanes l ON l.id = c.lane_id
       WHERE l.id != ? ORDER BY c.at DESC LIMIT 100`,
    )
    .all(opts.excludeLaneId ?? -1) as {
    id: number;
    name: string;
    task: string;
    outcome: string;
    at: number;
    reason: string | null;
    cause: string | null;
  }[];
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
