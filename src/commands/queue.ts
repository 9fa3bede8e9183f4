/**
 * `ao-console queue`: the engine's merge queue (lanes/supervisor/mergeQueue.ts): approved lanes in
 * the order they land, each validated on base + lane first. Subcommands reorder it, take a lane
 * out (back to awaiting approval) and pause or resume it.
 */
import type { Command } from 'commander';
import type { MergeQueueInfo } from '../../lanes/supervisor/api.js';
import type { ControlRequest } from '../../lanes/control/protocol.js';
import { formatAge, formatTable } from '../format/table.js';
import { CliError, EXIT, printJson, println } from './common.js';
import { call } from './ctl.js';

function printQueue(q: MergeQueueInfo, json: boolean): void {
  if (json) return printJson(q);
  const title = `merge queue${q.paused ? ' (paused: no next entry starts; `ao-console queue resume`)' : ''}`;
  println(
    `${title}\n${formatTable(
      [{ header: 'POS' }, { header: 'LANE' }, { header: 'STATE' }, { header: 'SINCE' }],
      q.entries.map((e, i) => [String(i + 1), e.lane, e.state, formatAge(e.since)]),
      'empty: approve a lane to queue it',
    )}`,
  );
}

function parsePosition(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(`a queue position is a whole number from 1, got ${JSON.stringify(value)}`, EXIT.usage);
  return n;
}

export function registerQueue(program: Command): void {
  const queue = program
    .command('queue')
    .description('the merge queue: approved lanes in the order they land, each validated on base + lane first')
    .option('--json', 'print {"paused", "entries": [{"lane", "state", "since"}]} as JSON')
    .addHelpText('after', '\nWith no engine running for the repo, it exits 3.')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      printQueue((await call(cmd, { verb: 'queue' })) as MergeQueueInfo, !!opts.json);
    });

  /** A subcommand that sends `build(...)` and prints the queue after it. */
  const sub = (spec: string, description: string, build: (args: string[], cmd: Command) => Promise<ControlRequest>) =>
    queue
      .command(spec)
      .description(description)
      .option('--json', 'print the queue after it as JSON')
      .action(async (...params: unknown[]) => {
        const self = params[params.length - 1] as Command;
        await call(self, await build(self.processedArgs as string[], self));
        printQueue((await call(self, { verb: 'queue' })) as MergeQueueInfo, !!self.opts<{ json?: boolean }>().json);
      });

  /** The lane's position now (1-based). */
  const positionOf = async (cmd: Command, lane: string): Promise<number> => {
    const q = (await call(cmd, { verb: 'queue' })) as MergeQueueInfo;
    const i = q.entries.findIndex((e) => e.lane === lane);
    if (i < 0) throw new CliError(`lane ${lane} is not in the merge queue`, EXIT.failure);
    return i + 1;
  };

  sub('move <lane> <position>', 'move a waiting lane to a position (1: next to land)', async ([lane, pos]) => ({
    verb: 'queue-move',
    lane,
    position: parsePosition(pos),
  }));
  sub('up <lane>', 'move a waiting lane one place towards the head', async ([lane], cmd) => ({
    verb: 'queue-move',
    lane,
    position: Math.max(1, (await positionOf(cmd, lane)) - 1),
  }));
  sub('down <lane>', 'move a waiting lane one place back', async ([lane], cmd) => ({
    verb: 'queue-move',
    lane,
    position: (await positionOf(cmd, lane)) + 1,
  }));
  sub(
    'remove <lane>',
    'take the lane out of the queue (its validation cancelled): back to awaiting approval',
    async ([lane]) => ({ verb: 'queue-remove', lane }),
  );
  sub('pause', 'pause the queue: no next entry starts (one validating or merging finishes)', async () => ({
    verb: 'queue-pause',
  }));
  sub('resume', 'resume the queue', async () => ({ verb: 'queue-resume' }));
}
