/**
 * How a zod issue's path is written in messages, for profiles (profiles/loader.ts) and the repo
 * config (lanes/config/repoConfig.ts) alike. It lives in the bottom layer so both can share it.
 */

/** `['gates', 1, 'timeoutSec']` -> `gates[1].timeoutSec`; a key that is not an identifier -> `env["MY-VAR"]`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][\w$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}
