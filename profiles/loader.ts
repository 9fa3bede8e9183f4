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
import type { z } from 'zod';
import { PLACEHOLDER_RE, profileSchema, type Placeholder, type Profile } from './schema.js';

export type ProfileOrigin = 'builtin' | 'repo';
/** A validated profile and the file it came from. */
export type LoadedProfile = Profile & { source: string; origin: ProfileOrigin };

/** One problem with one profile file. `field` is a path like `patterns.busy[1]`, or '' for the whole file. */
export interface ProfileLoadError {
  file: string;
  field: string;
  message: string;
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

/** `file: field: message` (or `file: message` when the problem is the whole file). */
export function formatProfileLoadError(e: ProfileLoadError): string {
  return e.field ? `${e.file}: ${e.field}: ${e.message}` : `${e.file}: ${e.message}`;
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
  const fail = (field: string, message: string): ProfileFileResult => ({
    ok: false,
    errors: [{ file, field, message }],
  });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail('', `cannot read file: ${(err as Error).message}`);
  }
  const parsed = parseJson(text);
  if (!parsed.ok) return fail('', parsed.message);
  return validateProfile(parsed.value, path.basename(file, '.json'), file);
}

/** Validates parsed JSON as the profile named `name` (the file's name). */
export function validateProfile(value: unknown, name: string, file: string): ProfileFileResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, errors: [{ file, field: '', message: `expected a JSON object, got ${describe(value)}` }] };
  }
  const obj = value as Record<string, unknown>;
  const errors: ProfileLoadError[] = [];
  if (obj.name !== undefined && obj.name !== name) {
    errors.push({
      file,
      field: 'name',
      message: `${JSON.stringify(obj.name)} does not match the file name (expected ${JSON.stringify(name)})`,
    });
  }
  const result = profileSchema.safeParse({ ...obj, name });
  if (!result.success) errors.push(...issuesToErrors(result.error.issues, file, obj.name === undefined));
  if (errors.length > 0 || !result.success) return { ok: false, errors };
  return { ok: true, profile: result.data };
}

function issuesToErrors(issues: readonly z.core.$ZodIssue[], file: string, nameFromFile: boolean): ProfileLoadError[] {
  const out: ProfileLoadError[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ file, field: formatPath([...issue.path, key]), message: 'unknown field' });
      continue;
    }
    if (issue.code === 'invalid_key') {
      const inner = issue.issues.map((i) => i.message).join('; ');
      out.push({ file, field: formatPath(issue.path), message: inner || 'invalid key' });
      continue;
    }
    let message = issue.message.replace(/^Invalid input: /, '').replace(/^Invalid option: /, '');
    if (issue.code === 'invalid_type' && /received undefined$/.test(message))
      message = `missing (${message.replace(/, received undefined$/, '')})`;
    const field = formatPath(issue.path);
    if (field === 'name' && nameFromFile) message += ' (the name comes from the file name)';
    out.push({ file, field, message });
  }
  return out;
}

/** `patterns.busy[1]`, `env["MY-VAR"]`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][\w$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

type JsonResult = { ok: true; value: unknown } | { ok: false; message: string };

/** JSON.parse with an error that says "line L, column C" (V8 does not always give a position). */
export function parseJson(text: string): JsonResult {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '') return { ok: false, message: 'empty file (expected a JSON object)' };
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (err) {
    const reason = (err as Error).message
      .replace(/, (\.\.\.)?".*" is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '');
    const offset = jsonErrorOffset(body);
    const { line, column } = lineColumn(body, offset);
    return { ok: false, message: `invalid JSON at line ${line}, column ${column}: ${reason}` };
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

/** The offset of the first syntax error in `text` (a small JSON scanner; V8's messages lack it sometimes). */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  class At extends Error {
    constructor(readonly at: number) {
      super('json');
    }
  }
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const lit = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) throw new At(i);
      i++;
    }
  };
  const str = () => {
    i++; // opening quote
    while (i < text.length) {
      const ch = text[i];
      if (ch === '"') return void i++;
      if (ch === '\\') {
        const esc = text[i + 1];
        if (esc === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new At(i);
          i += 6;
        } else if (esc !== undefined && '"\\/bfnrt'.includes(esc)) i += 2;
        else throw new At(i + 1);
      } else if (ch < ' ') throw new At(i);
      else i++;
    }
    throw new At(i);
  };
  const num = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) throw new At(i);
    i += m[0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') throw new At(i);
        str();
        ws();
        if (text[i] !== ':') throw new At(i);
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else throw new At(i);
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else throw new At(i);
      }
    }
    if (ch === '"') return str();
    if (ch === 't') return lit('true');
    if (ch === 'f') return lit('false');
    if (ch === 'n') return lit('null');
    if (ch === '-' || (ch >= '0' && ch <= '9')) return num();
    throw new At(i);
  };
  try {
    value();
    ws();
    return i < text.length ? i : text.length;
  } catch (err) {
    if (err instanceof At) return Math.min(err.at, text.length);
    throw err;
  }
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
 * Replaces placeholders inside each argv element, in one pass: a value is never re-scanned, so a
 * task holding `{lane}` or `$(touch x)` stays literal text inside its one element. Never builds
 * a shell string; the result is spawned as argv.
 */
export function expandArgs(
  profile: Pick<Profile, 'command' | 'args' | 'resumeArgs'>,
  vars: ArgVars,
  opts: ExpandOptions = {},
): { command: string; args: string[] } {
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
  return { command: expand(profile.command), args: argv.map(expand) };
}
