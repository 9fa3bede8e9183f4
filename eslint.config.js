import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.bench-tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
        setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', URL: 'readonly',
        setImmediate: 'readonly', performance: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    // Layering: lanes/ and profiles/ hold no React; components/ never touch processes, git or SQLite.
    files: ['lanes/**', 'profiles/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['react', 'ink'], patterns: ['../components/*'] }],
    },
  },
  {
    files: ['components/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['node-pty', 'execa', 'better-sqlite3', 'node:child_process', 'child_process'],
        patterns: ['../lanes/*', '**/db/*'],
      }],
    },
  },
);
