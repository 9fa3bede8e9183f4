/**
 * no-secrets: scans only the lines the lane ADDS (`git diff --unified=0 base...head`) for private
 * keys, cloud and API tokens and literal password assignments. Each hit names the file and line;
 * the secret itself is masked, so the verdict's output (stored and shown) never repeats it.
 */
import type { BuiltinGateConfig } from '../config/repoConfig.js';
import { diffAddedLines } from '../git/diff.js';
import type { GateVerdict } from '../supervisor/api.js';
import { makeVerdict, type GateContext } from './verdict.js';

export interface SecretHit {
  path: string;
  line: number;
  kind: string;
  /** the matched text, masked */
  masked: string;
}

/** Keeps enough of a token to recognise it, never enough to use it. */
export function maskSecret(s: string, keep = 4): string {
  if (s.length <= keep * 2) return '*'.repeat(s.length);
  return `${s.slice(0, keep)}${'*'.repeat(Math.min(12, s.length - keep))} (${s.length} chars)`;
}

interface TokenRule {
  kind: string;
  re: RegExp;
  /** how many leading characters of a hit stay visible */
  keep: number;
}

/** Order matters: the first rule that claims a span names it (sk-ant- before the OpenAI forms). */
const TOKEN_RULES: TokenRule[] = [
  { kind: 'private key', re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/g, keep: 64 },
  { kind: 'AWS access key id', re: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g, keep: 4 },
  { kind: 'GitHub token', re: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g, keep: 4 },
  { kind: 'GitHub token', re: /\bgithub_pat_[A-Za-z0-9_]{22,}/g, keep: 11 },
  { kind: 'Anthropic API key', re: /\bsk-ant-[A-Za-z0-9_-]{20,}/g, keep: 7 },
  { kind: 'OpenAI API key', re: /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}/g, keep: 8 },
  { kind: 'OpenAI API key', re: /\bsk-[A-Za-z0-9]{32,}\b/g, keep: 3 },
  { kind: 'Slack token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, keep: 5 },
  { kind: 'Slack webhook', re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9_/]+/g, keep: 34 },
];

/** `password = "..."`, `"password": "..."`, `db_password := '...'` with a literal value. */
const QUOTED_PASSWORD = /(?:password|passwd|passphrase)[\w.-]*["']?\s*(?::=|[:=])\s*(["'])([^"'\n]+)\1/gi;
/** `password: value` / `PASSWORD=value` without quotes, only in config-like files (not code, where it is a type or a variable). */
const BARE_PASSWORD = /^\s*(?:export\s+)?[\w.-]*(?:password|passwd|passphrase)[\w.-]*\s*[:=]\s*([^\s"'#][^\s#]*)/i;
const CONFIG_FILE = /(?:^|\/)(?:\.env(?:\.[^/]*)?|[^/]*\.(?:ya?ml|ini|properties|cfg|conf|toml|env))$/i;
const PLACEHOLDER = /^(?:\$\{.*\}|\$[A-Za-z_]\w*|\{\{.*\}\}|<[^>]*>|\*+|x+|\.\.\.|null|none|true|false|~)$/i;

/** The secrets in one added line. */
export function findSecrets(path: string, line: number, text: string): SecretHit[] {
  const hits: SecretHit[] = [];
  const claimed: Array<[number, number]> = [];
  const free = (start: number, end: number) => claimed.every(([s, e]) => end <= s || start >= e);
  for (const rule of TOKEN_RULES) {
    for (const m of text.matchAll(rule.re)) {
      const start = m.index ?? 0;
      const end = start + m[0].length;
      if (!free(start, end)) continue;
      claimed.push([start, end]);
      const masked = rule.kind === 'private key' ? m[0] : maskSecret(m[0], rule.keep);
      hits.push({ path, line, kind: rule.kind, masked });
    }
  }
  for (const m of text.matchAll(QUOTED_PASSWORD)) {
    const value = m[2];
    if (value.trim() === '' || PLACEHOLDER.test(value.trim())) continue;
    hits.push({
      path,
      line,
      kind: 'password literal',
      masked: `${m[0].slice(0, m[0].length - value.length - 1)}****${m[1]}`,
    });
  }
  if (hits.length === 0 && CONFIG_FILE.test(path)) {
    const m = BARE_PASSWORD.exec(text);
    if (m && !PLACEHOLDER.test(m[1])) {
      hits.push({
        path,
        line,
        kind: 'password literal',
        masked: `${m[0].slice(0, m[0].length - m[1].length).trim()} ****`,
      });
    }
  }
  return hits;
}

/** The secrets in the lines `base...head` adds. */
export async function scanAddedLines(repoRoot: string, base: string, head: string): Promise<SecretHit[]> {
  return (await diffAddedLines(repoRoot, base, head)).flatMap((l) => findSecrets(l.path, l.line, l.text));
}

const MAX_LISTED = 50;

export async function noSecretsGate(gate: BuiltinGateConfig, ctx: GateContext): Promise<GateVerdict> {
  const startedAt = Date.now();
  try {
    const hits = await scanAddedLines(ctx.repoRoot, ctx.base, ctx.head);
    if (hits.length === 0) return makeVerdict(gate, ctx.head, startedAt, 'PASS', 'no secrets in the added lines\n');
    const listed = hits
      .slice(0, MAX_LISTED)
      .map((h) => `  ${h.path}:${h.line}: ${h.kind}: ${h.masked}\n`)
      .join('');
    const more = hits.length > MAX_LISTED ? `  … and ${hits.length - MAX_LISTED} more\n` : '';
    return makeVerdict(
      gate,
      ctx.head,
      startedAt,
      'FAIL',
      `${hits.length} possible secret(s) in added lines:\n${listed}${more}`,
    );
  } catch (err) {
    return makeVerdict(gate, ctx.head, startedAt, 'ERROR', `${(err as Error).message}\n`);
  }
}
