/**
 * Fast-forward in the emulator worker (issue "Cheaper per lane than tmux", flood and ingest): a
 * lane nobody watches that floods has most of its output left unparsed, yet its screen, every
 * replay keyframe it takes and its flow control come out as with every byte parsed; a watched
 * lane's flood is cut too, and every screen it posts is exact.
 */
import { describe, expect, it } from 'vitest';
import { RemoteTerminal, emulatorStats } from '../../lanes/terminal/remoteTerminal.js';
import { LaneTerminal } from '../../lanes/terminal/laneTerminal.js';
import { waitFor } from '../helpers/waitFor.js';
import { captureKeyframe, RESET_PREFIX, type KeyframeCapture } from '../../lanes/recording/keyframes.js';

const COLS = 100;
const ROWS = 30;
const CHUNK = 4096;

/** Agent-like output, as bench/flood.mjs writes it: coloured lines, a spinner redrawn in place. */
function floodBytes(mib: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < 500; i++) {
    if (i % 50 === 0) lines.push(`\x1b[1;36m● Editing src/module${i}.ts\x1b[0m\r\n`);
    else if (i % 11 === 0) lines.push(`\r\x1b[2K\x1b[33m⠋\x1b[0m Thinking… (esc to interrupt)`);
    else lines.push(`   ${String(i).padStart(4)} │ function step${i}(input: string): string { return input; }\r\n`);
  }
  const block = Buffer.from(lines.join(''));
  const out = Buffer.alloc(mib * 1024 * 1024);
  for (let at = 0; at < out.length; at += block.length) block.copy(out, at);
  return out;
}

/**
 * Writes `data` in CHUNK-byte chunks (seq = index), a few per event-loop turn, and waits while
 * the terminal asks for a pause, as the pty reader does.
 */
async function pour(term: RemoteTerminal, data: Buffer): Promise<Buffer[]> {
  let resume: (() => void) | null = null;
  let paused = false;
  const off = term.onPressure((p) => {
    paused = p;
    if (!p) resume?.();
  });
  const chunks: Buffer[] = [];
  for (let at = 0, seq = 0; at < data.length; at += CHUNK, seq++) {
    const chunk = data.subarray(at, at + CHUNK);
    chunks.push(chunk);
    term.write(chunk, seq, seq);
    if (paused) await new Promise<void>((r) => (resume = r));
    else if (seq % 8 === 7) await new Promise((r) => setImmediate(r));
  }
  off();
  return chunks;
}

