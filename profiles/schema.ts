/**
 * The profile schema: how to run one kind of agent (DESIGN.md, "profile"). Strict: an unknown
 * field is an error, so a typo never silently turns a setting off. Defaults are filled here, so
 * every consumer sees a complete Profile. Documented field by field in docs/profiles.md.
 */
import { z } from 'zod';
import { NAME_RULE, isSafeName } from './names.js';

/** Placeholders allowed inside `command`, `args`, `resumeArgs` and `env` values, replaced by expandArgs. */
export const PLACEHOLDERS = ['task', 'lane', 'worktree', 'briefingFile', 'node', 'builtinDir', 'shell'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** `{word}` where word is letters only; anything else in braces (e.g. JSON text) is left alone. */
export const PLACEHOLDER_RE = /\{([A-Za-z]+)\}/g;

/** The default `patterns.learning`: a line of agent output that records a learning. */
export const DEFAULT_LEARNING_PATTERN = '^LEARNING:\\s*(.+)$';
/** Flags every profile pattern is compiled with: `m`, so `^` and `$` match at each line. */
export const PATTERN_FLAGS = 'm';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_PASSTHROUGH = /^[A-Za-z_][A-Za-z0-9_]*\*?$/;

const known = new Set<string>(PLACEHOLDERS);

/** An argv element: any string, but every `{word}` in it must be a known placeholder. */
function checkPlaceholders(value: string, ctx: z.RefinementCtx): void {
  for (const m of value.matchAll(PLACEHOLDER_RE)) {
    if (!known.has(m[1])) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown placeholder {${m[1]}} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`,
      });
    }
  }
}
const argString = z.string().superRefine(checkPlaceholders);

/** A regular expression source that must compile with PATTERN_FLAGS; the error names the pattern. */
const patternSource = z
  .string()
  .min(1, 'empty pattern')
  .superRefine((source, ctx) => {
    try {
      new RegExp(source, PATTERN_FLAGS);
    } catch (err) {
      const reason = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
      ctx.addIssue({ code: 'custom', message: `invalid regular expression ${JSON.stringify(source)}: ${reason}` });
    }
  });

const profileName = z.string().superRefine((name, ctx) => {
  if (!isSafeName(name))
    ctx.addIssue({ code: 'custom', message: `invalid profile name ${JSON.stringify(name)}: names are ${NAME_RULE}` });
});

export const patternsSchema = z.strictObject({
  /** Screen text that means the agent is working (e.g. a spinner's "esc to interrupt"). */
  busy: z.array(patternSource).default(() => []),
  /** Screen text that means the agent waits for the operator (a question, an empty prompt). */
  waitingInput: z.array(patternSource).default(() => []),
  /** An output line that means "my work is ready" while the agent keeps running. */
  handoffMarker: patternSource.optional(),
  /** An output line that records a learning; capture group 1 (else the whole match) is its text. */
  learning: patternSource.default(DEFAULT_LEARNING_PATTERN),
});

/** The window title an agent sets (OSC 0/2) that says what it does; first match of waitingInput, busy, idle. */
export const titlePatternsSchema = z.strictObject({
  busy: z.array(patternSource).default(() => []),
  waitingInput: z.array(patternSource).default(() => []),
  idle: z.array(patternSource).default(() => []),
});

/** Placeholders allowed in `statusFile.path`. */
export const STATUS_PATH_PLACEHOLDERS = ['home', 'pid'] as const;
const activityName = z.enum(['busy', 'idle', 'waiting-input']);
const dottedField = z
  .string()
  .regex(/^[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$-]*)*$/, 'expected a field name, or names joined by dots (a.b)');

/** The agent's own status file (lanes/lane/statusFile.ts): where it is and what its values mean. */
export const statusFileSchema = z.strictObject({
  /** `{home}`: the agent's HOME; `{pid}`: the pid of one of the lane's processes */
  path: z
    .string()
    .min(1, 'empty path')
    .superRefine((value, ctx) => {
      for (const m of value.matchAll(PLACEHOLDER_RE)) {
        if (!(STATUS_PATH_PLACEHOLDERS as readonly string[]).includes(m[1]))
          ctx.addIssue({ code: 'custom', message: `unknown placeholder {${m[1]}} (known: {home}, {pid})` });
      }
      if (!value.startsWith('/') && !value.startsWith('{home}/'))
        ctx.addIssue({ code: 'custom', message: 'the path must be absolute or start with {home}/' });
    }),
  /** the field holding the status (dots for nested fields) */
  field: dottedField.default('status'),
  /** status value -> busy | idle | waiting-input; any other value says nothing */
  values: z.record(z.string(), activityName),
  /** a field that says more (e.g. why it waits), shown in the lane's event */
  detailField: dottedField.optional(),
});

/** The agents whose own usage records the engine reads for tokens and cost (lanes/usage/). */
export const USAGE_READERS = ['claude', 'codex', 'gemini', 'opencode', 'copilot'] as const;

export const profileSchema = z
  .strictObject({
    name: profileName,
    description: z.string().default(''),
    /** The program to run (argv[0]); placeholders allowed, e.g. `{node}` or `{shell}`. */
    command: z.string().min(1, 'empty command').superRefine(checkPlaceholders),
    args: z.array(argString).default(() => []),
    /** Extra environment variables set for the agent. */
    env: z.record(z.string().regex(ENV_NAME, 'invalid environment variable name'), argString).default(() => ({})),
    /** Names let through from the console's environment; a trailing `*` matches a prefix. */
    envPassthrough: z
      .array(z.string().regex(ENV_PASSTHROUGH, 'expected a variable name, optionally ending in "*" (e.g. ANTHROPIC_*)'))
      .default(() => []),
    /** How the task reaches the agent: in an argument (`{task}`), typed on stdin once it waits, or not at all. */
    taskInput: z.enum(['arg', 'stdin', 'none']).default('arg'),
    patterns: patternsSchema.default(() => ({ busy: [], waitingInput: [], learning: DEFAULT_LEARNING_PATTERN })),
    /** The window title's meaning (a state source more trusted than the screen: docs/profiles.md). */
    titlePatterns: titlePatternsSchema.optional(),
    /** The agent's own status file (more trusted than the title and the screen: docs/profiles.md). */
    statusFile: statusFileSchema.optional(),
    /** Milliseconds without output (and no pattern match) after which the lane counts as idle. */
    idleMs: z.number().int('expected a whole number of milliseconds').min(100).max(3_600_000).default(3000),
    /** Whether an exit with code 0 hands the lane's work off. */
    handoffOnExit: z.boolean().default(true),
    /** Arguments used to resume in the same worktree; when absent, a resume runs `args` again. */
    resumeArgs: z.array(argString).optional(),
    /**
     * Text the console types into the agent (a task on stdin, rework feedback) is sent first and
     * Enter this many ms later: an input box that reads a burst ending in Enter as a paste keeps
     * the text unsent (Claude Code, Gemini CLI, Copilot CLI). 0 sends both in one write.
     */
    submitDelayMs: z.number().int('expected a whole number of milliseconds').min(0).max(10_000).default(0),
    /** Whose usage records (tokens, cost) the lane's agent writes: docs/usage.md. Absent: none read. */
    usage: z.enum(USAGE_READERS).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.taskInput === 'arg' && !p.args.some((a) => a.includes('{task}'))) {
      ctx.addIssue({ code: 'custom', path: ['args'], message: 'taskInput is "arg" but no argument contains {task}' });
    }
  });

/** A complete, validated profile (defaults filled). */
export type Profile = z.output<typeof profileSchema>;
/** What a profile file may contain (defaults not yet filled). */
export type ProfileInput = z.input<typeof profileSchema>;

/** True when `name` is let through by one of the envPassthrough entries. */
export function passesThrough(name: string, passthrough: readonly string[]): boolean {
  return passthrough.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

/**
 * The agent's environment from the profile alone: the passthrough subset of `consoleEnv`, then
 * the profile's `env` over it. The supervisor adds its own variables (TERM, AO_*) on top.
 */
export function profileEnv(
  profile: Pick<Profile, 'env' | 'envPassthrough'>,
  consoleEnv: NodeJS.ProcessEnv,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(consoleEnv)) {
    if (value !== undefined && passesThrough(name, profile.envPassthrough)) out[name] = value;
  }
  return { ...out, ...profile.env };
}

/** A profile's patterns compiled (with PATTERN_FLAGS), for the activity detector and learning capture. */
export interface CompiledPatterns {
  busy: RegExp[];
  waitingInput: RegExp[];
  handoffMarker?: RegExp;
  learning: RegExp;
  /** the profile's titlePatterns, when it has them */
  title?: { busy: RegExp[]; waitingInput: RegExp[]; idle: RegExp[] };
}

export function compilePatterns(
  profile: Pick<Profile, 'patterns'> & { titlePatterns?: Profile['titlePatterns'] },
): CompiledPatterns {
  const re = (s: string) => new RegExp(s, PATTERN_FLAGS);
  const { busy, waitingInput, handoffMarker, learning } = profile.patterns;
  const title = profile.titlePatterns;
  return {
    busy: busy.map(re),
    waitingInput: waitingInput.map(re),
    ...(handoffMarker === undefined ? {} : { handoffMarker: re(handoffMarker) }),
    learning: re(learning),
    ...(title === undefined
      ? {}
      : { title: { busy: title.busy.map(re), waitingInput: title.waitingInput.map(re), idle: title.idle.map(re) } }),
  };
}
