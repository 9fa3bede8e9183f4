/** The lane name rule: an allowlist, so a name can never carry shell or git syntax. */
export const LANE_NAME_RULE =
  'lane names are 1-40 characters of lowercase letters, digits, "-", "." and "_", not starting with "-" or "."';

const LANE_NAME = /^[a-z0-9_][a-z0-9._-]{0,39}$/;

export class LaneNameError extends Error {
  constructor(name: string) {
    super(`invalid lane name ${JSON.stringify(name)}: ${LANE_NAME_RULE}`);
    this.name = 'LaneNameError';
  }
}

/** Returns the name when it obeys LANE_NAME_RULE (and makes a valid git ref), else throws LaneNameError. */
export function validateLaneName(name: string): string {
  if (!LANE_NAME.test(name) || name.includes('..') || name.endsWith('.lock') || name.endsWith('.')) {
    throw new LaneNameError(name);
  }
  return name;
}

/** The branch a lane works on. */
export function laneBranch(name: string): string {
  return `ao/${validateLaneName(name)}`;
}
