/**
 * The trust file: which command sets the operator allowed, per repo. It lives in the user's
 * state, never in the repo (a clone can ship anything, a `.git` dir included):
 * `$AO_TRUST_FILE`, else `$XDG_STATE_HOME/ao-console/trust.json`, else
 * `~/.local/state/ao-console/trust.json`. The file is 0600 in a 0700 directory and is written
 * atomically (a temp file in the same directory, then rename), so a reader sees the old file or
 * the new one, never half of one. A file that is not what we wrote is a TrustFileError naming it:
 * every reader treats that as "nothing allowed".
 *
 * Not locked: two `ao-console trust --yes` at the same instant for different repos may lose one
 * of the two entries (then that repo asks again). Cheap to redo, so not worth a lock.
 */
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../config/atomicFile.js';
import { userStateDir } from '../config/userState.js';

/** One command a repo's config runs, as shown to the operator and hashed. */
export interface RepoCommand {
  /** where the config asks for it */
  kind: 'setup' | 'gate' | 'notify';
  /** `setup`, the gate's name, `notify.command` */
  name: string;
  /** argv (no shell) */
  run?: string[];
  /** a string for `sh -c` */
  shell?: string;
  env?: Record<string, string>;
}

export interface TrustEntry {
  /** SHA-256 (hex) of the canonical JSON of `commands` */
  sha256: string;
  /** ISO time the operator allowed them */
  allowedAt: string;
  commands: RepoCommand[];
}

export interface TrustFileData {
  version: 1;
  /** keyed by the repo's real path */
  repos: Record<string, TrustEntry>;
}

const commandSchema = z.strictObject({
  kind: z.enum(['setup', 'gate', 'notify']),
  name: z.string(),
  run: z.array(z.string()).optional(),
  shell: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
});
const fileSchema = z.strictObject({
  version: z.literal(1),
  repos: z.record(
    z.string(),
    z.strictObject({
      sha256: z.string().regex(/^[0-9a-f]{64}$/, 'not a SHA-256'),
      allowedAt: z.string(),
      commands: z.array(commandSchema),
    }),
  ),
});

/** The trust file cannot be read as one (bad JSON, wrong shape, unreadable). */
export class TrustFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(
      `trust file ${file} is damaged (${detail}); nothing in it counts as allowed: fix or remove it, then run \`ao-console trust\``,
    );
    this.name = 'TrustFileError';
  }
}

/** Where the trust file is for this environment. */
export function trustFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AO_TRUST_FILE) return path.resolve(env.AO_TRUST_FILE);
  return path.join(userStateDir(env), 'trust.json');
}

const empty = (): TrustFileData => ({ version: 1, repos: {} });

/** Reads the trust file; a missing one is empty, anything else wrong a TrustFileError. */
export function readTrustFile(file: string): TrustFileData {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty();
    throw new TrustFileError(file, (err as Error).message);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TrustFileError(file, `not valid JSON: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new TrustFileError(file, `${first?.path.join('.') || 'file'}: ${first?.message ?? 'unexpected shape'}`);
  }
  return parsed.data;
}

/** Writes the trust file atomically, 0600, creating its directory 0700. */
export function writeTrustFile(file: string, data: TrustFileData): void {
  const dir = path.dirname(file);
  const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Only a directory we made is ours to tighten (AO_TRUST_FILE may point into a shared one).
  if (created !== undefined) chmodSync(dir, 0o700);
  writeFileAtomic(file, `${JSON.stringify(data, null, 2)}\n`);
}
