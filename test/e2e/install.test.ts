/**
 * Issue 17, install: the CI check of the package as a user gets it. `npm pack` in this repo (the
 * dist/ that test/globalSetup.ts built, package.json `files`), then `npm install -g --prefix <tmp>`
 * of the tarball on its own (its dependencies from the registry, the native modules built at
 * install), then the installed command in another temp git repo: `ao-console --version` and
 * `ao-console lanes --json`.
 *
 * It needs the npm registry (or a warm npm cache) and a compiler for the native modules, and takes
 * minutes: set AO_SKIP_INSTALL_TEST=1 to skip it on a machine without them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INSTALL_TIMEOUT_MS = 15 * 60_000;

const work = mkdtempSync(path.join(tmpdir(), 'ao-install-'));
let repo: TempRepo | null = null;
afterAll(async () => {
  await repo?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: INSTALL_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = `${cmd} ${args.join(' ')} → ${r.status ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', out };
}

describe.skipIf(process.env.AO_SKIP_INSTALL_TEST === '1')('install from a packed tarball', () => {
  it(
    'npm pack, npm install -g --prefix, then ao-console --version and lanes --json in another repo',
    async () => {
      const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
        .version;
      // dist/ is fresh (globalSetup): pack without the prepare script, so no second build races it
      const pack = run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], ROOT);
      expect(pack.code, pack.out).toBe(0);
      const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
      expect(tarball, pack.out).toBeDefined();

      const prefix = path.join(work, 'prefix');
      const install = run(
        'npm',
        ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', path.join(work, tarball as string)],
        work,
      );
      expect(install.code, install.out).toBe(0);
      const bin = path.join(prefix, 'bin', 'ao-console');

      repo = await createTempRepo();
      // PATH without this checkout's node_modules/.bin: the installed command stands alone
      const env = { PATH: `${path.join(prefix, 'bin')}:${path.dirname(process.execPath)}:/usr/bin:/bin` };
      const v = run(bin, ['--version'], repo.dir, env);
      expect(v.code, v.out).toBe(0);
      expect(v.stdout.trim()).toContain(version);

      const lanes = run(bin, ['lanes', '--json'], repo.dir, { ...env, AO_STATE_DIR: repo.stateDir });
      expect(lanes.code, lanes.out).toBe(0);
      expect(JSON.parse(lanes.stdout)).toEqual([]);
    },
    INSTALL_TIMEOUT_MS + 60_000,
  );
});
