/**
 * The repo config: `.ao/config.json` in the repo's main working tree (optional, committable).
 * Validated with strict zod schemas; every error names the file and the field path
 * (`.ao/config.json: gates[1].timeoutSec: expected number, received string`).
 * docs/config.md describes the format.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { formatPath } from '../../profiles/zodIssues.js';
import { DEFAULT_NOTIFY_EVENTS, NOTIFY_EVENTS, type NotifyConfig } from '../notify/rules.js';
import type { ModelPrice } from '../usage/prices.js';

export const CONFIG_FILE = path.join('.ao', 'config.json');

export const BUILTIN_GATES = ['merge-clean', 'diff-limit', 'protected-paths', 'no-secrets'] as const;
export type BuiltinGateName = (typeof BUILTIN_GATES)[number];
export const MERGE_STRATEGIES = ['merge', 'squash', 'ff-only'] as const;
export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];

export const DEFAULT_GATE_TIMEOUT_SEC = 600;
export const DEFAULT_SETUP_TIMEOUT_SEC = 600;
export const DEFAULT_MAX_CONCURRENT_LANES = 4;
export const DEFAULT_RECORDINGS_DAYS = 30;
/** The engine exits after this long with no running agent and no client (0: never). */
export const DEFAULT_ENGINE_IDLE_EXIT_MINUTES = 10;
/** The merge queue validates this many entries merged together (1: one at a time, batch mode off). */
export const DEFAULT_MERGE_QUEUE_BATCH = 1;
export const MAX_MERGE_QUEUE_BATCH = 16;

const nonEmpty = z.string().min(1, 'must not be empty');
/** A setup path as the worktree sees it: `./a//b/` -> `a/b`. */
export const setupKey = (p: string): string =>
  p
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
const positiveInt = z.number().int().positive();
const envSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a valid environment variable name'),
  z.string(),
);

const usd = z.number().positive('must be more than 0 (USD)').max(1_000_000, 'at most 1000000 (USD)');
const perMtok = z.number().min(0, 'a price is 0 or more (USD per million tokens)').max(10_000, 'at most 10000');
const priceSchema = z.strictObject({ input: perMtok, cachedInput: perMtok.optional(), output: perMtok });

const commandGateSchema = z
  .strictObject({
    name: nonEmpty,
    run: z.array(z.string()).min(1, 'needs at least the program').optional(),
    shell: nonEmpty.optional(),
    timeoutSec: z.number().positive().max(86_400, 'at most 86400 (one day)').default(DEFAULT_GATE_TIMEOUT_SEC),
    required: z.boolean().default(true),
    env: envSchema.optional(),
  })
  .superRefine((g, ctx) => {
    if ((g.run === undefined) === (g.shell === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['run'],
        message: 'a command gate needs exactly one of "run" (argv array) or "shell" (string)',
      });
    }
  });

