/**
 * The layer rules of ao-console (docs/architecture.md, "Layers"), checked by `npm run lint`:
 *
 *   entry (src/cli, src/main, src/commands/, src/ui/runDashboard, src/tools/)
 *     → components/ → src/ → lanes/ → profiles/
 *
 * Imports point down, never up, and no two files import each other in a loop. Each rule's
 * comment is what a failing `npm run lint` prints: it says the rule and what to do instead.
 */
const ENTRY = '^src/(cli|main|splash)\\.ts$|^src/commands/|^src/ui/runDashboard\\.tsx$|^src/tools/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment:
        'Import cycle: two modules import each other (directly or through others). Move what both need into a lower module, or pass it in.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'profiles-import-nothing-of-ours',
      severity: 'error',
      comment:
        'profiles/ is the bottom layer: it imports nothing from lanes/, src/ or components/. Move the shared piece down into profiles/ or pass it in.',
      from: { path: '^profiles/' },
      to: { path: '^(lanes|src|components)/' },
    },
    {
      name: 'engine-draws-nothing',
      severity: 'error',
      comment: 'lanes/ and profiles/ run headless: no React or Ink. Drawing belongs in components/ (and src/ui/).',
      from: { path: '^(lanes|profiles)/' },
      to: { path: 'node_modules/(react|ink)/' },
    },
    {
      name: 'engine-stands-alone',
      severity: 'error',
      comment:
        'lanes/ is the engine: it runs without the app, so it never imports src/ or components/. Move the piece the engine needs into lanes/ (or profiles/), and let the app import it from there.',
      from: { path: '^lanes/' },
      to: { path: '^(src|components)/' },
    },
    {
      name: 'app-below-views',
      severity: 'error',
      comment:
        'src/ (state, keymap, ui helpers, control client) sits below components/: it never imports an Ink view. Only the entry (src/cli, src/main, src/commands/, src/ui/runDashboard) mounts components.',
      from: { path: '^src/', pathNot: ENTRY },
      to: { path: '^components/' },
    },
    {
      name: 'app-below-entry',
      severity: 'error',
      comment:
        'Only the entry imports the entry: components/ and src/ modules never import src/cli, src/main or src/commands/. Move the shared piece into src/ (or lanes/).',
      from: { pathNot: ENTRY + '|^test/' },
      to: { path: ENTRY },
    },
    {
      name: 'views-draw-only',
      severity: 'error',
      comment:
        'components/ draw the store: they never touch processes, git, SQLite or the engine. Read state through src/state selectors and call its actions.',
      from: { path: '^components/' },
      to: { path: '^lanes/|node_modules/(node-pty|execa|better-sqlite3)/|^(node:)?child_process$' },
    },
    {
      name: 'git-only-in-lanes-git',
      severity: 'error',
      comment:
        'lanes/git/ is the only place that runs git. Call (or add) a function in lanes/git/ instead of running git here.',
      from: { pathNot: '^lanes/git/|^test/' },
      to: { path: '^lanes/git/git\\.ts$' },
    },
    {
      name: 'sql-only-in-lanes-store',
      severity: 'error',
      comment:
        'lanes/store/ is the only place that holds SQL. Call (or add) a function in lanes/store/ instead of using better-sqlite3 here.',
      from: { pathNot: '^lanes/store/|^test/' },
      to: { path: 'node_modules/better-sqlite3/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.tsx', '.js', '.mjs'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
