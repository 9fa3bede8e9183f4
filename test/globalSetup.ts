/**
 * Vitest global setup (vitest.config.ts): no test runs on an old build. Some tests run compiled
 * code from dist/: the worker threads (dist/lanes/recording/recorderWorker.js and
 * dist/lanes/terminal/terminalWorker.js, which the TS sources load from there) and the binary
 * (dist/src/cli.js, test/helpers/cliBin.ts). Before any test file runs, and again before each
 * watch-mode rerun, this builds dist/ (`tsc -p tsconfig.json`, then scripts/postbuild.mjs) when
 * any source is newer than the oldest compiled file or one is missing; an up-to-date dist/ costs
 * a few milliseconds of stat calls. It runs once, in vitest's main process, before the forked
 * test workers start.
 *
 * Type errors do not stop the tests (tsc still emits; `npm test` type-checks first): they are
 * reported once as a warning. A build that leaves dist/ stale fails the run with tsc's output.
 * Vitest runs started at the same time (another terminal, another checkout tool) take turns
 * through a lock directory, so two builds never write dist/ at once.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseJsonc } from 'jsonc-parser';
import type { TestProject } from 'vitest/node';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist');
const LOCK = path.join(DIST, '.build.lock');
/** A lock older than this was left by a run that died: a build takes seconds. */
const LOCK_STALE_MS = 5 * 60_000;
const LOCK_WAIT_MS = 5 * 60_000;

/** Why dist/ is out of date (the first reason found), or null when it is up to date. */
export function distStaleness(root = ROOT): string | null {
  // tsconfig.json may hold comments; its `include` lists the source folders.
  const tsconfigFile = path.join(root, 'tsconfig.json');
  const tsconfig = parseJsonc(readFileSync(tsconfigFile, 'utf8')) as { include?: string[] };
  const sources = (tsconfig.include ?? []).flatMap((dir) => listSources(path.join(root, dir)));
  if (sources.length === 0) return `no sources found from ${tsconfigFile}`;
  // Settings change the output of every file.
  let newest = { file: tsconfigFile, mtime: statSync(tsconfigFile).mtimeMs };
  for (const file of [path.join(root, 'package.json'), ...sources]) {
    const mtime = statSync(file).mtimeMs;
    if (mtime > newest.mtime) newest = { file, mtime };
  }
  let oldest = { file: '', mtime: Infinity };
  for (const src of sources) {
    const out = path.join(root, 'dist', path.relative(root, src)).replace(/\.tsx?$/, '.js');
    if (!existsSync(out)) return `${path.relative(root, out)} is missing`;
    const mtime = statSync(out).mtimeMs;
    if (mtime < oldest.mtime) oldest = { file: out, mtime };
  }
  // Not per file: a change in one module can change another's output (an import that became
  // type-only), and tsc writes every output in one build, so the oldest output is the build's time.
  if (newest.mtime > oldest.mtime)
    return `${path.relative(root, newest.file)} is newer than ${path.relative(root, oldest.file)}`;
  return null;
}

function listSources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = path.join(dir, d.name);
    if (d.isDirectory()) return listSources(full);
    return d.isFile() && /\.tsx?$/.test(d.name) && !d.name.endsWith('.d.ts') ? [full] : [];
  });
}

function build(reason: string): void {
  const started = Date.now();
  process.stderr.write(`[globalSetup] dist/ is out of date (${reason}): building...\n`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
  const stillStale = distStaleness();
  if (compiled.error || stillStale) {
    throw new Error(
      `the build left dist/ out of date (${stillStale ?? compiled.error?.message}); the tests would run old code.\n` +
        `tsc -p tsconfig.json exited ${compiled.status}:\n${compiled.stdout}${compiled.stderr}`,
    );
  }
  if (compiled.status !== 0) {
    const errors = compiled.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    process.stderr.write(
      `[globalSetup] warning: tsc reported ${errors.length} type error(s); the tests run on what it emitted ` +
        `(\`npm run typecheck\` lists them). First: ${errors[0] ?? compiled.stdout.trim().split('\n')[0]}\n`,
    );
  }
  const post = spawnSync(process.execPath, ['scripts/postbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (post.status !== 0) throw new Error(`scripts/postbuild.mjs failed:\n${post.stdout}${post.stderr}`);
  process.stderr.write(`[globalSetup] built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

/** Takes the build lock (a directory: mkdir is atomic), waiting for another run's build. */
async function withBuildLock(fn: () => void): Promise<void> {
  mkdirSync(DIST, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  let waiting = false;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) rmdirSync(LOCK, { recursive: false });
      else if (Date.now() > deadline) throw new Error(`${LOCK} is held by another build for too long`);
      else {
        if (!waiting) process.stderr.write(`[globalSetup] waiting for another run's build (${LOCK})\n`);
        waiting = true;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
  try {
    fn();
  } finally {
    rmdirSync(LOCK);
  }
}

export async function ensureFreshBuild(): Promise<void> {
  if (distStaleness() === null) return;
  await withBuildLock(() => {
    // Another run may have built while this one waited for the lock.
    const reason = distStaleness();
    if (reason) build(reason);
  });
}

export default async function setup(project: TestProject): Promise<void> {
  project.onTestsRerun(() => ensureFreshBuild());
  await ensureFreshBuild();
}
