/**
 * `ao-console ctl <verb>`: drives the running console through its control socket.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { LANE_STATES, type LaneSnapshot } from '../../lanes/lane/types.js';
import type { ReviewComment } from '../../lanes/supervisor/api.js';
import { NoConsoleError, sendRequest } from '../control/client.js';
import { KEY_NAMES, KEY_NAMES_HELP, PROTOCOL_CODES, type ControlRequest } from '../../lanes/control/protocol.js';
import { formatAge, formatTable } from '../format/table.js';
import { CliError, EXIT, printJson, println, repoOf } from './common.js';
import { formatCost } from '../ui/usageText.js';

function parseTimeout(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds greater than 0');
  return n;
}

function parseLine(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a line number (1 or more)');
  return n;
}

function collectKey(value: string, previous: string[] | undefined): string[] {
  if (!KEY_NAMES.includes(value)) throw new InvalidArgumentError(`unknown key; known keys: ${KEY_NAMES_HELP}`);
  return [...(previous ?? []), value];
}

/** A lane name from a task: its first words, lowercased, in the lane name alphabet. */
export function laneNameFromTask(task: string, profile: string): string {
  const words = task
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter(Boolean)
    .slice(0, 4);
  const slug = words.join('-').slice(0, 30).replace(/-+$/, '');
  return slug || profile;
}

/** Maps a refused request's code to the exit code: wait timeout 4, bad input 2, otherwise 1. */
function exitCodeFor(code: string): number {
  if (code === PROTOCOL_CODES.timeout) return EXIT.timeout;
  if (code === 'bad-input' || code === PROTOCOL_CODES.badRequest) return EXIT.usage;
  return EXIT.failure;
}

/** Sends `req` to the repo's console; returns the response data, or throws CliError with the right exit code. */
export async function call(cmd: Command, req: ControlRequest): Promise<unknown> {
  const { stateDir } = await repoOf(cmd);
  let res;
  try {
    res = await sendRequest(stateDir, req);
  } catch (err) {
    if (err instanceof NoConsoleError) throw new CliError(err.message, EXIT.noConsole);
    throw err;
  }
  if (!res.ok) {
    if (cmd.opts<{ json?: boolean }>().json) printJson(res);
    throw new CliError(res.error, exitCodeFor(res.code));
  }
  return res.data;
}

function laneLine(lane: LaneSnapshot): string {
  return `lane ${lane.name} is ${lane.state}`;
}

/** Adds a verb to `ctl` with the `--json` flag every verb has; `human` prints the data otherwise. */
function verb(
  ctl: Command,
  spec: string,
  description: string,
  build: (args: string[], opts: Record<string, unknown>, cmd: Command) => ControlRequest | Promise<ControlRequest>,
  human: (data: unknown, req: ControlRequest) => void,
): Command {
  const cmd = ctl.command(spec).description(description).option('--json', 'print the response data as JSON');
  cmd.action(async (...params: unknown[]) => {
    const self = params[params.length - 1] as Command;
    const opts = self.opts<Record<string, unknown>>();
    const req = await build(self.processedArgs as string[], opts, self);
    const data = await call(self, req);
    if (opts.json) printJson(data);
    else human(data, req);
  });
  return cmd;
}

