/** The saved-work lines of `ao-console show` (src/format/savedWork.ts) and archive ref times. */
import { describe, expect, it } from 'vitest';
import { parseArchiveStamp, restoreCommand, type SavedWork } from '../../lanes/git/savedWork.js';
import { formatSavedWork, savedSince } from '../../src/format/savedWork.js';

const at = (ref: string) => parseArchiveStamp(ref);
const saved = (ref: string, kind: SavedWork['kind'], files: string[] = []): SavedWork => ({
  ref,
  commit: 'c'.repeat(40),
  at: at(ref),
  kind,
  files,
  restore: restoreCommand('x', ref, kind),
});

describe('saved work', () => {
  it('reads the time from an archive ref name, suffix or not', () => {
    expect(at('refs/ao/archive/x/20261201T083000Z')).toBe(Date.UTC(2026, 11, 1, 8, 30, 0));
    expect(at('refs/ao/archive/x/20261201T083000Z-2')).toBe(Date.UTC(2026, 11, 1, 8, 30, 0));
    expect(at('refs/ao/archive/x/by-hand')).toBeNull();
  });

  it('keeps what was saved since the lane was created (to the second), and counts older saves', () => {
    const old = saved('refs/ao/archive/x/20261130T120000Z', 'commits');
    const same = saved('refs/ao/archive/x/20261201T083000Z', 'commits');
    const later = saved('refs/ao/archive/x/20261201T090000Z', 'uncommitted', ['M a.txt']);
    const { mine, older } = savedSince([old, same, later], Date.UTC(2026, 11, 1, 8, 30, 0, 700));
    expect(mine).toEqual([same, later]);
    expect(older).toBe(1);
    const text = formatSavedWork('x', mine, older);
    expect(text.split('\n')).toEqual([
      expect.stringMatching(
        /^uncommitted work saved at refs\/ao\/archive\/x\/20261201T090000Z \(.*\): git checkout -b x-rescue refs\/ao\/archive\/x\/20261201T090000Z && git reset HEAD~1$/,
      ),
      '  M a.txt',
      expect.stringMatching(
        /^commits saved at refs\/ao\/archive\/x\/20261201T083000Z \(.*\): git checkout -b x-rescue refs\/ao\/archive\/x\/20261201T083000Z$/,
      ),
      '1 older save(s) of earlier lanes named x: git for-each-ref refs/ao/archive/x/',
    ]);
  });

  it('says when nothing was saved, and shortens a long file list', () => {
    expect(formatSavedWork('x', [], 0)).toMatch(/^\(nothing saved/);
    const many = Array.from({ length: 12 }, (_, i) => `A f${i}.txt`);
    const text = formatSavedWork('x', [saved('refs/ao/archive/x/20261201T090000Z', 'uncommitted', many)], 0);
    expect(text).toContain('A f9.txt, … (12 files)');
    expect(text).not.toContain('f10.txt');
  });
});
