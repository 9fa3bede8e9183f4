/**
 * The dashboard's UI bundle (scripts/bundleUi.mjs, loaded by src/commands/dashboard.ts): one
 * module instead of ~900, and the engine side not copied into it, so there is one copy of each
 * shared class and module state (ActionError, the splash) between the CLI and the dashboard.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../dist/src/ui/dashboard.bundle.js', import.meta.url));

describe('the dashboard UI bundle', () => {
  it('is built with dist/ (esbuild is a dev dependency)', () => {
    expect(existsSync(BUNDLE)).toBe(true);
  });

  it('holds Ink and React but imports the engine side from dist/ instead of copying it', () => {
    const text = readFileSync(BUNDLE, 'utf8');
    expect(text).toContain('react-reconciler');
    // shared modules are imports, never copies
    expect(text).toMatch(/from "\.\.\/\.\.\/lanes\/lane\/rules\.js"/);
    expect(text).toMatch(/from "\.\.\/splash\.js"/);
    // the replay (emulator, store reader, SQLite) loads when first used, not with the dashboard
    expect(text).toMatch(/import\("\.\.\/replay\/service\.js"\)/);
    expect(text).not.toMatch(/from "\.\.\/\.\.\/lanes\/terminal\/laneTerminal\.js"/);
    expect(text).not.toMatch(/class ActionError\b/);
    expect(text).not.toMatch(/function drawSplash\b/);
    expect(text).not.toMatch(/class Supervisor\b/);
  });

  it('is ASCII, so V8 keeps its source one byte a character', async () => {
    const { asciiComments } = (await import(new URL('../../scripts/bundleUi.mjs', import.meta.url).href)) as {
      asciiComments: (text: string) => string;
    };
    const text = readFileSync(BUNDLE, 'utf8');
    expect(text.length).toBeGreaterThan(500_000);
    expect(text.match(/[^\x00-\x7f]/gu) ?? []).toEqual([]);
    // the characters the dashboard draws are there, escaped
    expect(text).toContain('\\u2717');
    expect(asciiComments('a /* ✗ 😀 */ b')).toBe('a /* \\u{2717} \\u{1f600} */ b');
  });

  it('exports what the dashboard command calls', async () => {
    const mod = (await import(BUNDLE)) as { runDashboard?: unknown; NotATtyError?: unknown };
    expect(typeof mod.runDashboard).toBe('function');
  });
});

/**
 * The frame caches the bundle adds to Ink (scripts/bundleUi.mjs PATCHES) must not change a single
 * byte of any frame: the same Ink module is bundled with and without them and both draw the same
 * sequence of frames (rows that stay, rows that change, clipped and wide text, styles).
 */
