/**
 * The control socket protocol (docs/control-protocol.md): JSON lines over a unix socket. A client
 * writes one request per line and reads one response line per request. Every request may carry
 * an `id`, echoed in its response. A one-shot client (`ctl`, hooks) gets its responses in request
 * order. A client that said `hello` (protocol 2) gets each response as soon as it is ready
 * (match them by `id`), plus pushes (`{"push": kind, ...}`, never an `ok`) once it asked for them
 * with `subscribe`, `watch` or `attach`.
 */
import { z } from 'zod';
import { LANE_STATES, type LaneSnapshot, type LaneState, type StyledRow } from '../lane/types.js';
import type { SupervisorEvent } from '../supervisor/api.js';

/** The control protocol's version, announced in `hello`; a client of another version is refused. */
export const PROTOCOL_VERSION = 2;
/** What an engine of this protocol offers, listed in `hello`'s answer. */
export const CAPABILITIES = ['subscribe', 'watch', 'attach', 'engine'] as const;

/** Named keys for `send`, with the bytes a terminal sends for them. */
export const KEYS: Readonly<Record<string, string>> = {
  enter: '\r',
  esc: '\x1b',
  tab: '\t',
  backspace: '\x7f',
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  home: '\x1b[H',
  end: '\x1b[F',
  pgup: '\x1b[5~',
  pgdn: '\x1b[6~',
  'ctrl-]': '\x1d',
  ...Object.fromEntries(
    Array.from({ length: 26 }, (_, i) => [`ctrl-${String.fromCharCode(97 + i)}`, String.fromCharCode(i + 1)]),
  ),
};
export const KEY_NAMES = Object.keys(KEYS);
/** The key names for help texts, ctrl-letters abbreviated. */
export const KEY_NAMES_HELP = [...KEY_NAMES.filter((k) => !/^ctrl-[a-z]$/.test(k)), 'ctrl-a..ctrl-z'].join(', ');

const lane = z.string().min(1, 'lane name is empty');
const id = z.union([z.string(), z.number()]).optional();

