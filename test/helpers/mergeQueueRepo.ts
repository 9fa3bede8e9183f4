/**
 * What the merge queue tests (test/integration/mergeQueue*.test.ts) put in their repos: a command
 * gate that catches a semantic conflict, and a shell profile for lanes the test writes into.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTempRepo, type TempRepo } from './tempRepo.js';
import { trustRepo } from './trust.js';

/** The gate: fails when a `lib.NAME(` call names no function of lib.js; waits `argv[3]` ms first. */
export const CHECK_JS = `const fs = require('fs');
const path = require('path');
fs.appendFileSync(process.argv[2], process.cwd() + '\\n');
const wait = Number(process.argv[3] || 0);
const end = Date.now() + wait;
while (Date.now() < end) {}
const lib = require(path.resolve('lib.js'));
let bad = 0;
for (const f of fs.readdirSync('.').filter((f) => f.endsWith('.js') && f !== 'lib.js' && f !== 'check.js')) {
  for (const m of fs.readFileSync(f, 'utf8').matchAll(/lib\\.(\\w+)\\(/g)) {
    if (typeof lib[m[1]] !== 'function') {
      console.error(f + ': calls lib.' + m[1] + ', which lib.js does not export');
      bad++;
    }
  }
}
if (bad) process.exit(1);
console.log('all calls resolve');
`;

export const SH_PROFILE = JSON.stringify({
  description: 'test shell',
  command: '/bin/sh',
  args: [],
  envPassthrough: ['PATH', 'HOME', 'LANG'],
  taskInput: 'none',
  handoffOnExit: false,
  patterns: { busy: [], waitingInput: [] },
});

/**
 * A repo with lib.js and main.js, the shell profile, and one required gate
 * `node check.js <counter> <waitMs>` (the counter file records each run's directory); its
 * commands trusted. `config` adds to `.ao/config.json`. The caller cleans up `repo` and `counterDir`.
 */
export async function createQueueRepo(
  opts: { waitMs?: number; config?: Record<string, unknown> } = {},
): Promise<{ repo: TempRepo; counter: string; counterDir: string }> {
  const counterDir = mkdtempSync(path.join(tmpdir(), 'ao-counter-'));
  const counter = path.join(counterDir, 'runs.txt');
  writeFileSync(counter, '');
  const repo = await createTempRepo({
    files: {
      'lib.js': 'exports.greet = (who) => `hi ${who}`;\n',
      'main.js': "const lib = require('./lib.js');\nconsole.log(lib.greet('main'));\n",
      'check.js': CHECK_JS,
      '.ao/profiles/sh.json': SH_PROFILE,
      '.ao/config.json': JSON.stringify({
        gates: [{ name: 'check', run: ['node', 'check.js', counter, String(opts.waitMs ?? 0)], required: true }],
        ...opts.config,
      }),
    },
  });
  await trustRepo(repo.dir);
  return { repo, counter, counterDir };
}