describe('fast-forward in the emulator worker', () => {
  it('leaves most of an unwatched flood unparsed; screen and keyframes are exact', async () => {
    const keyframes: KeyframeCapture[] = [];
    const term = new RemoteTerminal({ cols: COLS, rows: ROWS, keyframe: (k) => keyframes.push(k) });
    const before = (await emulatorStats()).skippedBytes;
    // a screen with something on it first, cursor off column 0, a pen set
    term.write(Buffer.from('before the flood\r\n\x1b[45mpen\x1b[3;9H'), -1, 0);
    await term.sync();
    const data = floodBytes(6);
    const chunks = await pour(term, data);
    // a query after the flood is answered (nothing the agent waits for is lost)
    const replies: string[] = [];
    term.onReply((r) => replies.push(r));
    chunks.push(Buffer.from('\x1b[6n'));
    term.write(chunks.at(-1)!, chunks.length - 1, chunks.length - 1);
    const screen = await term.sync();
    const skipped = (await emulatorStats()).skippedBytes - before;
    expect(skipped).toBeGreaterThan(data.length / 2);
    expect(term.pending).toBe(0);

    // the same bytes, every one parsed
    const ref = new LaneTerminal({ cols: COLS, rows: ROWS, scrollback: 200 });
    const feed = async (b: Uint8Array) => {
      ref.write(b);
      await ref.whenIdle();
    };
    await feed(Buffer.from('before the flood\r\n\x1b[45mpen\x1b[3;9H'));
    let fed = 0;
    expect(keyframes.length).toBeGreaterThan(2);
    for (const k of keyframes) {
      if (k.seq < 0) continue;
      while (fed <= k.seq) await feed(chunks[fed++]);
      const kind = k.data.startsWith(RESET_PREFIX) ? 'reset' : 'regular';
      expect(k.data, `keyframe after chunk ${k.seq}`).toBe(captureKeyframe(ref, k.seq, k.tMs, kind).data);
    }
    while (fed < chunks.length) await feed(chunks[fed++]);
    expect(screen.text).toEqual(ref.text());
    expect(screen.styled).toEqual(ref.styled());
    expect(screen.cursor).toEqual(ref.cursor());
    expect(replies.join('')).toBe(`\x1b[${ref.cursor().y + 1};${ref.cursor().x + 1}R`);
    // the lane's facts (what the dashboard lists) are read once the output after the cut is parsed
    await waitFor(() => term.lastLine() === ref.lastLine(), 'the last line as a full parse has it', 5000);
    ref.dispose();
    term.dispose();
  });

  it('drops nothing with an effect of its own: titles, a query and a mode switch amid a flood', async () => {
    const term = new RemoteTerminal({ cols: COLS, rows: ROWS, titleMatters: true });
    const replies: string[] = [];
    const titles: string[] = [];
    term.onReply((r) => replies.push(r));
    term.onTitle((t) => titles.push(t));
    const before = (await emulatorStats()).skippedBytes;
    // plain floods with, between them, a title, a cursor query, a mode switch and back
    const block = floodBytes(1);
    const effects = [
      '\x1b]0;title one\x07',
      '\x1b[6n',
      '\x1b[?1049h\x1b[5;5Halt',
      '\x1b[?1049l',
      '\x1b]2;title two\x07',
    ];
    const parts: Buffer[] = [];
    for (const effect of effects) parts.push(block, Buffer.from(effect));
    const data = Buffer.concat(parts);
    await pour(term, data);
    const screen = await term.sync();
    expect((await emulatorStats()).skippedBytes - before).toBeGreaterThan(data.length / 2);

    const ref = new LaneTerminal({ cols: COLS, rows: ROWS, scrollback: 200 });
    const refReplies: string[] = [];
    ref.onReply((r) => refReplies.push(r));
    ref.write(data);
    await ref.whenIdle();
    expect(screen.text).toEqual(ref.text());
    expect(screen.cursor).toEqual(ref.cursor());
    expect(replies).toEqual(refReplies);
    expect(replies).toHaveLength(1);
    await waitFor(() => titles.at(-1) === 'title two', 'the last title', 5000);
    ref.dispose();
    term.dispose();
  });

  it('cuts a watched flood too, and every screen it posts is the exact screen after its chunk', async () => {
    const term = new RemoteTerminal({ cols: COLS, rows: ROWS });
    term.setWatched(true);
    const shots: { seq: number; text: string[]; cursor: { x: number; y: number; visible: boolean } }[] = [];
    term.onScreen(() => shots.push({ seq: term.screenSeq, text: term.text(), cursor: term.cursor() }));
    const before = (await emulatorStats()).skippedBytes;
    const data = floodBytes(4);
    const chunks = await pour(term, data);
    const last = await term.sync();
    expect((await emulatorStats()).skippedBytes - before).toBeGreaterThan(data.length / 2);
    // a watched lane posts its screen once the output is parsed (and on the way, as often as it can)
    await waitFor(() => shots.at(-1)?.seq === chunks.length - 1, 'the screen after the last chunk', 5000);

    const ref = new LaneTerminal({ cols: COLS, rows: ROWS, scrollback: 200 });
    let fed = 0;
    for (const shot of [...shots, { seq: last.seq, text: last.text, cursor: last.cursor }]) {
      while (fed <= shot.seq) ref.write(chunks[fed++]);
      await ref.whenIdle();
      expect(shot.text, `the screen after chunk ${shot.seq}`).toEqual(ref.text());
      expect(shot.cursor).toEqual(ref.cursor());
    }
    expect(last.seq).toBe(chunks.length - 1);
    ref.dispose();
    term.dispose();
  });
});
