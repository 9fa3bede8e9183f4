/**
 * The throwaway project `ao-console demo` runs its lanes in: a tiny package with a real test,
 * real gates (the test command, diff-limit, no-secrets, merge-clean) and a local git identity.
 */
import { mkdir, mkdtemp, realpath, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { commitPendingChanges } from '../../lanes/git/handoffCommit.js';
import { initRepo } from '../../lanes/git/repo.js';

const FILES: Record<string, string> = {
  'README.md': '# demo-shop\n\nA tiny project that ao-console demo lanes work on.\n',
  'package.json': `${JSON.stringify({ name: 'demo-shop', version: '1.0.0', private: true, type: 'module', scripts: { test: 'node test.js' } }, null, 2)}\n`,
  'src/price.js': 'export function price(cents) {\n  return `$${(cents / 100).toFixed(2)}`;\n}\n',
  'test.js': [
    "import assert from 'node:assert/strict';",
    "import { readdirSync, readFileSync } from 'node:fs';",
    "import { price } from './src/price.js';",
    '',
    "assert.equal(price(1999), '$19.99');",
    '// House rule checked by the test gate: no file under config/ may hold a key.',
    "for (const f of readdirSync('.', { recursive: true })) {",
    "  if (String(f).startsWith('config/') && /PRIVATE KEY/.test(readFileSync(String(f), 'utf8'))) {",
    '    console.error(`FAIL: ${f} holds a private key`);',
    '    process.exit(1);',
    '  }',
    '}',
    "console.log('ok - all tests passed');",
    '',
  ].join('\n'),
  '.ao/config.json': `${JSON.stringify(
    {
      gates: [
        { name: 'test', run: ['node', 'test.js'], timeoutSec: 60 },
        { builtin: 'diff-limit', maxFiles: 20, maxLines: 400 },
        { builtin: 'no-secrets' },
        { builtin: 'merge-clean' },
      ],
    },
    null,
    2,
  )}\n`,
};

/** The three demo lanes: one passes its gates, one fails a gate, one asks a permission question. */
export const DEMO_LANES = [
  { name: 'add-greeting', task: 'create file src/greeting.js with a friendly greeting' },
  { name: 'deploy-key', task: 'secret: add the deploy configuration' },
  { name: 'docs-notes', task: 'ask before you create file docs/notes.md' },
] as const;

/** Creates the demo repo (in `dir`, or a new temp dir) and returns its real path. */
export async function createDemoRepo(dir?: string): Promise<string> {
  const root = await realpath(dir ?? (await mkdtemp(path.join(os.tmpdir(), 'ao-demo-'))));
  await initRepo(root, {
    branch: 'main',
    config: { 'user.name': 'ao demo', 'user.email': 'demo@ao.invalid', 'commit.gpgsign': 'false' },
  });
  for (const [file, content] of Object.entries(FILES)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), content);
  }
  await commitPendingChanges(root, { message: 'demo-shop: initial commit' });
  return root;
}
