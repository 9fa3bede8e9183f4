// Makes the compiled CLI entry executable so `ao-console` runs with plain node, and bundles the
// dashboard's UI into one module (scripts/bundleUi.mjs).
import { chmodSync, existsSync } from 'node:fs';
import { bundleUi } from './bundleUi.mjs';
const entry = new URL('../dist/src/cli.js', import.meta.url);
if (existsSync(entry)) chmodSync(entry, 0o755);
await bundleUi();
