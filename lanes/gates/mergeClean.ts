/**
 * merge-clean: would the lane merge into its base without conflicts? Asked of
 * `git merge-tree --write-tree` (git >= 2.38), which touches no checkout and no index.
 */
import type { BuiltinGateConfig } from '../config/repoConfig.js';
import { mergeTree } from '../git/merge.js';
import type { GateVerdict } from '../supervisor/api.js';
import { makeVerdict, type GateContext } from './verdict.js';

export async function mergeCleanGate(gate: BuiltinGateConfig, ctx: GateContext): Promise<GateVerdict> {
  const startedAt = Date.now();
  try {
    const result = await mergeTree(ctx.repoRoot, ctx.base, ctx.head);
    if (result.clean) return makeVerdict(gate, ctx.head, startedAt, 'PASS', `merges cleanly into ${ctx.base}\n`);
    const list = result.paths.map((p) => `  ${p}\n`).join('');
    return makeVerdict(
      gate,
      ctx.head,
      startedAt,
      'FAIL',
      `conflicts with ${ctx.base} in ${result.paths.length} path(s):\n${list}`,
    );
  } catch (err) {
    return makeVerdict(gate, ctx.head, startedAt, 'ERROR', `${(err as Error).message}\n`);
  }
}
