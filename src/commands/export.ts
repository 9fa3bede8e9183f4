/**
 * `ao-console export <lane> --format cast|text|json [-o FILE]`: one recorded lane as an
 * asciicast v2 file (for `asciinema play`), as plain text (the final screen and scrollback,
 * through the emulator), or as JSON (closure, events, verdicts, decisions). See docs/replay.md.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Command } from 'commander';
import { dbFile } from '../../lanes/config/paths.js';
import { findRecordedLane } from '../../lanes/store/history.js';
import { CliError, EXIT, repoOf } from './common.js';

function write(stream: NodeJS.WritableStream, text: string): Promise<void> | void {
  if (!stream.write(text)) return new Promise((resolve) => stream.once('drain', () => resolve()));
}

export function registerExport(program: Command): void {
  program
    .command('export <lane>')
    .description(
      'export a recorded lane (name, or #id): asciicast v2 (cast), the final screen and scrollback as text, or JSON (closure, events, verdicts)',
    )
    .option('--format <format>', 'cast, text or json', 'cast')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (laneArg: string, opts: { format: string; output?: string }, cmd: Command) => {
      const { EXPORT_FORMATS, exportCast, exportJson, exportText } = await import('../replay/export.js');
      const format = opts.format as (typeof EXPORT_FORMATS)[number];
      if (!EXPORT_FORMATS.includes(format))
        throw new CliError(
          `--format must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(opts.format)}`,
          EXIT.usage,
        );
      const repo = await repoOf(cmd);
      const { openReplayDb } = await import('../../lanes/recording/reader.js');
      let db;
      try {
        db = openReplayDb(dbFile(repo.stateDir));
      } catch (err) {
        throw new CliError((err as Error).message, EXIT.failure);
      }
      try {
        const id = /^#(\d+)$/.exec(laneArg);
        const row = findRecordedLane(db, id ? { id: Number(id[1]) } : { name: laneArg });
        if (!row)
          throw new CliError(`no lane ${laneArg} in this repo's store (see \`ao-console lanes\`)`, EXIT.failure);
        const out: NodeJS.WritableStream = opts.output
          ? createWriteStream(opts.output, { mode: 0o600 })
          : process.stdout;
        const sink = (text: string) => write(out, text);
        if (format === 'cast') await exportCast(db, row.id, sink);
        else if (format === 'text') await exportText(db, row.id, sink);
        else await sink(`${JSON.stringify(exportJson(db, row.id), null, 2)}\n`);
        if (opts.output)
          await new Promise<void>((resolve, reject) =>
            (out as WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())),
          );
      } finally {
        db.close();
      }
    });
}
