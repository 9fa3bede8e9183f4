/**
 * How a lane is named in a dashboard over several engines (src/control/multiSupervisor.ts):
 * `key/lane`, the engine's key first. Lane names hold no '/' (lanes/lane/names.ts), so the first
 * one splits them. The one place for that rule: the supervisor, the lane list and the form use it.
 */

/** `key/lane`, the name a member's lane has in the multi view. */
export function memberLaneName(key: string, lane: string): string {
  return `${key}/${lane}`;
}

/** Splits `key/lane` at the first '/'; null when there is none. */
export function splitLaneName(name: string): { key: string; lane: string } | null {
  const i = name.indexOf('/');
  if (i <= 0 || i === name.length - 1) return null;
  return { key: name.slice(0, i), lane: name.slice(i + 1) };
}
