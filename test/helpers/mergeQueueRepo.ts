/**
 * What the merge queue tests (test/integration/mergeQueue*.test.ts) put in their repos: a command
 * gate that catches a semantic conflict, and a shell profile for lanes the test writes into.
 */
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
