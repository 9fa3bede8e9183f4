/** diff-limit: the lane may change at most `maxFiles` files and `maxLines` lines (added + deleted). */
import type { BuiltinGateConfig } from '../config/repoConfig.js';
import { diffStat } from '../git/diff.js';
import type { GateVerdict } from '../supervisor/api.js';
import { makeVerdict, type GateContext } from './verdict.js';

export async function diffLimitGate(gate: BuiltinGateConfig, ctx: GateContext): Promise<GateVerdict> {
  const startedAt = Date.now();
  try {
    const rows = await diffStat(ctx.repoRoot, ctx.base, ctx.head);
    const files = rows.length;
    const lines = rows.reduce((n, r) => n + r.added + r.deleted, 0);
    const summary = `${files} file(s), ${lines} line(s) changed`;
    const over: string[] = [];
    if (gate.maxFiles !== undefined && files > gate.maxFiles) over.push(`${files} files > maxFiles ${gate.maxFiles}`);
    if (gate.maxLines !== undefined && lines > gate.maxLines) over.push(`${lines} lines > maxLines ${gate.maxLines}`);
    if (gate.maxFiles === undefined && gate.maxLines === undefined) {
      return makeVerdict(gate, ctx.head, startedAt, 'PASS', `${summary} (no limits configured)\n`);
    }
    if (over.length === 0) return makeVerdict(gate, ctx.head, startedAt, 'PASS', `${summary}, within limits\n`);
    const biggest = [...rows].sort((a, b) => b.added + b.deleted - (a.added + a.deleted)).slice(0, 10);
    const top = biggest.map((r) => `  +${r.added} -${r.deleted}  ${r.path}${r.binary ? ' (binary)' : ''}\n`).join('');
    return makeVerdict(
      gate,
      ctx.head,
      startedAt,
      'FAIL',
      `diff too large: ${over.join(', ')}\nlargest changes:\n${top}`,
    );
  } catch (err) {
    return makeVerdict(gate, ctx.head, startedAt, 'ERROR', `${(err as Error).message}\n`);
  }
}
