/**
 * `ao-console show <lane>`: one lane from the store: its fields, state timeline, closure, gate
 * verdicts, decisions and learnings, and from git where its removed work was saved and how to get
 * it back (lanes/git/savedWork.ts). Works without a running console.
 */
import type { Command } from 'commander';
import type { DiffStatEntry } from '../../lanes/supervisor/api.js';
import { listEvents } from '../../lanes/store/events.js';
import { getLaneByName } from '../../lanes/store/lanes.js';
import { listComments } from '../../lanes/store/comments.js';
import { getLaneUsage } from '../../lanes/store/usage.js';
import { getClosure, latestVerdicts, learningsOfLane, listDecisions } from '../../lanes/store/review.js';
import { listSavedWork } from '../../lanes/git/savedWork.js';
import { formatSavedWork, savedSince } from '../format/savedWork.js';
import { formatTable, formatTime } from '../format/table.js';
import { CliError, EXIT, printJson, println, repoOf } from './common.js';
import { withStore } from './store.js';

function loadLane(db: Parameters<typeof getLaneByName>[0], name: string) {
  const lane = getLaneByName(db, name);
  if (!lane) return null;
  return {
    lane,
    timeline: listEvents(db, lane.id, { kind: 'state' }).map((e) => ({
      at: e.at,
      from: e.fromState,
      to: e.toState,
      cause: e.cause,
    })),
    closure: getClosure(db, lane.id) ?? null,
    // tokens and cost from the agent's own records (null: none read yet; docs/usage.md)
    usage: laneUsage(db, lane.id),
    // merges that failed (nothing changed; the lane went back to review), with git's reason
    mergeFailures: listEvents(db, lane.id, { kind: 'merge-failed' }).map((e) => ({ at: e.at, reason: e.cause })),
    verdicts: latestVerdicts(db, lane.id),
    decisions: listDecisions(db, lane.id),
    learnings: learningsOfLane(db, lane.id),
    // review comments with where they stand as last judged (draft, sent, addressed, unaddressed)
    comments: listComments(db, lane.id).map(({ laneId: _laneId, deleted: _deleted, ...c }) => c),
  };
}

function laneUsage(db: Parameters<typeof getLaneUsage>[0], laneId: number) {
  const u = getLaneUsage(db, laneId);
  if (!u) return null;
  const { inputTokens, cachedInputTokens, outputTokens, costUsd, priced } = u;
  return { inputTokens, cachedInputTokens, outputTokens, costUsd, priced };
}

/** `12,345 in (2,000 cached), 678 out, $0.0123 (priced by the agent)` */
export function formatUsage(u: NonNullable<ReturnType<typeof laneUsage>>): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const cost = u.costUsd >= 1 ? u.costUsd.toFixed(2) : u.costUsd.toFixed(4);
  return `${n(u.inputTokens)} in (${n(u.cachedInputTokens)} cached), ${n(u.outputTokens)} out, $${cost} (priced by the ${u.priced === 'agent' ? 'agent' : 'price table'})`;
}

function section(title: string, body: string): void {
  println();
  println(`${title}:`);
  println(body.replace(/^/gm, '  '));
}