/** A path under the repo for `setup.copy` / `setup.link`: relative, no "..", not into .git. */
const setupPath = nonEmpty.superRefine((p, ctx) => {
  const norm = p.replace(/\\/g, '/');
  if (norm.startsWith('/') || /^[A-Za-z]:/.test(norm)) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(p)}: must be relative to the repo root, not absolute` });
    return;
  }
  const parts = norm.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..'))
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(p)}: must stay inside the repo (no "..")` });
  else if (parts.length === 0) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(p)}: names no file` });
  else if (parts[0] === '.git') ctx.addIssue({ code: 'custom', message: `${JSON.stringify(p)}: must not be in .git` });
});

const setupSchema = z
  .strictObject({
    copy: z.array(setupPath).optional(),
    link: z.array(setupPath).optional(),
    run: z
      .array(z.string())
      .min(1, 'needs at least the program')
      .refine((argv) => argv[0] !== '', 'the program must not be empty')
      .optional(),
    shell: nonEmpty.optional(),
    timeoutSec: z.number().positive().max(86_400, 'at most 86400 (one day)').default(DEFAULT_SETUP_TIMEOUT_SEC),
    env: envSchema.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.run !== undefined && s.shell !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['run'],
        message: 'the setup command is either "run" (argv array) or "shell" (string), not both',
      });
    }
    const copied = new Set((s.copy ?? []).map(setupKey));
    (s.link ?? []).forEach((p, i) => {
      if (copied.has(setupKey(p)))
        ctx.addIssue({ code: 'custom', path: ['link', i], message: `${JSON.stringify(p)} is in "copy" too` });
    });
  });

const builtinBase = {
  name: nonEmpty.optional(),
  required: z.boolean().default(true),
};
const builtinGateSchema = z.discriminatedUnion('builtin', [
  z.strictObject({ ...builtinBase, builtin: z.literal('merge-clean') }),
  z.strictObject({ ...builtinBase, builtin: z.literal('no-secrets') }),
  z.strictObject({
    ...builtinBase,
    builtin: z.literal('diff-limit'),
    maxFiles: positiveInt.optional(),
    maxLines: positiveInt.optional(),
  }),
  z.strictObject({ ...builtinBase, builtin: z.literal('protected-paths'), paths: z.array(nonEmpty).optional() }),
]);

/** The file as written (gates are checked one by one, see parseGate). */
const repoConfigFileSchema = z.strictObject({
  $schema: z.string().optional(),
  baseBranch: nonEmpty.optional(),
  defaultProfile: nonEmpty.optional(),
  maxConcurrentLanes: positiveInt.optional(),
  mergeStrategy: z.enum(MERGE_STRATEGIES).optional(),
  commitAuthor: z.strictObject({ name: nonEmpty, email: nonEmpty }).optional(),
  gates: z.array(z.unknown()).optional(),
  setup: setupSchema.optional(),
  gateMode: z.strictObject({ failFast: z.boolean().optional(), parallel: z.boolean().optional() }).optional(),
  protectedPaths: z.array(nonEmpty).optional(),
  diffLimit: z.strictObject({ maxFiles: positiveInt.optional(), maxLines: positiveInt.optional() }).optional(),
  retention: z
    .strictObject({ recordingsDays: positiveInt.optional(), recordingsMaxMb: positiveInt.optional() })
    .optional(),
  engine: z
    .strictObject({ idleExitMinutes: z.number().int().min(0).max(525_600, 'at most 525600 (a year)').optional() })
    .optional(),
  mergeQueue: z
    .strictObject({
      batch: z
        .number()
        .int()
        .min(1, 'at least 1 (1: one entry at a time)')
        .max(MAX_MERGE_QUEUE_BATCH, `at most ${MAX_MERGE_QUEUE_BATCH}`)
        .optional(),
    })
    .optional(),
  usage: z
    .strictObject({
      /** USD per million tokens per model, over the built-in table (lanes/usage/prices.ts) */
      prices: z.record(nonEmpty, priceSchema).optional(),
      budget: z.strictObject({ laneUsd: usd.optional(), dayUsd: usd.optional() }).optional(),
    })
    .optional(),
  notify: z
    .strictObject({
      command: z
        .array(z.string())
        .min(1, 'needs at least the program')
        .refine((argv) => argv[0] !== '', 'the program must not be empty')
        .optional(),
      events: z.array(z.enum(NOTIFY_EVENTS)).optional(),
      desktop: z.boolean().optional(),
    })
    .optional(),
});

/** A gate that runs a command in the lane's worktree: `run` (argv, no shell) or `shell` (`sh -c`). */
export interface CommandGateConfig {
  name: string;
  run?: string[];
  shell?: string;
  timeoutSec: number;
  required: boolean;
  env?: Record<string, string>;
}

/** A gate built into the console. Options not given in the gate come from the top-level config. */
export interface BuiltinGateConfig {
  name: string;
  builtin: BuiltinGateName;
  required: boolean;
  /** diff-limit */
  maxFiles?: number;
  maxLines?: number;
  /** protected-paths: globs against repo-relative paths (dotfiles match) */
  paths?: string[];
}

export type GateConfig = CommandGateConfig | BuiltinGateConfig;

/**
 * What each new lane's worktree gets before its agent starts (docs/config.md, "setup"): files
 * copied or linked from the main checkout (repo-relative, normalised) and a command (`run` argv
 * or `shell`), run in the worktree within `timeoutSec`.
 */
export interface SetupConfig {
  copy: string[];
  link: string[];
  run?: string[];
  shell?: string;
  timeoutSec: number;
  env?: Record<string, string>;
}

export function isBuiltinGate(gate: GateConfig): gate is BuiltinGateConfig {
  return 'builtin' in gate;
}

export interface RepoConfig {
  /** undefined: the repo's current branch */
  baseBranch?: string;
  /** the new-lane form's default profile (else the first whose command is on PATH) */
  defaultProfile?: string;
  maxConcurrentLanes: number;
  mergeStrategy: MergeStrategy;
  commitAuthor?: { name: string; email: string };
  gates: GateConfig[];
  /** true when `gates` came from defaultGates (the file has no `gates`) */
  defaultGates: boolean;
  gateMode: { failFast: boolean; parallel: boolean };
  protectedPaths: string[];
  diffLimit: { maxFiles?: number; maxLines?: number };
  /** recordings of closed lanes kept this many days, and (when set) at most this many MB in all, oldest dropped first */
  retention: { recordingsDays: number; recordingsMaxMb: number | null };
  /** the engine's idle exit; 0: never */
  engine: { idleExitMinutes: number };
  /** the merge queue: `batch` entries validated merged together (1: one at a time, the default) */
  mergeQueue: { batch: number };
  /** notifications when a lane needs the operator (lanes/notify/) */
  notify: NotifyConfig;
  /** what a new lane's worktree gets before its agent starts; undefined: nothing */
  setup?: SetupConfig;
  /** token usage and cost (docs/usage.md): prices over the built-in table, budgets in USD */
  usage: UsageConfig;
}

/** `usage` of the repo config (docs/config.md): prices per model and budgets, in USD. */
export interface UsageConfig {
  /** model -> USD per million tokens; added to (and over) the built-in table */
  prices: Record<string, ModelPrice>;
  /** per lane, and per day (local time) for the whole repo; undefined: no limit */
  budget: { laneUsd?: number; dayUsd?: number };
}

export interface ConfigIssue {
  /** `gates[1].timeoutSec`, or '' for the whole file */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${file}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
    this.name = 'ConfigError';
  }
}

function toIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): ConfigIssue[] {
  return error.issues.map((issue) => {
    const parts = [...prefix, ...issue.path];
    const message = issue.message.replace(/^Invalid input: /, '');
    if (issue.code === 'unrecognized_keys') {
      return {
        path: formatPath(parts),
        message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`,
      };
    }
    return { path: formatPath(parts), message };
  });
}

