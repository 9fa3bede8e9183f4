/**
 * `ao-console learnings [query]`, `learnings export --dir D`, `learnings import --dir D` and
 * `ao-console learn <text>`: the repo's learnings from the store, without a running console
 * (SQLite in WAL mode lets them write next to a running one).
 */
import { statSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { getLaneByName } from '../../lanes/store/lanes.js';
import { openDb, type Db } from '../../lanes/store/open.js';
import { dbFile, ensureStateDir } from '../../lanes/config/paths.js';
import { formatAge, formatTable } from '../format/table.js';
import { captureLearning, listLearnings } from '../../lanes/learnings/store.js';
import { exportLearnings, importLearnings } from '../../lanes/learnings/transfer.js';
import { CliError, EXIT, printJson, println, repoOf } from './common.js';
import { withStore } from './store.js';

/** Runs `fn` on a writable store (created when no console ever ran here), closing it after. */
async function withWritableStore<T>(cmd: Command, fn: (db: Db) => T): Promise<T> {
  const { stateDir } = await repoOf(cmd);
  ensureStateDir(stateDir);
  const db = openDb(dbFile(stateDir), { autoCheckpoint: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export function registerLearnings(program: Command): void {
  const learnings = program
    .command('learnings')
    .description('list or search the learnings the repo keeps for later lanes (full text, best match first)')
    .argument('[query]', 'words to search for (default: every live learning, most recent first)')
    .option('--all', 'include tombstoned learnings')
    .option('--limit <n>', 'at most this many', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
      return n;
    })
    .option('--json', 'print the learnings as JSON')
    .action(
      async (query: string | undefined, opts: { all?: boolean; limit?: number; json?: boolean }, cmd: Command) => {
        const { stateDir } = await repoOf(cmd);
        const rows = withStore(stateDir, [], (db) =>
          listLearnings(db, { query, includeTombstoned: opts.all, limit: opts.limit }),
        );
        if (opts.json) return printJson(rows);
        println(
          formatTable(
            [
              { header: 'ID', align: 'right' },
              { header: 'CATEGORY' },
              { header: 'SOURCE' },
              { header: 'LANE' },
              { header: 'CONF', align: 'right' },
              { header: 'UTIL', align: 'right' },
              { header: 'AGE' },
              { header: 'TEXT', max: 80 },
            ],
            rows.map((l) => [
              String(l.id),
              l.tombstoned ? `${l.category} (tombstoned)` : l.category,
              l.source,
              l.lane ?? '',
              l.effectiveConfidence.toFixed(2),
              l.utility.toFixed(1),
              formatAge(l.createdAt),
              l.text,
            ]),
            query ? `no learning matches "${query}"` : 'no learnings yet',
          ),
        );
      },
    );

  learnings
    .command('export')
    .description('write every learning as one file in the AgentOps .agents/learnings format (tombstoned ones marked)')
    .requiredOption('--dir <dir>', 'the directory to write to (created when missing)')
    .option('--json', 'print the files written as JSON')
    .action(async (opts: { dir: string; json?: boolean }, cmd: Command) => {
      const { stateDir } = await repoOf(cmd);
      const files = withStore(stateDir, [] as string[], (db) => exportLearnings(db, opts.dir));
      if (opts.json) return printJson({ files });
      println(`${files.length} learning${files.length === 1 ? '' : 's'} written to ${opts.dir}`);
    });

  learnings
    .command('import')
    .description(
      'read *.md learnings in the AgentOps format; duplicates of stored ones are skipped, malformed files reported',
    )
    .requiredOption('--dir <dir>', 'the directory to read')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { dir: string; json?: boolean }, cmd: Command) => {
      const dir = statSync(opts.dir, { throwIfNoEntry: false });
      if (!dir) throw new CliError(`--dir ${opts.dir}: no such directory`, EXIT.failure);
      if (!dir.isDirectory()) throw new CliError(`--dir ${opts.dir}: not a directory`, EXIT.failure);
      const res = await withWritableStore(cmd, (db) => importLearnings(db, opts.dir));
      if (opts.json) printJson(res);
      else {
        println(`${res.imported} imported, ${res.merged} already known`);
        for (const e of res.errors) process.stderr.write(`ao-console: skipped ${e.file}: ${e.message}\n`);
      }
      if (res.errors.length > 0) process.exitCode = EXIT.failure;
    });

  program
    .command('learn')
    .description('record a learning for the repo (handed to later lanes as context); needs no running console')
    .argument('<text>', 'the learning')
    .option('--lane <lane>', 'the lane it came from')
    .option('--category <category>', 'e.g. note, constraint, finding', 'note')
    .action(async (text: string, opts: { lane?: string; category: string }, cmd: Command) => {
      if (!text.trim()) throw new CliError('a learning needs text', EXIT.usage);
      const res = await withWritableStore(cmd, (db) => {
        const lane = opts.lane ? getLaneByName(db, opts.lane) : undefined;
        if (opts.lane && !lane) throw new CliError(`no lane named ${opts.lane} in this repo's store`, EXIT.failure);
        return captureLearning(db, {
          text,
          category: opts.category,
          source: 'operator',
          laneId: lane?.id ?? null,
          sessionId: null,
        });
      });
      println(
        res?.status === 'merged'
          ? `learning #${res.id} already known: its confidence rose`
          : `learning #${res?.id} recorded`,
      );
    });
}