export function registerShow(program: Command): void {
  program
    .command('show <lane>')
    .description(
      'show one lane: fields, state timeline, closure, saved work (where removed work was kept, and how to get it back), gate verdicts, decisions, learnings (the open lane of that name, else the latest closed one)',
    )
    .option('--json', 'print everything as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const { root, stateDir } = await repoOf(cmd);
      const stored = withStore(stateDir, null, (db) => loadLane(db, name));
      if (!stored)
        throw new CliError(`no lane named ${name} in this repo's store (see \`ao-console lanes\`)`, EXIT.failure);
      // where its work was kept when its worktree or branch went away (refs/ao/archive/<lane>/…)
      const saved = savedSince(await listSavedWork(root, name).catch(() => []), stored.lane.createdAt);
      const info = { ...stored, savedWork: saved.mine, olderSavedWork: saved.older };
      if (opts.json) return printJson(info);
      const { lane, closure } = info;
      println(`lane ${lane.name} (#${lane.id}, session ${lane.sessionId.slice(0, 8)})`);
      const fields: [string, string][] = [
        ['state', `${lane.state} since ${formatTime(lane.stateSince)}`],
        ['profile', lane.profile],
        ['task', lane.task],
        ['branch', `${lane.branch} (base ${lane.base})`],
        ['worktree', lane.worktree],
        ['head', lane.headCommit ?? ''],
        ['created', formatTime(lane.createdAt)],
        ['closed', formatTime(lane.closedAt)],
        ['rework', String(lane.reworkCount)],
        ['exit', lane.exitCode === null ? '' : String(lane.exitCode)],
        ['output', `${lane.outputBytes} bytes`],
        ['usage', info.usage ? formatUsage(info.usage) : ''],
      ];
      println(
        formatTable(
          [{ header: 'FIELD' }, { header: 'VALUE', max: 100 }],
          fields.filter(([, v]) => v !== ''),
        )
          .split('\n')
          .slice(1)
          .join('\n'),
      );
      section(
        'timeline',
        formatTable(
          [{ header: 'AT' }, { header: 'FROM' }, { header: 'TO' }, { header: 'CAUSE', max: 60 }],
          info.timeline.map((e) => [formatTime(e.at), e.from ?? '', e.to ?? '', e.cause ?? '']),
        ),
      );
      if (closure) {
        const data = closure.data as { diffStat?: DiffStatEntry[]; totalMs?: number };
        const files = data.diffStat?.length ?? 0;
        const lines = (data.diffStat ?? []).reduce((n, d) => n + d.added + d.deleted, 0);
        section(
          'closure',
          `${closure.outcome} at ${formatTime(closure.at)}; ${files} file(s), ${lines} line(s) changed`,
        );
      } else {
        section('closure', '(open: no closure yet)');
      }
      if (info.mergeFailures.length)
        section(
          'failed merges (nothing changed)',
          info.mergeFailures.map((f) => `${formatTime(f.at)}  ${f.reason ?? ''}`).join('\n'),
        );
      section('saved work', formatSavedWork(lane.name, info.savedWork, info.olderSavedWork));
      section(
        'gate verdicts (latest run)',
        formatTable(
          [
            { header: 'GATE' },
            { header: 'STATUS' },
            { header: 'REQUIRED' },
            { header: 'EXIT', align: 'right' },
            { header: 'MS', align: 'right' },
            { header: 'COMMIT' },
          ],
          info.verdicts.map((v) => [
            v.gate,
            v.status,
            v.required ? 'yes' : 'no',
            v.exitCode === null ? '' : String(v.exitCode),
            String(v.durationMs),
            v.commit.slice(0, 12),
          ]),
        ),
      );
      section(
        'decisions',
        formatTable(
          [
            { header: 'AT' },
            { header: 'ACTION' },
            { header: 'MODE' },
            { header: 'OVERRIDE' },
            { header: 'BY' },
            { header: 'REASON', max: 60 },
          ],
          info.decisions.map((d) => [
            formatTime(d.at),
            d.action,
            d.mode ?? '',
            d.override ? 'yes' : '',
            d.by,
            d.reason ?? '',
          ]),
        ),
      );
      section(
        'review comments',
        formatTable(
          [
            { header: 'AT' },
            { header: 'WHERE' },
            { header: 'STATUS' },
            { header: 'ROUND' },
            { header: 'TEXT', max: 60 },
          ],
          info.comments.map((c) => [
            formatTime(c.createdAt),
            `${c.file}:${c.line}${c.endLine > c.line ? `-${c.endLine}` : ''}`,
            c.status,
            c.sentRound === null ? '' : String(c.sentRound),
            c.text,
          ]),
        ),
      );
      section(
        'learnings',
        formatTable(
          [{ header: 'CATEGORY' }, { header: 'SOURCE' }, { header: 'TEXT', max: 80 }],
          info.learnings.map((l) => [l.category, l.source, l.text]),
        ),
      );
    });
}
