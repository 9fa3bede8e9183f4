/**
 * The one name rule of ao-console, for lane and profile names alike: an allowlist, so a name
 * can never carry shell or git syntax and always makes a valid git ref component. It lives in
 * the bottom layer so that profiles (which import nothing of ours) and the engine share it.
 */
export const NAME_RULE = '1-40 characters of lowercase letters, digits, "-", "." and "_", not starting with "-" or "."';

const NAME = /^[a-z0-9_][a-z0-9._-]{0,39}$/;

/** True when `name` obeys NAME_RULE and makes a valid git ref component. */
export function isSafeName(name: string): boolean {
  return NAME.test(name) && !name.includes('..') && !name.endsWith('.lock') && !name.endsWith('.');
}
