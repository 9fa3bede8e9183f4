/**
 * Review helpers of the supervisor: what the verdicts add up to and the short texts shown for
 * them. Plain functions over plain data.
 */
import type { GateVerdict } from './api.js';

/** True when every required gate passed on the current head. */
export function requiredPassed(verdicts: GateVerdict[]): boolean {
  return verdicts.filter((v) => v.required).every((v) => v.status === 'PASS' && !v.stale);
}

/** "3/4 pass", with " (stale)" when the head moved on; '' before any gate ran. */
export function gateSummary(verdicts: GateVerdict[]): string {
  if (verdicts.length === 0) return '';
  const pass = verdicts.filter((v) => v.status === 'PASS').length;
  const stale = verdicts.some((v) => v.stale);
  return `${pass}/${verdicts.length} pass${stale ? ' (stale)' : ''}`;
}

/** The task's first line, for commit messages (72 characters at most). */
export function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim().slice(0, 72) || 'lane work';
}

/** A gate's failing output in a line or three (for a finding, not the whole log). */
export function summarize(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const interesting = lines.filter((l) => /fail|error|assert|expected|✗|×/i.test(l));
  return (interesting.length ? interesting : lines.slice(-3)).slice(0, 3).join(' | ').slice(0, 300);
}
