/** The lane list's last line: the agent's text, not its frame, rules or spinner. */
import { describe, expect, it } from 'vitest';
import { ActivityTracker, lastTextLine, rowText, screenMatches } from '../../lanes/lane/activity.js';
import { LaneTerminal } from '../../lanes/terminal/laneTerminal.js';

describe('last line of text', () => {
  it('skips box drawing and cuts a frame and spinner off the text', () => {
    const screen = [
      '✔ Read src/add.js',
      '⠋ Editing src/add.js… (esc to interrupt)',
      '╭──────────────────────────────╮',
      '│ > fix the failing test       │',
      '╰──────────────────────────────╯',
      '▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁',
      '',
    ];
    expect(lastTextLine(screen)).toBe('> fix the failing test');
    expect(lastTextLine(screen.slice(0, 2))).toBe('Editing src/add.js… (esc to interrupt)');
    expect(rowText('✻ Thinking…')).toBe('Thinking…');
    expect(rowText('│ │')).toBe('');
    expect(lastTextLine(['- a list item', '────'])).toBe('- a list item');
    expect(lastTextLine(['', '  '])).toBe('');
  });

  it('a lane terminal reports it as its last line', async () => {
    const t = new LaneTerminal({ cols: 40, rows: 6 });
    t.write(Buffer.from('working on it\r\n┌────────┐\r\n│ ⠙ busy │\r\n└────────┘\r\n'));
    await t.whenIdle();
    expect(t.lastLine()).toBe('busy');
    t.dispose();
  });
});

describe('a resize keeps the lane where it is', () => {
  it('the redraw after a resize is not work: an idle lane stays idle', () => {
    const t = new ActivityTracker({ idleMs: 1000, startedAt: 0 });
    const read = (rows: string[]) => () => screenMatches(rows, [], [/\? \[y\/n\]/]);
    const screen = read(['done for now']);
    expect(t.check(5000, screen)).toBe('idle');
    t.noteResize(5000);
    t.noteOutput(5050); // the agent redraws for the new size
    expect(t.check(5100, screen)).toBe('idle');
    // a prompt drawn by a redraw is still read
    t.noteResize(6000);
    t.noteOutput(6050);
    expect(t.check(6100, read(['Allow edit? [y/n]']))).toBe('waiting-input');
    // output well after the resize is work again
    t.noteOutput(7000);
    expect(t.check(7010, screen)).toBe('busy');
  });
});
