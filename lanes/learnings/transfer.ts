/**
 * Learnings in and out of `.agents/learnings/`-style directories: export, import, and the
 * closure harvest of the files an agent wrote in its worktree. A malformed file is reported by
 * name and skipped; it never stops the others.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { getLaneByName } from '../store/lanes.js';
import { agentsFileName, parseAgentsLearning, serializeAgentsLearning, type AgentsLearning } from './agentsFormat.js';
import { allLearnings, captureLearning } from './store.js';

type Db = Database.Database;

/** Where an agent leaves learnings in its worktree (the AgentOps layout). */
export const AGENTS_LEARNINGS_DIR = path.join('.agents', 'learnings');

export interface FileProblem {
  /** the file's path as given (dir joined with its name) */
  file: string;
  message: string;
}

export interface ReadResult {
  items: { file: string; learning: AgentsLearning }[];
  errors: FileProblem[];
}

/** Reads every `*.md` in `dir` (not recursive), in name order. A missing dir reads as empty. */
export function readLearningsDir(dir: string): ReadResult {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.md'))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { items: [], errors: [] };
    return { items: [], errors: [{ file: dir, message: (err as Error).message }] };
  }
  const out: ReadResult = { items: [], errors: [] };
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      out.items.push({ file, learning: parseAgentsLearning(readFileSync(file, 'utf8')) });
    } catch (err) {
      out.errors.push({ file, message: (err as Error).message });
    }
  }
  return out;
}

export interface ImportResult {
  imported: number;
  merged: number;
  errors: FileProblem[];
}

/** Imports a directory in the AgentOps format; learnings already stored are left as they are. */
export function importLearnings(db: Db, dir: string): ImportResult {
  const { items, errors } = readLearningsDir(dir);
  const res: ImportResult = { imported: 0, merged: 0, errors };
  for (const { file, learning: l } of items) {
    try {
      const laneId = l.lane ? (getLaneByName(db, l.lane)?.id ?? null) : null;
      const r = captureLearning(db, {
        text: l.text,
        category: l.category,
        source: l.source ?? 'import',
        laneId,
        sessionId: null,
        confidence: l.confidence ?? undefined,
        utility: l.utility ?? undefined,
        maturity: l.maturity ?? undefined,
        createdAt: l.createdAt ?? undefined,
        tombstoned: l.tombstoned,
        tombstoneReason: l.tombstoneReason,
        bump: false,
      });
      if (r?.status === 'new') res.imported++;
      else if (r) res.merged++;
    } catch (err) {
      res.errors.push({ file, message: (err as Error).message });
    }
  }
  return res;
}

/** Writes every learning (tombstoned ones too, marked) as one file each; returns the files written. */
export function exportLearnings(db: Db, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const l of allLearnings(db, true)) {
    const file = path.join(dir, agentsFileName(l.id, l.text));
    writeFileSync(
      file,
      serializeAgentsLearning({
        text: l.text,
        category: l.category,
        source: l.source,
        createdAt: l.createdAt,
        confidence: l.confidence,
        maturity: l.maturity,
        utility: l.utility,
        lane: l.lane,
        tombstoned: l.tombstoned,
        tombstoneReason: l.tombstoneReason,
      }),
    );
    files.push(file);
  }
  return files;
}

export interface HarvestResult {
  captured: number;
  merged: number;
  errors: FileProblem[];
}

/** The closure harvest: the `.agents/learnings/*.md` files in a lane's worktree become learnings of that lane. */
export function harvestWorktree(
  db: Db,
  worktree: string,
  lane: { laneId: number; sessionId: string | null },
): HarvestResult {
  const { items, errors } = readLearningsDir(path.join(worktree, AGENTS_LEARNINGS_DIR));
  const res: HarvestResult = { captured: 0, merged: 0, errors };
  for (const { file, learning: l } of items) {
    try {
      const r = captureLearning(db, {
        text: l.text,
        category: l.category,
        source: 'agents-file',
        laneId: lane.laneId,
        sessionId: lane.sessionId,
        confidence: l.confidence ?? undefined,
        maturity: l.maturity ?? undefined,
      });
      if (r?.status === 'new') res.captured++;
      else if (r) res.merged++;
    } catch (err) {
      res.errors.push({ file, message: (err as Error).message });
    }
  }
  return res;
}