function parseGate(raw: unknown, index: number): { gate?: GateConfig; issues: ConfigIssue[] } {
  const isBuiltin = typeof raw === 'object' && raw !== null && !Array.isArray(raw) && 'builtin' in raw;
  if (isBuiltin) {
    const r = builtinGateSchema.safeParse(raw);
    if (!r.success) return { issues: toIssues(r.error, ['gates', index]) };
    return { gate: { ...r.data, name: r.data.name ?? r.data.builtin }, issues: [] };
  }
  const r = commandGateSchema.safeParse(raw);
  if (!r.success) return { issues: toIssues(r.error, ['gates', index]) };
  return { gate: r.data, issues: [] };
}

/** The gates used when the config has no `gates`. */
export function defaultGates(opts: {
  hasTestScript: boolean;
  protectedPaths?: string[];
  diffLimit?: { maxFiles?: number; maxLines?: number };
}): GateConfig[] {
  const gates: GateConfig[] = [
    { name: 'merge-clean', builtin: 'merge-clean', required: true },
    { name: 'no-secrets', builtin: 'no-secrets', required: true },
  ];
  if (opts.protectedPaths && opts.protectedPaths.length > 0) {
    gates.push({ name: 'protected-paths', builtin: 'protected-paths', required: true, paths: opts.protectedPaths });
  }
  if (opts.diffLimit && (opts.diffLimit.maxFiles !== undefined || opts.diffLimit.maxLines !== undefined)) {
    gates.push({ name: 'diff-limit', builtin: 'diff-limit', required: true, ...opts.diffLimit });
  }
  if (opts.hasTestScript) {
    gates.push({ name: 'npm test', run: ['npm', 'test'], timeoutSec: DEFAULT_GATE_TIMEOUT_SEC, required: true });
  }
  return gates;
}

/**
 * Validates a parsed config object and fills in the defaults. Pure: `hasTestScript` says whether
 * the repo's package.json has a test script (used only when the config has no `gates`).
 */