export function registerCtl(program: Command): void {
  const ctl = program
    .command('ctl')
    .description('drive the engine of this repo through its control socket')
    .addHelpText('after', '\nWith no engine running for the repo, every verb exits 3.');

  verb(
    ctl,
    'status',
    'lanes with state, profile, time in state, gate summary and cost',
    () => ({ verb: 'status' }),
    (data) => {
      const { lanes } = data as { lanes: LaneSnapshot[] };
      println(
        formatTable(
          [
            { header: 'LANE' },
            { header: 'STATE' },
            { header: 'PROFILE' },
            { header: 'SINCE' },
            { header: 'GATES' },
            { header: 'COST' },
            { header: 'TASK', max: 50 },
          ],
          lanes.map((l) => [
            l.name,
            l.state,
            l.profile,
            formatAge(l.stateSince),
            l.gateSummary,
            formatCost(l.usage),
            l.task,
          ]),
          'no lanes',
        ),
      );
      // a lane paused for its budget says how to go on (docs/usage.md)
      for (const l of lanes) if (l.usage?.paused) println(`${l.name}: ${l.usage.paused}`);
    },
  );

  verb(
    ctl,
    'new',
    'create a lane and start its agent',
    async (_args, opts, cmd) => {
      const task = opts.task as string;
      const profile = opts.profile as string;
      let name = opts.name as string | undefined;
      if (!name) {
        const stem = laneNameFromTask(task, profile);
        const { lanes } = (await call(cmd, { verb: 'status' })) as { lanes: LaneSnapshot[] };
        const taken = new Set(lanes.map((l) => l.name));
        name = stem;
        for (let i = 2; taken.has(name); i++) name = `${stem}-${i}`;
      }
      return { verb: 'new', name, profile, task, base: opts.base as string | undefined };
    },
    (data) => {
      const lane = data as LaneSnapshot;
      println(`lane ${lane.name} created (${lane.state}): branch ${lane.branch}, worktree ${lane.worktree}`);
    },
  )
    .option('--name <name>', 'lane name (default: from the first words of the task)')
    .requiredOption('--profile <profile>', 'agent profile (see `ao-console profiles`)')
    .option('--task <text>', 'what the agent should do (a profile with taskInput "none", like shell, needs none)', '')
    .option('--base <branch>', 'base branch (default: repo config, else the current branch)');

  verb(
    ctl,
    'screen <lane>',
    "print the lane's current screen, one line per row, trailing spaces trimmed",
    ([lane], opts) => ({ verb: 'screen', lane, ansi: Boolean(opts.ansi) }),
    (data) => println((data as { rows: string[] }).rows.join('\n')),
  ).option('--ansi', 'keep colours (SGR escapes only)');

  verb(
    ctl,
    'send <lane> [text]',
    "type text and keys into the lane's terminal: the text, then each --key in order, then Enter with --enter",
    ([lane, text], opts) => {
      const keys = [...((opts.key as string[] | undefined) ?? []), ...(opts.enter ? ['enter'] : [])];
      if (!text && keys.length === 0)
        throw new CliError('nothing to send: give text, --key NAME or --enter', EXIT.usage);
      return { verb: 'send', lane, text: text || undefined, keys };
    },
    () => {},
  )
    .option('--enter', 'press Enter after the text')
    .option('--key <name>', `press a named key (repeatable): ${KEY_NAMES_HELP}`, collectKey);

  verb(
    ctl,
    'wait <lane>',
    'block until the lane reaches a state; exit 4 on timeout, 1 when the lane ends in another state (merged, discarded, failed, stopped, interrupted)',
    ([lane], opts) => ({
      verb: 'wait',
      lane,
      state: opts.state as (typeof LANE_STATES)[number],
      timeoutMs: opts.timeout === undefined ? undefined : Math.round((opts.timeout as number) * 1000),
    }),
    (data) => println(laneLine(data as LaneSnapshot)),
  )
    .addOption(new Option('--state <state>', 'the state to wait for').choices(LANE_STATES).makeOptionMandatory())
    .option('--timeout <seconds>', 'give up after this many seconds (exit 4); default: wait forever', parseTimeout);

  const simple = (name: 'handoff' | 'waiting' | 'stop' | 'remove' | 'resume', description: string, done: string) =>
    verb(
      ctl,
      `${name} <lane>`,
      description,
      ([lane]) => ({ verb: name, lane }),
      (data) => println(`${done}: ${laneLine(data as LaneSnapshot)}`),
    );
  simple('handoff', "hand the lane's work off: run its gates, then await approval", 'handed off');
  simple(
    'waiting',
    "tell the console the lane's agent waits for input (for agent hooks, e.g. Claude Code's Notification)",
    'waiting',
  );

  verb(
    ctl,
    'approve <lane>',
    "approve the lane's work: it joins the merge queue, is validated on base + lane and merged in its turn; returns once queued",
    ([lane], opts) => ({
      verb: 'approve',
      lane,
      override: Boolean(opts.override),
      ...(opts.wait ? { wait: true } : {}),
    }),
    (data, req) => {
      const lane = data as LaneSnapshot;
      const where = lane.queue ? ` (queue ${lane.queue.position}/${lane.queue.length})` : '';
      println(`${'wait' in req && req.wait ? 'landed' : 'approved'}: ${laneLine(lane)}${where}`);
    },
  )
    .option('--override', 'approve even though a required gate did not pass')
    .option('--wait', 'return once it landed (exit 0), or left the merge queue without landing (exit 1, with why)');

  verb(
    ctl,
    'reject <lane>',
    "reject the lane's work: send it back with the reason (--rework) or close it (--discard)",
    ([lane], opts, cmd) => {
      if (!(opts.reason as string).trim())
        cmd.error("error: option '--reason <text>' must not be empty", { exitCode: EXIT.usage, code: 'ao.usage' });
      if (!opts.rework && !opts.discard)
        cmd.error("error: reject needs one of '--rework' or '--discard'", { exitCode: EXIT.usage, code: 'ao.usage' });
      return { verb: 'reject', lane, reason: opts.reason as string, mode: opts.rework ? 'rework' : 'discard' };
    },
    (data) => println(`rejected: ${laneLine(data as LaneSnapshot)}`),
  )
    .requiredOption('--reason <text>', 'why; given to the agent as feedback on rework and stored as a learning')
    .addOption(new Option('--rework', 'send the lane back to its agent with the reason').conflicts('discard'))
    .addOption(new Option('--discard', 'close the lane without merging').conflicts('rework'));

  simple('stop', "stop the lane's agent, or cancel its gates (resumable); refused while its merge runs", 'stopped');
  simple(
    'remove',
    'take the lane away in any state but a running merge: stop what runs, keep its work under an archive ref, remove its worktree, free its name',
    'removed',
  );
  simple('resume', 'restart a stopped, failed or interrupted lane in its worktree', 'resumed');

  verb(
    ctl,
    'comment <lane>',
    "comment on a line (or lines) of the lane's diff: a draft the next rework (reject --rework) sends to the agent",
    ([lane], opts) => {
      const line = opts.line as number;
      const endLine = opts.endLine as number | undefined;
      if (endLine !== undefined && endLine < line)
        throw new CliError(`--end-line ${endLine} is before --line ${line}`, EXIT.usage);
      if (!(opts.text as string).trim()) throw new CliError("option '--text <text>' must not be empty", EXIT.usage);
      return { verb: 'comment', lane, file: opts.file as string, line, endLine, text: opts.text as string };
    },
    (data) => {
      const c = data as ReviewComment;
      println(
        `comment ${c.id} on ${c.file}:${c.line}${c.endLine > c.line ? `-${c.endLine}` : ''} of lane ${c.lane} (draft)`,
      );
    },
  )
    .requiredOption('--file <path>', "a file in the lane's diff (path in the repo)")
    .requiredOption('--line <n>', 'the line (1-based, in the file as the lane has it now)', parseLine)
    .option('--end-line <n>', 'the last line of a range', parseLine)
    .requiredOption('--text <text>', 'the comment');

  verb(
    ctl,
    'comments <lane>',
    "the lane's review comments: drafts, and sent ones addressed or not by its branch now",
    ([lane]) => ({ verb: 'comments', lane }),
    (data) => {
      const comments = data as ReviewComment[];
      println(
        formatTable(
          [{ header: 'ID', align: 'right' }, { header: 'WHERE' }, { header: 'STATUS' }, { header: 'TEXT', max: 60 }],
          comments.map((c) => [
            String(c.id),
            `${c.file}:${c.line}${c.endLine > c.line ? `-${c.endLine}` : ''}`,
            c.status,
            c.text,
          ]),
          'no comments',
        ),
      );
    },
  );

  verb(
    ctl,
    'learn <text>',
    'record a learning for the repo (handed to later lanes as context)',
    ([text], opts) => ({ verb: 'learn', text, lane: opts.lane as string | undefined }),
    () => println('learning recorded'),
  ).option('--lane <lane>', 'the lane the learning came from');
}
