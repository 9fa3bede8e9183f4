import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The rendering of a context packet (what goes in is chosen by lanes/learnings/packet.ts) and
 * the file it is handed over in.
 */
export interface BriefingInput {
  lane: string;
  task: string;
  /** active rejection-derived constraints */
  constraints: string[];
  /** the most relevant learnings, best first */
  learnings: string[];
  /** recent closures of related lanes: "lane (outcome): why — task" */
  history: string[];
  /** size budget in characters; TASK and CONSTRAINTS are never trimmed */
  budget?: number;
}

export const DEFAULT_BRIEFING_BUDGET = 8000;

/** A markdown list item; continuation lines are indented so a multi-line learning stays one item. */
function item(text: string): string {
  return `- ${text.trim().replace(/\r?\n/g, '\n  ')}`;
}

/**
 * Renders the context packet a lane is briefed with, as markdown, trimming HISTORY first and
 * then LEARNINGS (the least relevant, at the end, go first) to stay under the budget. TASK is
 * never trimmed. Returns what was kept: a prefix of each input list.
 */
export function renderBriefing(input: BriefingInput): { markdown: string; learnings: string[]; history: string[] } {
  const budget = input.budget ?? DEFAULT_BRIEFING_BUDGET;
  let history = [...input.history];
  let learnings = [...input.learnings];
  const render = () => {
    const parts = [`# Context packet for lane ${input.lane}`, '', '## TASK', '', input.task, ''];
    if (input.constraints.length) parts.push('## CONSTRAINTS', '', ...input.constraints.map(item), '');
    if (learnings.length) parts.push('## LEARNINGS', '', ...learnings.map(item), '');
    if (history.length) parts.push('## HISTORY', '', ...history.map(item), '');
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
  return { markdown: md, learnings, history };
}

/** Writes the briefing file for a lane in the state dir (never in the worktree, so it stays out of the diff). */
export function writeBriefingFile(stateDir: string, lane: string, markdown: string): string {
  const dir = path.join(stateDir, 'briefings');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${lane}.md`);
  writeFileSync(file, markdown, { mode: 0o600 });
  return file;
}
