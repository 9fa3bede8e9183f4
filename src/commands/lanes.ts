/**
 * `ao-console lanes` and `ao-console sessions`: what the store knows, without a running console.
 */
import type { Command } from 'commander';
import { laneOutcomesOfSession, listLaneSummaries, type LaneSummary } from '../../lanes/store/history.js';
import { listSessions, sessionIdsStartingWith, type SessionRow } from '../../lanes/store/sessions.js';
import { formatTable, formatTime } from '../format/table.js';
import { CliError, EXIT, printJson, println, repoOf } from './common.js';
import { withStore } from './store.js';

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new CliError(`--limit must be a whole number greater than 0, got ${JSON.stringify(value)}`, EXIT.usage);
  return n;
}

export function registerLanes(program: Command): void {
  program
    .command('lanes')
    .description('list lanes recorded in this repo, newest first (works without a running console)')
    .option('--session <id>', 'only the lanes of this session (an id or its first characters)')
    .option('--open', 'only lanes not closed yet (resumable ones included)')
    .option('--limit <n>', 'at most this many lanes', '50')
    .option('--json', 'print the lanes as JSON')
    .action(async (opts: { session?: string; open?: boolean; limit: string; json?: boolean }, cmd: Command) => {
      const limit = parseLimit(opts.limit);
      const { stateDir } = await repoOf(cmd);
      const session = opts.session;
      const rows = withStore<LaneSummary[] | null>(stateDir, session === undefined ? [] : null, (db) => {
        // A session that does not exist is an error, not an empty list (LIKE's % and _ are not wildcards here).
        if (session !== undefined && !sessionIdsStartingWith(db, session).some((id) => id.startsWith(session)))
          return null;
        return listLaneSummaries(db, { sessionPrefix: session, open: opts.open, limit });
      });
      if (rows === null)
        throw new CliError(
          `no session of this repo has an id starting with ${JSON.stringify(session)} (\`ao-console sessions\` lists them)`,
          EXIT.failure,
        );
      if (opts.json) return printJson(rows);
      println(
        formatTable(
          [
            { header: 'LANE' },
            { header: 'STATE' },
            { header: 'PROFILE' },
            { header: 'SESSION' },
            { header: 'CREATED' },
            { header: 'OUTCOME' },
            { header: 'TASK', max: 50 },
          ],
          rows.map((r) => [
            r.name,
            r.state,
            r.profile,
            r.sessionId.slice(0, 8),
            formatTime(r.createdAt),
            r.outcome ?? '',
            r.task,
          ]),
          'no lanes recorded in this repo yet',
        ),
      );
    });

  program
    .command('sessions')
    .description('list console sessions of this repo, newest first (works without a running console)')
    .option('--limit <n>', 'at most this many sessions', '20')
    .option('--json', 'print the sessions as JSON')
    .action(async (opts: { limit: string; json?: boolean }, cmd: Command) => {
      const limit = parseLimit(opts.limit);
      const { stateDir } = await repoOf(cmd);
      const rows = withStore<(SessionRow & { lanes: number; outcomes: Record<string, number> })[]>(stateDir, [], (db) =>
        listSessions(db, { limit }).map((s) => {
          // Outcome of each lane: its closure, else its current state (still open).
          const outcomes = Object.fromEntries(laneOutcomesOfSession(db, s.id).map((r) => [r.outcome, r.n]));
          return { ...s, lanes: Object.values(outcomes).reduce((a, b) => a + b, 0), outcomes };
        }),
      );
      if (opts.json) return printJson(rows);
      println(
        formatTable(
          [
            { header: 'SESSION' },
            { header: 'STARTED' },
            { header: 'ENDED' },
            { header: 'END' },
            { header: 'LANES', align: 'right' },
            { header: 'OUTCOMES', max: 60 },
            { header: 'PID', align: 'right' },
          ],
          rows.map((s) => [
            s.id.slice(0, 8),
            formatTime(s.startedAt),
            s.endedAt ? formatTime(s.endedAt) : 'running?',
            s.endReason ?? '',
            String(s.lanes),
            Object.entries(s.outcomes)
              .map(([o, n]) => `${n} ${o}`)
              .join(', '),
            String(s.pid),
          ]),
          'no sessions recorded in this repo yet',
        ),
      );
    });
}
