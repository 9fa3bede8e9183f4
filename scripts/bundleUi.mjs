// Bundles the dashboard's UI (Ink, React and their ~800 small modules, with components/ and
// src/{state,ui,keymap,...}) into one file, dist/src/ui/dashboard.bundle.js, which the dashboard
// loads instead of dist/src/ui/runDashboard.js when it is there: resolving and linking that many
// ES modules is most of the time between the splash and the dashboard (issue "Lanes outlive
// every window": the lanes' screens within a second of the first frame).
//
// The engine side stays out of the bundle (lanes/, src/control/, src/splash.js, src/commands/,
// profiles/ and the native and emulator packages): those modules are imported from dist/ as they
// are, so there is one copy of each class and of each module's state (the splash, ActionError).
// Without esbuild (an unpacked tarball carries the bundle already) it says so and does nothing.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const entry = path.join(dist, 'src', 'ui', 'runDashboard.js');
export const BUNDLE = path.join(dist, 'src', 'ui', 'dashboard.bundle.js');

/** dist/ files the bundle imports instead of copying (the engine side, shared state). */
const SHARED = [
  path.join(dist, 'lanes') + path.sep,
  path.join(dist, 'profiles') + path.sep,
  path.join(dist, 'src', 'control') + path.sep,
  path.join(dist, 'src', 'commands') + path.sep,
  // the replay (an emulator, the store's reader, SQLite): loaded when first used, after the first frame
  path.join(dist, 'src', 'replay') + path.sep,
  path.join(dist, 'src', 'splash.js'),
];
/** packages left to node: native modules, the emulator (large, loaded lazily by the replay), SQLite */
const EXTERNAL_PACKAGES = [
  'better-sqlite3',
  'node-pty',
  '@xterm/headless',
  '@xterm/addon-serialize',
  'zod',
  'commander',
];

export async function bundleUi() {
  if (!existsSync(entry)) return false;
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    process.stderr.write('bundleUi: esbuild is not installed; the dashboard loads its modules one by one\n');
    rmSync(BUNDLE, { force: true });
    return false;
  }
  const outDir = path.dirname(BUNDLE);
  const shared = {
    name: 'ao-shared',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const abs = path.resolve(args.resolveDir, args.path);
        if (!SHARED.some((s) => (s.endsWith(path.sep) ? abs.startsWith(s) : abs === s))) return undefined;
        let rel = path.relative(outDir, abs).split(path.sep).join('/');
        if (!rel.startsWith('.')) rel = `./${rel}`;
        return { path: rel, external: true };
      });
      // Ink imports React's devtools only in development: never in this bundle.
      build.onResolve({ filter: /^react-devtools-core$/ }, () => ({
        path: 'react-devtools-core',
        namespace: 'ao-stub',
      }));
      build.onLoad({ filter: /.*/, namespace: 'ao-stub' }, () => ({
        contents: 'export default { initialize() {}, connectToDevTools() {} };',
        loader: 'js',
      }));
    },
  };
  await esbuild.build({
    entryPoints: [entry],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL_PACKAGES,
    plugins: [shared],
    define: { 'process.env.NODE_ENV': '"production"' },
    // CommonJS packages inside an ES module bundle call require(): give them one
    banner: {
      js: "import { createRequire as __aoRequire } from 'node:module'; const require = __aoRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await bundleUi();
}
