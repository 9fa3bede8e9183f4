/**
 * merge-clean: would the lane merge into its base without conflicts? Asked of
 * `git merge-tree --write-tree` (git >= 2.38), which touches no checkout and no index.
 */
import type { BuiltinGateConfig } from '../config/repoConfig.js';
import { git, GitError } from '../git/git.js';
import type { GateVerdict } from '../supervisor/api.js';
import { makeVerdict, type GateContext } from './verdict.js';

export type MergeTreeResult = { clean: true; tree: string } | { clean: false; tree: string; paths: string[] };

/** The tree a merge of `ours` and `theirs` would produce, or the paths that conflict. */
export async function mergeTree(repoRoot: string, ours: string, theirs: string): Promise<MergeTreeResult> {
  const args = ['merge-tree', '--write-tree', '--name-only', '--no-messages', '-z', ours, theirs];
  const res = await git(args, { cwd: repoRoot, allowFail: true, raw: true });
  if (res.exitCode !== 0 && res.exitCode !== 1) throw new GitError(args, res.exitCode, res.stderr);
  const fields = res.stdout.split('\0');
  const tree = fields[0].trim();
  if (res.exitCode === 0) return { clean: true, tree };
  // With --name-only -z the conflicted paths follow the tree id, one per field, until an empty field.
  const paths: string[] = [];
  for (const f of fields.slice(1)) {
    if (f === '') break;
    if (!paths.includes(f)) paths.push(f);
  }
  return { clean: false, tree, paths };
}

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
