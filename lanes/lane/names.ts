/** Lane names and branches, by the one name rule (profiles/names.ts). */
import { NAME_RULE, isSafeName, nameRuleBroken } from '../../profiles/names.js';

export const LANE_NAME_RULE = `lane names are ${NAME_RULE}`;

export class LaneNameError extends Error {
  constructor(name: string) {
    super(
      `invalid lane name ${JSON.stringify(name)}: ${nameRuleBroken(name) ?? 'it breaks the name rule'}; ${LANE_NAME_RULE}`,
    );
    this.name = 'LaneNameError';
  }
}

/** Returns the name when it obeys LANE_NAME_RULE (and makes a valid git ref), else throws LaneNameError. */
export function validateLaneName(name: string): string {
  if (!isSafeName(name)) throw new LaneNameError(name);
  return name;
}

/** The branch a lane works on. */
export function laneBranch(name: string): string {
  return `ao/${validateLaneName(name)}`;
}
