/**
 * Loads profiles: the built-ins in `profiles/builtin/*.json`, then the repo's own in
 * `<repo>/.ao/profiles/*.json`, which add profiles or replace a built-in of the same name
 * (an override is a full profile, not a patch). A profile's name is its file name without
 * `.json`; a `name` field, when present, must agree. Every problem is reported with the file
 * and the field path; nothing is thrown until `loadProfilesOrThrow`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodeAtLocation, parseTree, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { PLACEHOLDER_RE, profileSchema, type Placeholder, type Profile } from './schema.js';
import { formatPath } from './zodIssues.js';

export type ProfileOrigin = 'builtin' | 'repo';
/** A validated profile and the file it came from. */
export type LoadedProfile = Profile & { source: string; origin: ProfileOrigin };

/**
 * One problem with one profile file. `field` is a path like `patterns.busy[1]`, or '' for the
 * whole file. `line` and `column` (1-based), when known, say where: the syntax error, or the
 * value (or unknown key) the field problem is about.
 */
export interface ProfileLoadError {
  file: string;
  field: string;
  message: string;
  line?: number;
  column?: number;
}

export interface LoadedProfiles {
  profiles: Map<string, LoadedProfile>;
  errors: ProfileLoadError[];
}

/** Thrown by loadProfilesOrThrow: lists every problem, because nothing starts until all are fixed. */
export class ProfilesInvalidError extends Error {
  constructor(readonly errors: readonly ProfileLoadError[]) {
    const n = errors.length;
    super(
      `${n} profile problem${n === 1 ? '' : 's'}; nothing starts until ${n === 1 ? 'it is' : 'they are'} fixed:\n` +
        errors.map((e) => `  ${formatProfileLoadError(e)}`).join('\n'),
    );
    this.name = 'ProfilesInvalidError';
  }
}

/**
 * `file: field: message (line L, column C)`, or `file: message` when the problem is the whole file
 * (a syntax error says its line and column in its message).
 */
export function formatProfileLoadError(e: ProfileLoadError): string {
  if (!e.field) return `${e.file}: ${e.message}`;
  const at = e.line === undefined ? '' : ` (line ${e.line}, column ${e.column})`;
  return `${e.file}: ${e.field}: ${e.message}${at}`;
}

/** The repo's own profile folder. */
export function repoProfilesDir(repoRoot: string): string {
  return path.join(repoRoot, '.ao', 'profiles');
}

let cachedBuiltinDir: string | undefined;
/**
 * The folder of the built-in profiles, from the source tree (`profiles/loader.ts`) or from the
 * compiled one (`dist/profiles/loader.js`, where tsc did not copy the JSON files).
 */
export function builtinDir(): string {
  if (cachedBuiltinDir) return cachedBuiltinDir;
  const candidates = [new URL('./builtin/', import.meta.url), new URL('../../profiles/builtin/', import.meta.url)];
  for (const url of candidates) {
    const dir = fileURLToPath(url).replace(/[\\/]$/, '');
    if (existsSync(path.join(dir, 'demo.json'))) return (cachedBuiltinDir = dir);
  }
  throw new Error(`built-in profiles not found (looked in ${candidates.map((u) => fileURLToPath(u)).join(', ')})`);
}

/** Loads built-ins and repo profiles; problems are returned, not thrown. A broken file's name is left out of `profiles`. */
export function loadProfiles(repoRoot: string, opts: { builtinDir?: string } = {}): LoadedProfiles {
  const profiles = new Map<string, LoadedProfile>();
  const errors: ProfileLoadError[] = [];
  const sources: [string, ProfileOrigin][] = [
    [opts.builtinDir ?? builtinDir(), 'builtin'],
    [repoProfilesDir(repoRoot), 'repo'],
  ];
  for (const [dir, origin] of sources) {
    for (const file of listJsonFiles(dir, origin, errors)) {
      const name = path.basename(file, '.json');
      const result = loadProfileFile(file);
      if (result.ok) {
        profiles.set(name, { ...result.profile, source: file, origin });
      } else {
        // A broken override must not fall back to the built-in the operator meant to replace.
        profiles.delete(name);
        errors.push(...result.errors);
      }
    }
  }
  return { profiles, errors };
}