describe('Ink with the bundle’s frame caches', () => {
  async function inkOutput(patched: boolean): Promise<InkOutputClass> {
    const esbuild = await import('esbuild');
    const { patchPlugin } = (await import(new URL('../../scripts/bundleUi.mjs', import.meta.url).href)) as {
      patchPlugin: import('esbuild').Plugin;
    };
    const out = await esbuild.build({
      stdin: {
        // by path: ink's package exports do not name its build files
        contents: `export { default as Output } from ${JSON.stringify(path.join(ROOT, 'node_modules/ink/build/output.js'))}; export { default as widestLine } from 'widest-line';`,
        resolveDir: ROOT,
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      plugins: patched ? [patchPlugin] : [],
      logLevel: 'silent',
    });
    const code = out.outputFiles[0].text;
    if (patched) expect(code).toContain('aoRowString');
    return (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as InkOutputClass;
  }

  it('draws every frame exactly as Ink does', async () => {
    const plain = await inkOutput(false);
    const fast = await inkOutput(true);
    const frames: string[][] = [[], []];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const styled = ['\x1b[1m', '\x1b[36m', '\x1b[0;7m', ''];
    const words = [
      'row',
      '●',
      '○',
      '漢字',
      'é',
      'x'.repeat(30),
      '│',
      '',
      '⠙ Thinking…',
      '╭──╮',
      '\x1b[31m⠋\x1b[0m red',
      '👍🏽 ok',
    ];
    const rows = Array.from({ length: 12 }, (_, i) => `line ${i} ${words[i % words.length]}`);
    for (let frame = 0; frame < 60; frame++) {
      // a few rows change each frame, the rest stay
      for (let k = 0; k < 3; k++) {
        const i = rand(rows.length);
        rows[i] =
          `${styled[rand(styled.length)]}${words[rand(words.length)]} ${frame}\x1b[0m ${words[rand(words.length)]}`;
      }
      const height = frame % 20 === 19 ? 10 : 14;
      for (const [n, mod] of [plain, fast].entries()) {
        const o = new mod.Output({ width: 40, height });
        o.write(0, 0, `header ${Math.floor(frame / 10)}`, { transformers: [] });
        o.clip({ x1: 2, x2: 30, y1: 1, y2: 12 });
        o.write(1, 1, rows.join('\n'), { transformers: [] });
        o.unclip();
        o.clip({ x1: 0, x2: 24 });
        o.write(0, 12, `${rows[frame % rows.length]} ${'y'.repeat(30)}\nshort`, { transformers: [] });
        o.unclip();
        o.write(32, 2, '│\n│\n│', { transformers: [(s: string) => `\x1b[2m${s}\x1b[22m`] });
        frames[n].push(o.get().output);
      }
      expect(fast.widestLine(rows.join('\n'))).toBe(plain.widestLine(rows.join('\n')));
    }
    expect(frames[1]).toEqual(frames[0]);
  });

  it('keeps its caches small however many new lines the frames bring (a spinner, a clock)', async () => {
    const fast = await inkOutput(true);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const frame = (n: number) => {
      const o = new fast.Output({ width: 120, height: 40 });
      const rows = Array.from({ length: 40 }, (_, i) => `\x1b[36m⠋\x1b[0m frame ${n} row ${i} ${'─'.repeat(90)}`);
      o.write(0, 0, rows.join('\n'), { transformers: [] });
      o.get();
      fast.widestLine(rows.join('\n'));
    };
    for (let n = 0; n < 50; n++) frame(n); // warm: the code, the first entries
    gc();
    const before = process.memoryUsage().heapUsed;
    let most = 0; // what the caches held at their fullest (they start again at their bound)
    for (let n = 50; n < 1050; n++) {
      frame(n); // 40 new lines each, 40 000 in all
      if (n % 25 === 0) {
        gc();
        most = Math.max(most, process.memoryUsage().heapUsed - before);
      }
    }
    // a few frames' lines are a few MiB; ten thousand lines kept would be ~70 MiB
    expect(most / 1024 / 1024).toBeLessThan(32);
  });
});

describe('string-width with the bundle’s narrow path', () => {
  it('gives every character of the narrow class one column and a grapheme of its own, as the segmenter does', async () => {
    const { default: stringWidth } = await import('string-width');
    const { NARROW_CLASS } = (await import(new URL('../../scripts/bundleUi.mjs', import.meta.url).href)) as {
      NARROW_CLASS: string;
    };
    const narrow = new RegExp(`^[${NARROW_CLASS}]$`);
    const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
    let checked = 0;
    const wrong: string[] = [];
    for (let cp = 0; cp <= 0xffff; cp++) {
      const ch = String.fromCodePoint(cp);
      if (!narrow.test(ch)) continue;
      checked++;
      // alone, and between neighbours it might join (a grapheme of its own either way)
      if (stringWidth(ch) !== 1 || stringWidth(`a${ch}${ch}b`) !== 4) wrong.push(cp.toString(16));
      // one grapheme per UTF-16 unit, next to ESC too (the tokenizer walks such lines by index)
      if ([...segmenter.segment(`a${ch}${ch}\x1b${ch}`)].length !== 5) wrong.push(`${cp.toString(16)} joins`);
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(2000);
    // what the class leaves to the segmenter: the soft hyphen, combining marks, bidi controls, emoji, CJK
    for (const ch of ['\u00AD', '\u0301', '\u0483', '\u202E', '\u231A', '\u25FD', '☔', '漢', '\u200D']) {
      expect(narrow.test(ch)).toBe(false);
    }
  });
});

interface InkOutputClass {
  Output: new (opts: { width: number; height: number }) => {
    write(x: number, y: number, text: string, opts: { transformers: ((s: string, i: number) => string)[] }): void;
    clip(c: { x1?: number; x2?: number; y1?: number; y2?: number }): void;
    unclip(): void;
    get(): { output: string; height: number };
  };
  widestLine(s: string): number;
}
