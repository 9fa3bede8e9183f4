// Makes the compiled CLI entry executable so `ao-console` runs with plain node.
import { chmodSync, existsSync } from 'node:fs';
const entry = new URL('../dist/src/cli.js', import.meta.url);
if (existsSync(entry)) chmodSync(entry, 0o755);
