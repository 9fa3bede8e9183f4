import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.bench-tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setImmediate: 'readonly',
        performance: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  // The layers themselves (entry → components → src → lanes → profiles, no cycles, the git runner
  // only in lanes/git) are checked by dependency-cruiser: .dependency-cruiser.cjs. These rules are
  // the ones that need the syntax tree: SQL lives only in lanes/store/, and git is run only from
  // lanes/git/ (a process started with the literal 'git').
  ...placeRules(),
);

function placeRules() {
  const sql = {
    selector: 'CallExpression[callee.property.name=/^(prepare|pragma|transaction)$/]',
    message:
      'lanes/store/ is the only place that holds SQL: call (or add) a function in lanes/store/ instead of preparing statements here.',
  };
  const git = {
    selector:
      "CallExpression[callee.name=/^(spawn|spawnSync|execFile|execFileSync|execa|execaSync|exec|execSync)$/][arguments.0.value='git']",
    message: 'lanes/git/ is the only place that runs git: call (or add) a function in lanes/git/ instead.',
  };
  const block = (files, ignores, selectors) => ({
    files,
    ignores,
    rules: { 'no-restricted-syntax': ['error', ...selectors] },
  });
  return [
    block(['**/*.ts', '**/*.tsx'], ['lanes/store/**', 'lanes/git/**', 'test/**'], [sql, git]),
    block(['lanes/store/**/*.ts'], [], [git]),
    block(['lanes/git/**/*.ts'], [], [sql]),
  ];
}
