/**
 * The name rule (profiles/names.ts) for lanes and profiles: a refusal names the rule broken, the
 * whole rule lists every part the check enforces, and git agrees with what the rule lets through.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LaneNameError, validateLaneName } from '../../lanes/lane/names.js';
import { isSafeName, NAME_RULE, nameRuleBroken } from '../../profiles/names.js';

describe('name rule', () => {
  it.each([
    ['a..b', 'it contains ".."'],
    ['ab.lock', 'it ends with ".lock"'],
    ['a.', 'it ends with "."'],
    ['.a', 'it starts with "."'],
    ['-a', 'it starts with "-"'],
    ['Hello', 'it contains "H"'],
    ['a;b', 'it contains ";"'],
    ['a b', 'it contains " "'],
    ['', 'it is empty'],
    ['x'.repeat(41), 'it is 41 characters long (at most 40)'],
  ])('%j is refused: %s', (name, clause) => {
    expect(nameRuleBroken(name)).toContain(clause);
    expect(isSafeName(name)).toBe(false);
    const err = (() => {
      try {
        validateLaneName(name);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(LaneNameError);
    expect((err as Error).message).toContain(clause);
    expect((err as Error).message).toContain(NAME_RULE);
  });

  it('the rule as written names every part that is checked', () => {
    for (const part of ['1-40', 'lowercase', '"-"', '"."', '"_"', 'not starting with', '".lock"', '".."'])
      expect(NAME_RULE).toContain(part);
  });

  it.each(['a', 'fix-login', 'v1.2_x', '0', 'a.b', 'a-.b', 'x'.repeat(40), '_a'])(
    '%j is allowed, and git takes ao/%s as a branch',
    (name) => {
      expect(nameRuleBroken(name)).toBeNull();
      expect(validateLaneName(name)).toBe(name);
      expect(spawnSync('git', ['check-ref-format', '--branch', `ao/${name}`]).status).toBe(0);
    },
  );
});
