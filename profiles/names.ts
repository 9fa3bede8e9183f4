/**
 * The one name rule of ao-console, for lane and profile names alike: an allowlist, so a name
 * can never carry shell or git syntax and always makes a valid git ref component. It lives in
 * the bottom layer so that profiles (which import nothing of ours) and the engine share it.
 */
export const NAME_RULE =
  '1-40 characters of lowercase letters, digits, "-", "." and "_", not starting with "-" or ".", ' +
  'not ending with "." or ".lock", and without ".." (git refuses those in a branch name)';

const MAX = 40;
const ALLOWED = /^[a-z0-9._-]$/;

/** Which part of NAME_RULE `name` breaks, as a clause ("it contains \"..\""), or null when it obeys it. */
export function nameRuleBroken(name: string): string | null {
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX) return `it is ${name.length} characters long (at most ${MAX})`;
  const bad = [...name].find((c) => !ALLOWED.test(c));
  if (bad !== undefined) return `it contains ${JSON.stringify(bad)} (only lowercase letters, digits, "-", "." and "_")`;
  if (name.startsWith('-') || name.startsWith('.')) return `it starts with ${JSON.stringify(name[0])}`;
  if (name.includes('..')) return 'it contains ".." (git refuses it in a branch name)';
  if (name.endsWith('.lock')) return 'it ends with ".lock" (git refuses it in a branch name)';
  if (name.endsWith('.')) return 'it ends with "." (git refuses it in a branch name)';
  return null;
}

/** True when `name` obeys NAME_RULE and makes a valid git ref component. */
export function isSafeName(name: string): boolean {
  return nameRuleBroken(name) === null;
}
