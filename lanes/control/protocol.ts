/**
 * The control socket protocol (docs/control-protocol.md): JSON lines over a unix socket. A client
 * writes one request per line and reads one response line per request, in order. Every request
 * may carry an `id`, echoed in its response.
 */
import { z } from 'zod';
import { LANE_STATES } from '../lane/types.js';

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
  z.strictObject({ id, verb: z.literal('approve'), lane, override: z.boolean().optional() }),
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
} as const;

/** The bytes `send` types for a request: the text, then each named key. */
export function sendBytes(text: string | undefined, keys: readonly string[] | undefined): string {
  return (text ?? '') + (keys ?? []).map((k) => KEYS[k]).join('');
}
