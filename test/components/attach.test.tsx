import { describe, expect, it } from 'vitest';
import { attachLane, DETACH_KEYS } from '../../src/ui/attach.js';
import { NOT_A_TTY_MESSAGE, runDashboard } from '../../src/ui/runDashboard.js';
import { FakeSupervisor, makeLane, plain, sleep, TestStdin, TestStdout } from './harness.js';

const streams = (cols = 100, rows = 30): { stdin: TestStdin; stdout: TestStdout } => ({
  stdin: new TestStdin(),
  stdout: new TestStdout(cols, rows),
});
const asIo = (io: { stdin: TestStdin; stdout: TestStdout }) => ({
  stdin: io.stdin as unknown as NodeJS.ReadStream,
  stdout: io.stdout as unknown as NodeJS.WriteStream,
});

describe('attach mode', () => {
  it('the client that types sets the size: another client resized the lane, typing here fits it back first', async () => {
    const sup = new FakeSupervisor([makeLane('agent')]);
    const io = streams(100, 30);
    const done = attachLane({ supervisor: sup, lane: 'agent', ...asIo(io) });
    await new Promise((r) => setImmediate(r));
    expect(sup.getLane('agent')).toMatchObject({ cols: 100, rows: 29 });
    io.stdin.write('a');
    expect(sup.callsOf('resize')).toHaveLength(1); // the size is this client's already: no resize
    sup.resize('agent', 160, 47); // a second, bigger client attached or resized
    const before = sup.calls.length;
    io.stdin.write('b');
    const after = sup.calls.slice(before).map((c) => [c.method, ...c.args]);
    expect(after).toEqual([
      ['resize', 'agent', 100, 29],
      ['send', 'agent', 'b'],
    ]);
    io.stdin.write('\x1d');
    expect((await done).reason).toBe('detach');
  });

  it('draws the lane screen first, reserves the last row, pipes bytes both ways and restores modes on ctrl-]', async () => {
    const sup = new FakeSupervisor([makeLane('agent')]);
    sup.screens.set('agent', [[{ text: 'FULLSCREEN AGENT' }], [{ text: '> prompt' }]]);
    const io = streams(100, 30);
    const done = attachLane({ supervisor: sup, lane: 'agent', ...asIo(io) });
    await new Promise((r) => setImmediate(r)); // attach answers with the first frame first
    expect(sup.callsOf('attach')).toEqual([['agent', { cols: 100, rows: 29 }]]);
    const first = io.stdout.all();
    expect(first).toContain('FULLSCREEN AGENT');
    expect(first).toContain('\x1b[1;29r'); // scroll region: all rows but the status line
    expect(plain(first)).toContain('attached to agent — ctrl-] to detach');
    expect(sup.callsOf('resize')).toContainEqual(['agent', 100, 29]);
    expect(io.stdin.rawMode).toBe(true);

    // raw output straight through, raw input straight in
    sup.output_('agent', '\x1b[31mred\x1b[0m');
    expect(io.stdout.all()).toContain('\x1b[31mred\x1b[0m');
    io.stdin.write('yes\r');
    expect(sup.callsOf('send')).toContainEqual(['agent', 'yes\r']);

    // terminal resize follows into the pty
    io.stdout.resize(120, 40);
    expect(sup.callsOf('resize')).toContainEqual(['agent', 120, 39]);

    io.stdin.write('ab\x1dq');
    const res = await done;
    expect(res.reason).toBe('detach');
    expect(sup.callsOf('send')).toContainEqual(['agent', 'ab']);
    // what was typed after ctrl-] in the same read is the dashboard's, not the agent's
    expect(sup.callsOf('send').some(([, data]) => String(data).includes('q'))).toBe(false);
    expect(io.stdin.unshifted).toEqual(['q']);
    const tail = io.stdout.frames[io.stdout.frames.length - 1];
    for (const seq of [
      '\x1b[?1049l',
      '\x1b[?2004l',
      '\x1b[?1000l',
      '\x1b[?1002l',
      '\x1b[?1003l',
      '\x1b[?1006l',
      '\x1b[?1004l',
      '\x1b[<99u',
      '\x1b[?25h',
      '\x1b[r',
      '\x1b[0m',
    ]) {
      expect(tail, JSON.stringify(seq)).toContain(seq);
    }
    expect(io.stdin.rawMode).toBe(true); // no cooked-mode gap before the dashboard reads keys again
    // after detach no agent output reaches the terminal
    const before = io.stdout.frames.length;
    sup.output_('agent', 'late bytes');
    expect(io.stdout.frames.length).toBe(before);
  });

  it('knows ctrl-] also as the kitty keyboard protocol sends it', () => {
    expect(DETACH_KEYS.test('\x1d')).toBe(true);
    expect(DETACH_KEYS.test('\x1b[93;5u')).toBe(true);
    expect(DETACH_KEYS.test('\x1b[93;5:1u')).toBe(true);
    expect(DETACH_KEYS.test(']')).toBe(false);
  });

  it('detaches by itself when the lane exits', async () => {
    const sup = new FakeSupervisor([makeLane('agent')]);
    const io = streams();
    const done = attachLane({ supervisor: sup, lane: 'agent', ...asIo(io) });
    await new Promise((r) => setImmediate(r));
    sup.emit({ type: 'lane-exit', lane: 'agent', code: 0, signal: null });
    expect(await done).toEqual({ reason: 'lane-ended', message: 'agent exited (code 0)' });
  });
});