export const requestSchema = z.discriminatedUnion('verb', [
  z.strictObject({ id, verb: z.literal('status') }),
  z.strictObject({
    id,
    verb: z.literal('new'),
    name: lane,
    profile: z.string().min(1),
    task: z.string(),
    base: z.string().min(1).optional(),
  }),
  z.strictObject({ id, verb: z.literal('screen'), lane, ansi: z.boolean().optional() }),
  z.strictObject({
    id,
    verb: z.literal('send'),
    lane,
    /** literal text typed first */
    text: z.string().optional(),
    /** named keys typed after the text, in order */
    keys: z.array(z.enum(KEY_NAMES as [string, ...string[]])).optional(),
  }),
  z.strictObject({
    id,
    verb: z.literal('wait'),
    lane,
    state: z.enum(LANE_STATES),
    /** give up after this many milliseconds (error code `timeout`); absent: wait as long as the connection lives */
    timeoutMs: z.number().int().positive().optional(),
  }),
  z.strictObject({ id, verb: z.literal('handoff'), lane }),
  z.strictObject({ id, verb: z.literal('waiting'), lane }),
  /** puts the lane in the merge queue; answers once queued, or with `wait` once it landed (or left the queue: an error) */
  z.strictObject({
    id,
    verb: z.literal('approve'),
    lane,
    override: z.boolean().optional(),
    wait: z.boolean().optional(),
  }),
  z.strictObject({
    id,
    verb: z.literal('reject'),
    lane,
    reason: z.string().trim().min(1, 'a rejection needs a reason'),
    mode: z.enum(['rework', 'discard']),
  }),
  z.strictObject({ id, verb: z.literal('stop'), lane }),
  /** the lane's way out of any state but a merge in flight: work archived, worktree removed, name freed */
  z.strictObject({ id, verb: z.literal('remove'), lane }),
  z.strictObject({ id, verb: z.literal('resume'), lane }),
  z.strictObject({
    id,
    verb: z.literal('learn'),
    text: z.string().trim().min(1, 'a learning needs text'),
    lane: lane.optional(),
  }),
  // ---- protocol 2: long-lived clients (dashboards) ----
  /** first request of a long-lived client; another protocol version is refused and the connection closed */
  z.strictObject({
    id,
    verb: z.literal('hello'),
    protocol: z.number().int(),
    /** what the client is, for the engine's log ("dashboard", "engine-cli", ...) */
    client: z.string().max(100).optional(),
    /** the client's ao-console version */
    version: z.string().max(100).optional(),
  }),
  /** lane list now, then `event` and `lanes` pushes */
  z.strictObject({ id, verb: z.literal('subscribe') }),
  /** replaces the set of lanes whose screens this connection gets as `screen` pushes */
  z.strictObject({ id, verb: z.literal('watch'), lanes: z.array(lane).max(1000) }),
  /** the lane's screen now (SGR-only rows), then its raw output as `output` pushes until `detach` */
  z.strictObject({
    id,
    verb: z.literal('attach'),
    lane,
    cols: z.number().int().min(2).max(1000).optional(),
    rows: z.number().int().min(1).max(500).optional(),
  }),
  z.strictObject({ id, verb: z.literal('detach'), lane }),
  /** the lane's pty size; the latest resize from any client wins */
  z.strictObject({
    id,
    verb: z.literal('resize'),
    lane,
    cols: z.number().int().min(2).max(1000),
    rows: z.number().int().min(1).max(500),
  }),
  z.strictObject({ id, verb: z.literal('review'), lane }),
  z.strictObject({ id, verb: z.literal('rerun-gates'), lane }),
  z.strictObject({
    id,
    verb: z.literal('learnings'),
    query: z.string().optional(),
    includeTombstoned: z.boolean().optional(),
    limit: z.number().int().positive().optional(),
  }),
  // The learning's id is `learning`: `id` is the request's own id (ENGINE_CONTRACT.md said `id`).
  z.strictObject({
    id,
    verb: z.literal('learning-tombstone'),
    learning: z.number().int().positive(),
    reason: z.string().trim().min(1, 'a tombstone needs a reason'),
  }),
  z.strictObject({
    id,
    verb: z.literal('learning-edit'),
    learning: z.number().int().positive(),
    text: z.string().trim().min(1, 'a learning needs text'),
  }),
  z.strictObject({ id, verb: z.literal('metrics') }),
  /** how the lanes of the engine's earlier sessions closed since `since` (epoch ms) ended: the header's "today" */
  z.strictObject({ id, verb: z.literal('past-outcomes'), since: z.number().int().nonnegative() }),
  // ---- review comments: the comment's id is `comment` (`id` is the request's own id) ----
  /** a draft comment on a line (or `line`..`endLine`) of a file in the lane's diff, on its head */
  z.strictObject({
    id,
    verb: z.literal('comment'),
    lane,
    file: z.string().min(1, 'file is empty'),
    line: z.number().int().min(1),
    endLine: z.number().int().min(1).optional(),
    text: z.string().trim().min(1, 'a comment needs text'),
  }),
  z.strictObject({
    id,
    verb: z.literal('comment-edit'),
    lane,
    comment: z.number().int().positive(),
    text: z.string().trim().min(1, 'a comment needs text'),
  }),
  z.strictObject({ id, verb: z.literal('comment-delete'), lane, comment: z.number().int().positive() }),
  /** the lane's comments, sent ones judged addressed or not against its branch now */
  z.strictObject({ id, verb: z.literal('comments'), lane }),
  // ---- the merge queue (lanes/supervisor/mergeQueue.ts) ----
  /** `{paused, entries: [{lane, state, since}]}`, next to land first */
  z.strictObject({ id, verb: z.literal('queue') }),
  /** moves a waiting entry to `position` (1: next to land) */
  z.strictObject({ id, verb: z.literal('queue-move'), lane, position: z.number().int().min(1) }),
  /** takes the lane out of the queue: back to awaiting approval */
  z.strictObject({ id, verb: z.literal('queue-remove'), lane }),
  /** no next entry starts (one validating or merging finishes) */
  z.strictObject({ id, verb: z.literal('queue-pause') }),
  z.strictObject({ id, verb: z.literal('queue-resume') }),
  z.strictObject({ id, verb: z.literal('engine-status') }),
  /** stops every lane cleanly, says `bye` to every client and ends the engine */
  z.strictObject({ id, verb: z.literal('engine-stop'), by: z.string().max(200).optional() }),
]);
export type ControlRequest = z.infer<typeof requestSchema>;
export type Verb = ControlRequest['verb'];
export const VERBS: readonly Verb[] = requestSchema.options.map((o) => o.shape.verb.value);

export const responseSchema = z.union([
  z.object({ id, ok: z.literal(true), data: z.unknown() }),
  z.object({ id, ok: z.literal(false), error: z.string(), code: z.string() }),
]);
export type ControlResponse = z.infer<typeof responseSchema>;

/**
 * Error codes of the protocol itself; the supervisor's ActionError codes (not-found, bad-state,
 * bad-input, conflict, needs-override, ...) are passed through as they are.
 */