/** Like loadProfiles, but throws ProfilesInvalidError listing every problem when there is any. */
export function loadProfilesOrThrow(repoRoot: string, opts: { builtinDir?: string } = {}): Map<string, LoadedProfile> {
  const { profiles, errors } = loadProfiles(repoRoot, opts);
  if (errors.length > 0) throw new ProfilesInvalidError(errors);
  return profiles;
}

function listJsonFiles(dir: string, origin: ProfileOrigin, errors: ProfileLoadError[]): string[] {
  if (!existsSync(dir)) {
    if (origin === 'builtin') errors.push({ file: dir, field: '', message: 'built-in profile folder is missing' });
    return [];
  }
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.name.endsWith('.json') && !d.isDirectory())
      .map((d) => path.join(dir, d.name))
      .sort();
  } catch (err) {
    errors.push({ file: dir, field: '', message: `cannot read folder: ${(err as Error).message}` });
    return [];
  }
}

export type ProfileFileResult = { ok: true; profile: Profile } | { ok: false; errors: ProfileLoadError[] };

/** Reads and validates one profile file. The profile's name is the file's name without `.json`. */
export function loadProfileFile(file: string): ProfileFileResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, errors: [{ file, field: '', message: `cannot read file: ${(err as Error).message}` }] };
  }
  const parsed = parseJson(text);
  if (!parsed.ok) {
    const { ok: _ok, ...error } = parsed;
    return { ok: false, errors: [{ file, field: '', ...error }] };
  }
  return validateProfile(parsed.value, path.basename(file, '.json'), file, parsed.text);
}

/**
 * Validates parsed JSON as the profile named `name` (the file's name); with the JSON `text` it
 * was parsed from, each problem also says where in the file it is.
 */
export function validateProfile(value: unknown, name: string, file: string, text?: string): ProfileFileResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, errors: [{ file, field: '', message: `expected a JSON object, got ${describe(value)}` }] };
  }
  const obj = value as Record<string, unknown>;
  const where = locator(text);
  const errors: ProfileLoadError[] = [];
  if (obj.name !== undefined && obj.name !== name) {
    errors.push({
      file,
      field: 'name',
      message: `${JSON.stringify(obj.name)} does not match the file name (expected ${JSON.stringify(name)})`,
      ...where(['name']),
    });
  }
  const result = profileSchema.safeParse({ ...obj, name });
  if (!result.success) errors.push(...issuesToErrors(result.error.issues, file, obj.name === undefined, where));
  if (errors.length > 0 || !result.success) return { ok: false, errors };
  return { ok: true, profile: result.data };
}

function issuesToErrors(
  issues: readonly z.core.$ZodIssue[],
  file: string,
  nameFromFile: boolean,
  where: Locator,
): ProfileLoadError[] {
  const out: ProfileLoadError[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const at = [...issue.path, key];
        out.push({ file, field: formatPath(at), message: 'unknown field', ...where(at, { key: true }) });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      const inner = issue.issues.map((i) => i.message).join('; ');
      out.push({
        file,
        field: formatPath(issue.path),
        message: inner || 'invalid key',
        ...where(issue.path, { key: true }),
      });
      continue;
    }
    let message = issue.message.replace(/^Invalid input: /, '').replace(/^Invalid option: /, '');
    if (issue.code === 'invalid_type' && /received undefined$/.test(message))
      message = `missing (${message.replace(/, received undefined$/, '')})`;
    const field = formatPath(issue.path);
    // A name that comes from the file name is nowhere in the file.
    if (field === 'name' && nameFromFile)
      out.push({ file, field, message: `${message} (the name comes from the file name)` });
    else out.push({ file, field, message, ...where(issue.path) });
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** A place in a file: 1-based line and column. */
export interface FilePosition {
  line: number;
  column: number;
}

/**
 * Where the value at a zod path is in the file's text (with `key`: where its key is), or, for a
 * field that is missing, where the nearest enclosing value is (the object that lacks it).
 */
type Locator = (segments: readonly PropertyKey[], opts?: { key?: boolean }) => Partial<FilePosition>;

function locator(text: string | undefined): Locator {
  if (text === undefined) return () => ({});
  let root: JsonNode | undefined | null = null;
  return (segments, opts = {}) => {
    root ??= parseTree(text, [], STRICT_JSON);
    if (!root) return {};
    const jsonPath = segments.filter((s): s is string | number => typeof s !== 'symbol');
    for (let n = jsonPath.length; n >= 0; n--) {
      const node = findNodeAtLocation(root, jsonPath.slice(0, n));
      if (!node) continue;
      const atKey = opts.key && n === jsonPath.length && node.parent?.type === 'property';
      return lineColumn(text, atKey ? node.parent!.offset : node.offset);
    }
    return {};
  };
}

/** Strict JSON, as JSON.parse reads it: no comments, no trailing commas. */
const STRICT_JSON = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false };

