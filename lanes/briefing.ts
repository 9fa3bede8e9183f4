import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface BriefingInput {
  lane: string;
  task: string;
  /** active rejection-derived constraints */
  constraints: string[];
  /** the most relevant learnings, best first */
  learnings: string[];
  /** recent closures of related lanes: "lane: outcome — why" */
  history: string[];
  /** size budget in characters; TASK is never trimmed */
  budget?: number;
}

/**
 * Renders the context packet a lane is briefed with, as markdown, trimming HISTORY first and
 * then LEARNINGS to stay under the budget. TASK is never trimmed.
 */
export function renderBriefing(input: BriefingInput): { markdown: string; learnings: string[] } {
  const budget = input.budget ?? 8000;
  let history = [...input.history];
  let learnings = [...input.learnings];
  const render = () => {
    const parts = [`# Context packet for lane ${input.lane}`, '', '## TASK', '', input.task, ''];
    if (input.constraints.length) parts.push('## CONSTRAINTS', '', ...input.constraints.map((c) => `- ${c}`), '');
    if (learnings.length) parts.push('## LEARNINGS', '', ...learnings.map((l) => `- ${l}`), '');
    if (history.length) parts.push('## HISTORY', '', ...history.map((h) => `- ${h}`), '');
    return parts.join('\n');
  };
  let md = render();
  while (md.length > budget && history.length) {
    history = history.slice(0, -1);
    md = render();
  }
  while (md.length > budget && learnings.length) {
    learnings = learnings.slice(0, -1);
    md = render();
  }
  return { markdown: md, learnings };
}

/** Writes the briefing file for a lane in the state dir (never in the worktree, so it stays out of the diff). */
export function writeBriefingFile(stateDir: string, lane: string, markdown: string): string {
  const dir = path.join(stateDir, 'briefings');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${lane}.md`);
  writeFileSync(file, markdown, { mode: 0o600 });
  return file;
}