export const PROTOCOL_CODES = {
  /** the line is not JSON or does not match the request schema */
  badRequest: 'bad-request',
  /** `wait` reached its timeout */
  timeout: 'timeout',
  /** `wait`: the lane reached a state it cannot leave without an operator action, not the one waited for */
  waitEnded: 'wait-ended',
  /** anything else that went wrong in the console */
  internal: 'internal',
  /** `hello` with another protocol version: the connection is closed after this answer */
  protocolMismatch: 'protocol-mismatch',
  /** a verb only an engine answers (engine-status, engine-stop) sent to a console that is not one */
  notEngine: 'not-an-engine',
} as const;

// ---------------------------------------------------------------- protocol 2: answers and pushes

/** `hello`'s answer. */
export interface HelloData {
  engine: 'ao-console';
  /** the engine's ao-console version (package.json) */
  version: string;
  protocol: number;
  capabilities: string[];
  pid: number;
  sessionId: string;
  repoRoot: string;
  /** epoch ms the engine started */
  startedAt: number;
  /** recovery notes of this engine's start (lanes found interrupted, merges repaired, ...) */
  notes: string[];
}

/** `engine-status`'s answer. */
export interface EngineStatusData {
  pid: number;
  version: string;
  protocol: number;
  /** epoch ms */
  startedAt: number;
  repo: string;
  stateDir: string;
  socket: string;
  log: string;
  sessionId: string;
  /** connections that said hello */
  clients: number;
  /** lanes by state */
  lanes: Partial<Record<LaneState, number>>;
  /** lanes whose agent process runs now */
  alive: number;
  idleExitMinutes: number;
  /** background (started by a dashboard, logging to the log file) or foreground (`ao-console serve`) */
  mode: 'foreground' | 'background';
}

/** `attach`'s answer: the first frame; `output` pushes follow. */
export interface AttachData {
  /** the screen as SGR-only lines (safe to print) */
  rows: string[];
  cursor: { x: number; y: number; visible: boolean };
}

export interface ScreenCursor {
  x: number;
  y: number;
  visible: boolean;
}

/** A lane's whole screen (first push after `watch`, or after a client's socket drained). */
export interface ScreenFullPush {
  push: 'screen';
  lane: string;
  full: true;
  rows: StyledRow[];
  cursor: ScreenCursor;
  size: { cols: number; rows: number };
}

/** The rows of a lane's screen that changed since the last screen push to this client. */
export interface ScreenDiffPush {
  push: 'screen';
  lane: string;
  full: false;
  /** [row index, the row now] */
  changed: [number, StyledRow][];
  /** rows on the screen now (rows at or past it are gone) */
  length: number;
  cursor: ScreenCursor;
  size: { cols: number; rows: number };
}

/** Everything the engine pushes to a client (only after it asked: subscribe, watch, attach). */
export type ControlPush =
  | { push: 'event'; event: SupervisorEvent }
  | { push: 'lanes'; lanes: LaneSnapshot[] }
  | ScreenFullPush
  | ScreenDiffPush
  /** raw pty output of an attached lane */
  | { push: 'output'; lane: string; data: string }
  /** the engine is going away (engine-stop); the connection closes after it */
  | { push: 'bye'; reason: string };
export type PushKind = ControlPush['push'];

/** The message a client of another protocol version gets (naming both versions and what to do). */
export function protocolMismatchMessage(opts: {
  engineProtocol: number;
  engineVersion: string;
  clientProtocol: number;
  clientVersion?: string;
  /** the engine's pid, for the way out a client of another version can take itself */
  enginePid?: number;
}): string {
  const stop =
    opts.enginePid !== undefined
      ? `stop it with \`ao-console engine stop\` of version ${opts.engineVersion} (or \`kill -TERM ${opts.enginePid}\`: its lanes stop cleanly)`
      : `stop it with \`ao-console engine stop\` of version ${opts.engineVersion}`;
  return (
    `the engine speaks control protocol ${opts.engineProtocol} (ao-console ${opts.engineVersion}), ` +
    `this client speaks protocol ${opts.clientProtocol} (ao-console ${opts.clientVersion ?? 'unknown'}): ` +
    `${stop}, then start \`ao-console\` again with one version`
  );
}

/** The bytes `send` types for a request: the text, then each named key. */
export function sendBytes(text: string | undefined, keys: readonly string[] | undefined): string {
  return (text ?? '') + (keys ?? []).map((k) => KEYS[k]).join('');
}
