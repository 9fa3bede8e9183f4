/**
 * Which state source a lane believes (lanes/lane/activitySources.ts): trust order, recency,
 * debouncing; the title patterns; a status file's values (lanes/lane/statusFile.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ActivitySources, DEBOUNCE_MS, RECENT_MS, titleActivity } from '../../lanes/lane/activitySources.js';
import { StatusFileReader, parseStatus, resolveStatusPath } from '../../lanes/lane/statusFile.js';
import { stateSource } from '../../lanes/store/events.js';
import { activityCause } from '../../lanes/supervisor/launch.js';
import { compilePatterns, profileSchema } from '../../profiles/schema.js';
import { LaneTerminal, TITLE_MAX, cleanTitle } from '../../lanes/terminal/laneTerminal.js';

describe('ActivitySources', () => {
  it('a less trusted source does not override a more trusted one that spoke recently', () => {
    const s = new ActivitySources();
    s.report('screen', 'busy', '', 0);
    s.report('hook', 'waiting-input', 'control', 1000);
    s.report('screen', 'idle', '', 1500); // the screen changes its mind after the hook
    expect(s.decide(1500)).toMatchObject({ activity: 'waiting-input', source: 'hook' });
    expect(s.decide(1000 + RECENT_MS - 1)).toMatchObject({ source: 'hook' });
    // the hook is no longer recent, the screen spoke after it: the freshest news wins
    expect(s.decide(1000 + RECENT_MS)).toMatchObject({ activity: 'idle', source: 'screen' });
  });

  it('after the window, the source that spoke last wins, whatever its rank', () => {
    const s = new ActivitySources({ debounceMs: 0 });
    s.report('status-file', 'busy', 'status=busy', 0);
    s.report('screen', 'waiting-input', '', 100);
    expect(s.decide(200)).toMatchObject({ activity: 'busy', source: 'status-file' });
    expect(s.decide(RECENT_MS)).toMatchObject({ activity: 'waiting-input', source: 'screen' });
    // the status file speaks again: it is recent and more trusted
    s.report('status-file', 'waiting-input', 'status=waiting', 5000);
    expect(s.decide(5000)).toMatchObject({ activity: 'waiting-input', source: 'status-file' });
  });

  it('the same verdict again keeps the time it began (a repeated reading is not news)', () => {
    const s = new ActivitySources({ debounceMs: 0 });
    s.report('status-file', 'busy', 'status=busy', 0);
    s.report('screen', 'idle', '', 10);
    for (let t = 250; t < 5000; t += 250) s.report('status-file', 'busy', 'status=busy', t);
    expect(s.decide(5000)).toMatchObject({ activity: 'idle', source: 'screen' });
  });

  it("the screen's news is its last output: turning idle on a timer does not outdo a later title", () => {
    const s = new ActivitySources({ debounceMs: 0 });
    s.report('screen', 'busy', '', 0, 0); // the title's escape sequence is output too
    s.report('title', 'busy', '✦  Working…', 100);
    s.report('screen', 'idle', '', 600, 0); // quiet since: idle by the timer
    expect(s.decide(5000)).toMatchObject({ activity: 'busy', source: 'title' });
    s.report('screen', 'waiting-input', '', 6000, 5900); // new output drew a prompt
    expect(s.decide(9000)).toMatchObject({ activity: 'waiting-input', source: 'screen' });
  });

  it('debounces a title or status file: a flicker shorter than DEBOUNCE_MS is not a change', () => {
    const s = new ActivitySources();
    s.report('title', 'busy', '✦  Working…', 0);
    expect(s.decide(0)).toBeNull(); // not yet held long enough
    expect(s.decide(DEBOUNCE_MS)).toMatchObject({ activity: 'busy', source: 'title' });
    s.report('title', 'waiting-input', '◇  Ready', 5000);
    s.report('title', 'busy', '✦  Working…', 5000 + DEBOUNCE_MS - 1); // back before it counted
    expect(s.decide(5000 + 2 * DEBOUNCE_MS)).toMatchObject({ activity: 'busy', source: 'title' });
    expect(s.opinion('title')).toBe('busy');
    s.report('title', 'waiting-input', '✋  Action Required', 6000);
    expect(s.decide(6000 + DEBOUNCE_MS)).toMatchObject({ activity: 'waiting-input', detail: '✋  Action Required' });
  });

  it('hooks count at once; forgetting one (the operator typed) hands over to the others', () => {
    const s = new ActivitySources();
    s.report('screen', 'busy', '', 0);
    s.report('hook', 'waiting-input', 'control', 10);
    expect(s.decide(10)).toMatchObject({ activity: 'waiting-input', source: 'hook' });
    s.forget('hook');
    expect(s.decide(20)).toMatchObject({ activity: 'busy', source: 'screen' });
  });

  it('a source with no opinion (a title no pattern knows) drops out', () => {
    const s = new ActivitySources({ debounceMs: 0 });
    s.report('screen', 'busy', '', 0);
    s.report('title', 'idle', 'x', 10);
    expect(s.decide(20)).toMatchObject({ source: 'title' });
    s.report('title', null, 'vim', 30);
    expect(s.decide(40)).toMatchObject({ activity: 'busy', source: 'screen' });
  });
});

describe('titleActivity', () => {
  const profile = profileSchema.parse({
    name: 't',
    command: 'x',
    taskInput: 'none',
    titlePatterns: { busy: ['^✦\\s'], waitingInput: ['^✋\\s+Action Required', '^◇\\s+Ready'] },
  });
  const title = compilePatterns(profile).title!;

  it("reads Gemini CLI's titles; a title no pattern knows says nothing", () => {
    expect(titleActivity('✋  Action Required (repo)', title)).toBe('waiting-input');
    expect(titleActivity('◇  Ready (repo)', title)).toBe('waiting-input');
    expect(titleActivity('✦  Working… (repo)', title)).toBe('busy');
    expect(titleActivity('Gemini CLI (Ready)', title)).toBeNull();
  });

  it('profiles without titlePatterns compile none', () => {
    expect(compilePatterns(profileSchema.parse({ name: 't', command: 'x', taskInput: 'none' })).title).toBeUndefined();
  });
});

describe('the title an agent sets', () => {
  it('reaches onTitle from OSC 0 and OSC 2, cut to TITLE_MAX, never drawn', async () => {
    const term = new LaneTerminal({ cols: 40, rows: 5 });
    const titles: string[] = [];
    term.onTitle((t) => titles.push(t));
    term.write(Buffer.from('\x1b]0;◇  Ready (repo)\x07text\x1b]2;✋  Action Required\x1b\\'));
    term.write(Buffer.from(`\x1b]2;${'x'.repeat(TITLE_MAX + 50)}\x07`));
    await term.whenIdle();
    expect(titles).toEqual(['◇  Ready (repo)', '✋  Action Required', 'x'.repeat(TITLE_MAX)]);
    expect(term.text()[0]).toBe('text');
    term.dispose();
  });

  it('loses its control characters', () => {
    expect(cleanTitle(' a\x01b\x9bc\x7f ')).toBe('a b c');
  });
});

describe('status files', () => {
  const spec = {
    field: 'status',
    values: { busy: 'busy', waiting: 'waiting-input', idle: 'waiting-input' } as const,
    detailField: 'waitingFor',
  };

  it("reads Claude Code's session file", () => {
    expect(parseStatus('{"pid":1,"status":"waiting","waitingFor":"permission prompt"}', spec)).toEqual({
      activity: 'waiting-input',
      detail: 'status=waiting (permission prompt)',
    });
    expect(parseStatus('{"status":"busy"}', spec)).toEqual({ activity: 'busy', detail: 'status=busy' });
    // before its first status, an unknown value, a broken file: nothing said
    expect(parseStatus('{"pid":1}', spec)).toBeNull();
    expect(parseStatus('{"status":"compacting"}', spec)).toBeNull();
    expect(parseStatus('{"status":', spec)).toBeNull();
    expect(parseStatus('{"status":"toString"}', spec)).toBeNull();
    expect(parseStatus('{"a":{"b":"busy"}}', { field: 'a.b', values: { busy: 'busy' } })).toMatchObject({
      activity: 'busy',
    });
  });

  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('finds {pid} among the lane process tree and resolves {home} from the agent env', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'ao-status-'));
    dirs.push(home);
    const file = resolveStatusPath('{home}/{pid}.json', { HOME: home });
    expect(file).toBe(`${home}/{pid}.json`);
    const reader = new StatusFileReader({ ...spec, path: file }, process.pid);
    expect(reader.read()).toBeNull();
    writeFileSync(path.join(home, `${process.pid}.json`), '{"status":"busy"}');
    expect(reader.read()).toEqual({ activity: 'busy', detail: 'status=busy' });
    writeFileSync(path.join(home, `${process.pid}.json`), '{"status":"idle"}');
    expect(reader.read()?.activity).toBe('waiting-input');
  });

  it('the schema checks the path and the values', () => {
    const base = { name: 't', command: 'x', taskInput: 'none' };
    expect(() =>
      profileSchema.parse({ ...base, statusFile: { path: 'rel/{pid}.json', values: { busy: 'busy' } } }),
    ).toThrow(/absolute or start with \{home\}/);
    expect(() =>
      profileSchema.parse({ ...base, statusFile: { path: '{home}/{lane}.json', values: { busy: 'busy' } } }),
    ).toThrow(/unknown placeholder \{lane\}/);
    expect(() =>
      profileSchema.parse({ ...base, statusFile: { path: '/s.json', values: { busy: 'working' } } }),
    ).toThrow();
    const p = profileSchema.parse({ ...base, statusFile: { path: '/s.json', values: { busy: 'busy' } } });
    expect(p.statusFile?.field).toBe('status');
  });
});

describe('recording the source', () => {
  it('the cause says which source said what; the event data carries the source', () => {
    expect(activityCause({ activity: 'busy', source: 'screen', detail: '' })).toBe('screen reads busy');
    expect(activityCause({ activity: 'waiting-input', source: 'title', detail: '✋  Action Required' })).toBe(
      'title reads waiting-input: "✋  Action Required"',
    );
    expect(activityCause({ activity: 'busy', source: 'status-file', detail: 'status=busy' })).toBe(
      'status file reads busy: status=busy',
    );
    expect(stateSource({ kind: 'state', data: { source: 'title' } })).toBe('title');
    expect(stateSource({ kind: 'state', data: null })).toBeNull();
    expect(stateSource({ kind: 'state', data: { source: 'guess' } })).toBeNull();
    expect(stateSource({ kind: 'note', data: { source: 'hook' } })).toBeNull();
  });
});
