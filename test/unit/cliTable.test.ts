import { describe, expect, it } from 'vitest';
import { formatAge, formatTable } from '../../src/format/table.js';

describe('formatTable', () => {
  it('aligns columns under their headers and trims line ends', () => {
    const out = formatTable(
      [{ header: 'LANE' }, { header: 'N', align: 'right' }, { header: 'TASK' }],
      [
        ['a', '1', 'fix it'],
        ['longer', '100', ''],
      ],
    );
    expect(out.split('\n')).toEqual(['LANE      N  TASK', 'a         1  fix it', 'longer  100']);
  });

  it('cuts long cells with an ellipsis and flattens newlines', () => {
    const out = formatTable([{ header: 'TASK', max: 8 }], [['do this\nand then that']]);
    expect(out.split('\n')[1]).toBe('do this…');
  });

  it('says so when there are no rows', () => {
    expect(formatTable([{ header: 'X' }], [], 'no lanes')).toBe('no lanes');
  });
});

describe('formatAge', () => {
  it('reads like a duration', () => {
    expect(formatAge(1000, 6000)).toBe('5s');
    expect(formatAge(0, 5000)).toBe('');
    expect(formatAge(1, 1 + 125_000)).toBe('2m 5s');
    expect(formatAge(1, 1 + 3_600_000 * 26)).toBe('1d 2h');
  });
});
