// The `prepare` script: builds dist/ from the sources, and makes one command install from a clone.
//
// npm runs `prepare` on `npm install` in the clone, on `npm pack` / `npm publish`, and on
// `npm install -g .` / `npm link` (a global link to the clone). It does not run it when a packed
// tarball or a published version is installed: those carry dist/ already (package.json `files`).
//
// - No tsconfig.json (an unpacked tarball): nothing to build.
// - TypeScript installed: build (tsc, then scripts/postbuild.mjs).
// - A global link from a fresh clone (`npm install -g .` before `npm install`): npm links the clone
//   but installs none of its dependencies, so the linked command could not run. Install them here
//   (a plain `npm install` in the clone, which builds the native modules and runs this script again
//   to build dist/).
// - Otherwise: say what to run, exit 1.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (msg) => process.stderr.write(`ao-console prepare: ${msg}\n`);

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function typescriptCompiler() {
  try {
    return createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return null;
  }
}

if (!existsSync(path.join(root, 'tsconfig.json'))) process.exit(0);

const tsc = typescriptCompiler();
if (tsc) {
  run(process.execPath, [tsc, '-p', 'tsconfig.json']);
  run(process.execPath, [path.join(root, 'scripts', 'postbuild.mjs')]);
  process.exit(0);
}

const npmCli = process.env.npm_execpath;
if (process.env.npm_config_global === 'true' && npmCli && !process.env.AO_PREPARE_INSTALLING) {
  say('installing the dependencies of this clone (npm install; native modules build, about 2 minutes)');
  // The global install's settings must not reach the clone's own install.
  const env = { ...process.env, AO_PREPARE_INSTALLING: '1' };
  for (const key of Object.keys(env)) {
    if (/^npm_config_(global|global_prefix|globalconfig|local_prefix|prefix|location)$/i.test(key)) delete env[key];
  }
  run(process.execPath, [npmCli, 'install', '--no-audit', '--no-fund'], env);
  if (!existsSync(path.join(root, 'dist', 'src', 'cli.js'))) {
    say(
      'npm install finished but dist/src/cli.js was not built; run `npm install` in the clone and look at its output',
    );
    process.exit(1);
  }
  process.exit(0);
}

say(
  `TypeScript is not installed in ${root}, so dist/ cannot be built. Run \`npm install\` here first ` +
    '(it installs the dev dependencies and builds), then `npm install -g .` or `npm link`.',
);
process.exit(1);