export function parseRepoConfig(raw: unknown, opts: { file: string; hasTestScript: boolean }): RepoConfig {
  const top = repoConfigFileSchema.safeParse(raw);
  const issues: ConfigIssue[] = top.success ? [] : toIssues(top.error);
  const gates: GateConfig[] = [];
  const rawGates = top.success ? top.data.gates : undefined;
  if (rawGates) {
    const seen = new Map<string, number>();
    rawGates.forEach((g, i) => {
      const parsed = parseGate(g, i);
      issues.push(...parsed.issues);
      if (!parsed.gate) return;
      const first = seen.get(parsed.gate.name);
      if (first !== undefined) {
        issues.push({
          path: formatPath(['gates', i, 'name']),
          message: `duplicate gate name ${JSON.stringify(parsed.gate.name)} (also gates[${first}])`,
        });
      }
      seen.set(parsed.gate.name, i);
      gates.push(parsed.gate);
    });
  }
  if (!top.success || issues.length > 0) throw new ConfigError(opts.file, issues);
  const c = top.data;
  const protectedPaths = c.protectedPaths ?? [];
  const diffLimit = { ...c.diffLimit };
  // Built-in gates take their options from the top-level fields unless they set their own.
  const resolved = gates.map((g): GateConfig => {
    if (!isBuiltinGate(g)) return g;
    if (g.builtin === 'protected-paths') return { ...g, paths: g.paths ?? protectedPaths };
    if (g.builtin === 'diff-limit')
      return { ...g, maxFiles: g.maxFiles ?? diffLimit.maxFiles, maxLines: g.maxLines ?? diffLimit.maxLines };
    return g;
  });
  return {
    baseBranch: c.baseBranch,
    ...(c.defaultProfile ? { defaultProfile: c.defaultProfile } : {}),
    maxConcurrentLanes: c.maxConcurrentLanes ?? DEFAULT_MAX_CONCURRENT_LANES,
    mergeStrategy: c.mergeStrategy ?? 'merge',
    commitAuthor: c.commitAuthor,
    gates: rawGates ? resolved : defaultGates({ hasTestScript: opts.hasTestScript, protectedPaths, diffLimit }),
    defaultGates: !rawGates,
    gateMode: { failFast: c.gateMode?.failFast ?? false, parallel: c.gateMode?.parallel ?? false },
    protectedPaths,
    diffLimit,
    retention: {
      recordingsDays: c.retention?.recordingsDays ?? DEFAULT_RECORDINGS_DAYS,
      recordingsMaxMb: c.retention?.recordingsMaxMb ?? null,
    },
    engine: { idleExitMinutes: c.engine?.idleExitMinutes ?? DEFAULT_ENGINE_IDLE_EXIT_MINUTES },
    mergeQueue: { batch: c.mergeQueue?.batch ?? DEFAULT_MERGE_QUEUE_BATCH },
    notify: {
      ...(c.notify?.command ? { command: c.notify.command } : {}),
      events: [...new Set(c.notify?.events ?? DEFAULT_NOTIFY_EVENTS)],
      desktop: c.notify?.desktop ?? false,
    },
    usage: {
      prices: Object.fromEntries(
        Object.entries(c.usage?.prices ?? {}).map(([model, p]) => [
          model,
          { input: p.input, cachedInput: p.cachedInput ?? p.input, output: p.output },
        ]),
      ),
      budget: {
        ...(c.usage?.budget?.laneUsd !== undefined ? { laneUsd: c.usage.budget.laneUsd } : {}),
        ...(c.usage?.budget?.dayUsd !== undefined ? { dayUsd: c.usage.budget.dayUsd } : {}),
      },
    },
    ...(c.setup
      ? {
          setup: {
            copy: (c.setup.copy ?? []).map(setupKey),
            link: (c.setup.link ?? []).map(setupKey),
            ...(c.setup.run ? { run: c.setup.run } : {}),
            ...(c.setup.shell !== undefined ? { shell: c.setup.shell } : {}),
            timeoutSec: c.setup.timeoutSec,
            ...(c.setup.env ? { env: c.setup.env } : {}),
          },
        }
      : {}),
  };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** True when `<repoRoot>/package.json` has a non-empty `scripts.test`. */
export async function hasNpmTestScript(repoRoot: string): Promise<boolean> {
  const text = await readIfExists(path.join(repoRoot, 'package.json'));
  if (text === undefined) return false;
  try {
    const pkg = JSON.parse(text) as { scripts?: Record<string, unknown> };
    const test = pkg?.scripts?.test;
    return typeof test === 'string' && test.trim() !== '';
  } catch {
    return false;
  }
}

/** Loads `<repoRoot>/.ao/config.json`; a missing file gives the defaults, a bad one a ConfigError. */
export async function loadRepoConfig(repoRoot: string): Promise<RepoConfig> {
  const text = await readIfExists(path.join(repoRoot, CONFIG_FILE));
  const hasTestScript = await hasNpmTestScript(repoRoot);
  if (text === undefined) return parseRepoConfig({}, { file: CONFIG_FILE, hasTestScript });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(CONFIG_FILE, [{ path: '', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  return parseRepoConfig(raw, { file: CONFIG_FILE, hasTestScript });
}
