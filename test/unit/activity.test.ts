import { describe, expect, it } from 'vitest';
import { ActivityTracker, detectActivity, screenMatches, type ActivityInput } from '../../lanes/lane/activity.js';

const waitingPatterns = [/Do you want to proceed\?/, /\(y\/n\)\s*$/m];
const busyPatterns = [/esc to interrupt/];
/** the screen's rows as detectActivity gets them: their matches (read in the emulator worker) */
const screen = (...rows: string[]) => screenMatches([...rows, ...Array(10).fill('')], busyPatterns, waitingPatterns);
const matches = (rows: string[], waiting = waitingPatterns) => screenMatches(rows, busyPatterns, waiting);

function at(over: Partial<ActivityInput>): ActivityInput {
  return {
    now: 10_000,
    lastOutputAt: 0,
    idleMs: 2000,
    screen: screen('$ '),
    ...over,
  };
}

describe('detectActivity', () => {
  it('is busy while output is recent and idle once quiet', () => {
    expect(detectActivity(at({ lastOutputAt: 9_500 }))).toBe('busy');
    expect(detectActivity(at({ lastOutputAt: 7_000 }))).toBe('idle');
    expect(detectActivity(at({ lastOutputAt: -Infinity }))).toBe('idle');
  });

  it('is busy when a busy indicator shows even if quiet', () => {
    expect(detectActivity(at({ screen: screen('✻ Thinking… (esc to interrupt)') }))).toBe('busy');
  });

  it('is waiting-input when a prompt shows near the bottom and the screen settled', () => {
    const s = screen('some output', 'Do you want to proceed?', '❯ 1. Yes', '  2. No');
    expect(detectActivity(at({ screen: s, lastOutputAt: 9_000 }))).toBe('waiting-input');
    // Still being drawn: busy, not asked yet.
    expect(detectActivity(at({ screen: s, lastOutputAt: 9_900 }))).toBe('busy');
    // A prompt beats a busy indicator that is still on the screen.
    const both = matches(['esc to interrupt', 'Do you want to proceed?', '❯ 1. Yes', '']);
    expect(detectActivity(at({ screen: both, lastOutputAt: 0 }))).toBe('waiting-input');
  });

  it('only looks for prompts in the bottom rows', () => {
    const old = ['Do you want to proceed?', ...Array(20).fill('log line'), '$ '];
    expect(detectActivity(at({ screen: matches(old) }))).toBe('idle');
    expect(detectActivity(at({ screen: matches(['log', 'Overwrite file? (y/n) ', '', '']) }))).toBe('waiting-input');
  });

  it('works with global regexes called repeatedly', () => {
    const g = [/proceed\?/g];
    const rows = ['Do you want to proceed?'];
    for (let i = 0; i < 3; i++) expect(detectActivity(at({ screen: matches(rows, g) }))).toBe('waiting-input');
  });
});

describe('ActivityTracker', () => {
  it('reads the screen only after output or when a time threshold passes', () => {
    const tracker = new ActivityTracker({ idleMs: 2000, startedAt: 0 });
    let rows = screen('working');
    const read = () => rows;
    expect(tracker.check(100, read)).toBe('busy');
    expect(tracker.reads).toBe(1);
    // Nothing happened: cached.
    expect(tracker.check(200, read)).toBe('busy');
    expect(tracker.check(250, read)).toBe('busy');
    expect(tracker.reads).toBe(1);
    // Output arrives: re-read.
    tracker.noteOutput(260);
    rows = screen('Do you want to proceed?');
    expect(tracker.check(270, read)).toBe('busy');
    expect(tracker.reads).toBe(2);
    // The settle threshold (260 + 300) passes: re-read and now waiting.
    expect(tracker.check(500, read)).toBe('busy');
    expect(tracker.reads).toBe(2);
    expect(tracker.check(600, read)).toBe('waiting-input');
    expect(tracker.reads).toBe(3);
    expect(tracker.check(1_000, read)).toBe('waiting-input');
    expect(tracker.reads).toBe(3);
    // The prompt is answered, output, then quiet past idleMs: idle.
    tracker.noteOutput(1_100);
    rows = screen('done', '$ ');
    expect(tracker.check(1_200, read)).toBe('busy');
    expect(tracker.check(3_000, read)).toBe('busy');
    expect(tracker.check(3_200, read)).toBe('idle');
    expect(tracker.reads).toBe(6);
    expect(tracker.current).toBe('idle');
    tracker.invalidate();
    tracker.check(3_300, read);
    expect(tracker.reads).toBe(7);
  });

  it('holds a waiting verdict while the agent redraws after resizes, though the half-drawn screen shows no prompt', () => {
    const tracker = new ActivityTracker({ idleMs: 400, startedAt: 0 });
    let rows = screen('Do you want to proceed?');
    const read = () => rows;
    expect(tracker.check(1_000, read)).toBe('waiting-input');
    // resized: the agent clears its screen and redraws, in pieces
    tracker.noteResize(2_000);
    rows = screen('┌──────┐', '│ line │');
    tracker.noteOutput(2_010);
    expect(tracker.check(2_050, read)).toBe('waiting-input');
    tracker.noteResize(2_250); // and again, before the first redraw window closed
    expect(tracker.check(2_900, read)).toBe('waiting-input');
    rows = screen('┌──────┐', '│ line │', 'Do you want to proceed?');
    tracker.noteOutput(2_960);
    // the redraw done, the screen is read again: still waiting, with the prompt back
    expect(tracker.check(3_300, read)).toBe('waiting-input');
    // a prompt that does not come back is read once the window has passed
    tracker.noteResize(4_000);
    rows = screen('$ ');
    expect(tracker.check(4_500, read)).toBe('waiting-input');
    expect(tracker.check(5_100, read)).toBe('idle');
  });
});