describe('runDashboard', () => {
  it('refuses a non-TTY with a message pointing to the subcommands', async () => {
    const io = streams();
    io.stdout.isTTY = false;
    await expect(
      runDashboard({ supervisor: new FakeSupervisor(), profiles: [], repoLabel: 'r', baseBranch: 'main', ...asIo(io) }),
    ).rejects.toThrow(NOT_A_TTY_MESSAGE);
    expect(NOT_A_TTY_MESSAGE).toMatch(/ao-console serve/);
    expect(NOT_A_TTY_MESSAGE).toMatch(/ao-console ctl/);
    expect(NOT_A_TTY_MESSAGE).toMatch(/ao-console lanes/);
    expect(io.stdout.frames).toEqual([]);
  });

  it('enters the alternate screen, attaches and detaches, and on quit shuts the supervisor down and leaves', async () => {
    const sup = new FakeSupervisor([makeLane('agent', { state: 'running' })]);
    sup.screens.set('agent', [[{ text: 'agent says hi' }]]);
    const io = streams(100, 30);
    const run = runDashboard({
      supervisor: sup,
      profiles: ['demo'],
      repoLabel: 'repo',
      baseBranch: 'main',
      ...asIo(io),
    });
    expect(io.stdout.frames[0]).toContain('\x1b[?1049h');
    const waitFor = async (pred: () => boolean, what: string): Promise<void> => {
      const until = Date.now() + 3000;
      while (!pred()) {
        if (Date.now() > until) throw new Error(`timed out: ${what}\n${plain(io.stdout.all()).slice(-2000)}`);
        await sleep(10);
      }
    };
    await waitFor(() => plain(io.stdout.all()).includes('agent says hi'), 'dashboard frame');
    io.stdin.write('\r');
    await waitFor(() => sup.callsOf('attach').length === 1, 'attach');
    await waitFor(() => plain(io.stdout.all()).includes('ctrl-] to detach'), 'status line');
    io.stdin.write('\x1d');
    await waitFor(() => plain(io.stdout.all()).includes('detached from agent'), 'back in the dashboard');
    io.stdin.write('q');
    await waitFor(() => plain(io.stdout.all()).includes('Quit and stop every agent?'), 'quit question');
    io.stdin.write('y');
    await run;
    expect(sup.callsOf('shutdown')).toEqual([['quit']]);
    expect(io.stdout.all().lastIndexOf('\x1b[?1049l')).toBeGreaterThan(io.stdout.all().lastIndexOf('\x1b[?1049h'));
  });
});
