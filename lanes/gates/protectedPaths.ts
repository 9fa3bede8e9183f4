/**
 * protected-paths: the lane must not touch paths matching the configured globs. Globs match
 * repo-relative paths with picomatch, dotfiles included (`.github/**`); `dir/` means `dir/**`.
 * Renames count on both sides (a protected file moved away is touched).
 */
import picomatch from 'picomatch';
import type { BuiltinGateConfig } from '../config/repoConfig.js';
import { changedPaths } from '../git/diff.js';
import type { GateVerdict } from '../supervisor/api.js';
import { makeVerdict, type GateContext } from './verdict.js';

/** A matcher telling which pattern (if any) protects a path. */
export function protectedMatcher(patterns: readonly string[]): (path: string) => string | undefined {
  const matchers = patterns.map((p) => {
    const glob = p.endsWith('/') ? `${p}**` : p;
    return { pattern: p, test: picomatch(glob.replace(/^\.\//, ''), { dot: true }) };
  });
  return (path) => matchers.find((m) => m.test(path))?.pattern;
}

export async function protectedPathsGate(gate: BuiltinGateConfig, ctx: GateContext): Promise<GateVerdict> {
  const startedAt = Date.now();
  const patterns = gate.paths ?? [];
  if (patterns.length === 0) return makeVerdict(gate, ctx.head, startedAt, 'PASS', 'no protected paths configured\n');
  try {
    const match = protectedMatcher(patterns);
    const hits = (await changedPaths(ctx.repoRoot, ctx.base, ctx.head))
      .map((path) => ({ path, pattern: match(path) }))
      .filter((h): h is { path: string; pattern: string } => h.pattern !== undefined);
    if (hits.length === 0)
      return makeVerdict(gate, ctx.head, startedAt, 'PASS', `no protected path touched (${patterns.join(', ')})\n`);
    const list = hits.map((h) => `  ${h.path}  (protected by ${h.pattern})\n`).join('');
    return makeVerdict(
      gate,
      ctx.head,
      startedAt,
      'FAIL',
      `the lane touches ${hits.length} protected path(s):\n${list}`,
    );
  } catch (err) {
    return makeVerdict(gate, ctx.head, startedAt, 'ERROR', `${(err as Error).message}\n`);
  }
}
