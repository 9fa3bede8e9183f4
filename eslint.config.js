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
  {
    // The layers themselves (entry → components → src → lanes → profiles, no cycles, git only in
    // lanes/git) are checked by dependency-cruiser: .dependency-cruiser.cjs. This rule is the one
    // that needs the syntax tree: SQL lives only in lanes/store/.
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['lanes/store/**', 'test/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression[callee.property.name=/^(prepare|pragma|transaction)$/]',
          message:
            'lanes/store/ is the only place that holds SQL: call (or add) a function in lanes/store/ instead of preparing statements here.',
        },
      ],
    },
  },
);