type JsonResult = { ok: true; value: unknown; text: string } | ({ ok: false; message: string } & Partial<FilePosition>);

/** JSON.parse, with an error that says "line L, column C" (V8's message does not always give a position). */
export function parseJson(text: string): JsonResult {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '') return { ok: false, message: 'empty file (expected a JSON object)' };
  try {
    return { ok: true, value: JSON.parse(body), text: body };
  } catch (err) {
    const reason = (err as Error).message
      .replace(/, (\.\.\.)?".*" is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '');
    const { line, column } = lineColumn(body, jsonErrorOffset(body));
    return { ok: false, message: `invalid JSON at line ${line}, column ${column}: ${reason}`, line, column };
  }
}

function lineColumn(text: string, offset: number): FilePosition {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

/**
 * The offset of the first syntax error in `text` (text.length when there is none), from
 * jsonc-parser. It points at the start of the bad token; inside a string (a bad escape, a control
 * character) V8's message has the exact position, so that one is used when it lies in the token.
 */
export function jsonErrorOffset(text: string): number {
  const errors: ParseError[] = [];
  parseTree(text, errors, STRICT_JSON);
  const first = errors[0];
  if (!first) return text.length;
  if (text[first.offset] === '"') {
    try {
      JSON.parse(text);
    } catch (err) {
      const exact = Number(/ at position (\d+)/.exec((err as Error).message)?.[1] ?? NaN);
      if (exact >= first.offset && exact <= first.offset + first.length) return exact;
    }
  }
  return Math.min(first.offset, text.length);
}

/** The values an argv is expanded with. */
export interface ArgVars {
  task: string;
  lane: string;
  worktree: string;
  briefingFile: string;
}

export interface ExpandOptions {
  /** Use `resumeArgs` (falling back to `args` when the profile has none). */
  resume?: boolean;
  /** `{node}`; default process.execPath. */
  node?: string;
  /** `{builtinDir}`; default builtinDir(). */
  builtinDir?: string;
  /** `{shell}`; default $SHELL, else /bin/sh. */
  shell?: string;
}

/**
 * Replaces placeholders inside each argv element and each `env` value, in one pass: a value is never re-scanned, so a
 * task holding `{lane}` or `$(touch x)` stays literal text inside its one element. Never builds
 * a shell string; the result is spawned as argv.
 */
export function expandArgs(
  profile: Pick<Profile, 'command' | 'args' | 'resumeArgs'> & Partial<Pick<Profile, 'env'>>,
  vars: ArgVars,
  opts: ExpandOptions = {},
): { command: string; args: string[]; env: Record<string, string> } {
  const values: Record<Placeholder, () => string> = {
    task: () => vars.task,
    lane: () => vars.lane,
    worktree: () => vars.worktree,
    briefingFile: () => vars.briefingFile,
    node: () => opts.node ?? process.execPath,
    builtinDir: () => opts.builtinDir ?? builtinDir(),
    shell: () => opts.shell ?? (process.env.SHELL || '/bin/sh'),
  };
  const expand = (s: string) =>
    s.replace(PLACEHOLDER_RE, (whole, key: string) =>
      Object.hasOwn(values, key) ? values[key as Placeholder]() : whole,
    );
  const argv = opts.resume && profile.resumeArgs ? profile.resumeArgs : profile.args;
  const env = Object.fromEntries(Object.entries(profile.env ?? {}).map(([k, v]) => [k, expand(v)]));
  return { command: expand(profile.command), args: argv.map(expand), env };
}
