/**
 * The engine's version: package.json's `version`, read at run time relative to this module, so it
 * is the same from the TypeScript sources (lanes/engine/) and from the build (dist/lanes/engine/).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Walks up from this module to the package.json of ao-console and returns its version. */
function readVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'ao-console' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: one level up
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return 'unknown';
}

export const AO_CONSOLE_VERSION: string = readVersion();
