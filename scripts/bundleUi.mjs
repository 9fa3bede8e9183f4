// Bundles the dashboard's UI (Ink, React and their ~800 small modules, with components/ and
// src/{state,ui,keymap,...}) into one file, dist/src/ui/dashboard.bundle.js, which the dashboard
// loads instead of dist/src/ui/runDashboard.js when it is there: resolving and linking that many
// ES modules is most of the time between the splash and the dashboard (issue "Lanes outlive
// every window": the lanes' screens within a second of the first frame).
//
// The engine side stays out of the bundle (lanes/, src/control/, src/splash.js, src/commands/,
// profiles/ and the native and emulator packages): those modules are imported from dist/ as they
// are, so there is one copy of each class and of each module's state (the splash, ActionError).
// Without esbuild (an unpacked tarball carries the bundle already) it says so and does nothing.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const entry = path.join(dist, 'src', 'ui', 'runDashboard.js');
export const BUNDLE = path.join(dist, 'src', 'ui', 'dashboard.bundle.js');

/** dist/ files the bundle imports instead of copying (the engine side, shared state). */
const SHARED = [
  path.join(dist, 'lanes') + path.sep,
  path.join(dist, 'profiles') + path.sep,
  path.join(dist, 'src', 'control') + path.sep,
  path.join(dist, 'src', 'commands') + path.sep,
  // the replay (an emulator, the store's reader, SQLite): loaded when first used, after the first frame
  path.join(dist, 'src', 'replay') + path.sep,
  path.join(dist, 'src', 'splash.js'),
];
/** packages left to node: native modules, the emulator (large, loaded lazily by the replay), SQLite */
const EXTERNAL_PACKAGES = [
  'better-sqlite3',
  'node-pty',
  '@xterm/headless',
  '@xterm/addon-serialize',
  'zod',
  'commander',
];

/**
 * Entries a cache holds before it starts again: a frame of the dashboard at 160x48 makes ~200
 * (its lines and Text nodes), so this keeps five frames of everything new. Counted in entries, a
 * bound must be small: a cached line is its styled characters (~20 KB for 120 columns), and a
 * spinner or a clock makes new lines every frame. At 20000 the caches held up to ~220 MiB, and
 * the dashboard of 16 spinners grew ~10 MiB a minute (test/unit/uiBundle.test.ts).
 */
const CACHE_LIMIT = 1000;
/**
 * Ink 6 redoes per-character work for every character of every frame, though an idle dashboard
 * changes a few rows a frame: most of its CPU (issue "Cheaper per lane than tmux"). In the bundle:
 * - its per-line caches (a line's styled characters, a string's width) live across frames,
 *   bounded, instead of in each frame's Output object;
 * - a line that fits its clip box is not cut with slice-ansi (it was cut at its own width);
 * - blank cells share one object, so a row made of the same cells as in the last frame reuses
 *   that frame's string for it;
 * - widest-line (each Text node's width, every frame) is memoised, bounded.
 * Each edit names the exact source text it replaces and fails the build when it is not there
 * (an Ink upgrade must look at these again). The output is the same text, byte for byte.
 */
const INK_OUTPUT_EDITS = [
  ['caches = new OutputCaches();', 'caches = aoSharedOutputCaches();'],
  [
    `const row = [];
            for (let x = 0; x < this.width; x++) {
                row.push({
                    type: 'char',
                    value: ' ',
                    fullWidth: false,
                    styles: [],
                });
            }`,
    'const row = new Array(this.width).fill(AO_BLANK);',
  ],
  [
    `const to = x + width > clip.x2 ? clip.x2 - x : width;
                            return sliceAnsi(line, from, to);`,
    `const to = x + width > clip.x2 ? clip.x2 - x : width;
                            if (from === 0 && to >= width) return line;
                            return sliceAnsi(line, from, to);`,
  ],
  [
    `const generatedOutput = output
            .map(line => {`,
    `const generatedOutput = output
            .map((line, y) => {`,
  ],
  [
    `const lineWithoutEmptyItems = line.filter(item => item !== undefined);
            return styledCharsToString(lineWithoutEmptyItems).trimEnd();`,
    `const lineWithoutEmptyItems = line.includes(undefined) ? line.filter(item => item !== undefined) : line;
            return aoRowString(lineWithoutEmptyItems, this.height, y);`,
  ],
];
const INK_OUTPUT_APPEND = `
/* ao-console (scripts/bundleUi.mjs): state kept across frames */
const AO_BLANK = Object.freeze({ type: 'char', value: ' ', fullWidth: false, styles: Object.freeze([]) });
let aoCaches;
function aoSharedOutputCaches() {
    if (!aoCaches || aoCaches.styledChars.size + aoCaches.widths.size + aoCaches.blockWidths.size > ${CACHE_LIMIT}) {
        aoCaches = new OutputCaches();
    }
    return aoCaches;
}
/* the last frame's string of each row (by frame height and row): reused when the row holds the same cells */
let aoRows = new Map();
function aoRowString(chars, height, y) {
    const key = height * 65536 + y;
    const last = aoRows.get(key);
    if (last && last.chars.length === chars.length && last.chars.every((c, i) => c === chars[i])) return last.text;
    if (aoRows.size > 4096) aoRows = new Map();
    const text = styledCharsToString(chars).trimEnd();
    aoRows.set(key, { chars, text });
    return text;
}
`;
const WIDEST_LINE_EDITS = [['export default function widestLine(string) {', 'function aoWidestLine(string) {']];
const WIDEST_LINE_APPEND = `
/* ao-console (scripts/bundleUi.mjs): memoised, bounded */
let aoWidths = new Map();
export default function widestLine(string) {
	let width = aoWidths.get(string);
	if (width === undefined) {
		if (aoWidths.size > ${CACHE_LIMIT}) aoWidths = new Map();
		width = aoWidestLine(string);
		aoWidths.set(string, width);
	}
	return width;
}
`;

/** Applies `edits` ([from, to] pairs, each found exactly once) to `source`, then appends `append`. */
export function editSource(name, source, edits, append) {
  let out = source;
  for (const [from, to] of edits) {
    const at = out.indexOf(from);
    if (at < 0 || out.indexOf(from, at + 1) >= 0) {
      throw new Error(`bundleUi: ${name} no longer has exactly one "${from.split('\n')[0]}…": review the edit`);
    }
    out = out.slice(0, at) + to + out.slice(at + from.length);
  }
  return out + append;
}

/**
 * A row's string: ansi-tokenize diffs the styles of each character against the last one's (three
 * Sets and two arrays a character, most of an idle dashboard's garbage). Two characters whose
 * style codes are the same, in the same order, diff to nothing: the diff is skipped for them, and
 * the characters of one run share one array of codes instead of a copy each.
 */
const STYLED_CHARS_EDITS = [
  // characters under the same codes share one copy of them (nothing writes to a character's styles)
  [
    `let codes = [];
    const ret = [];`,
    `let codes = [];
    let styles = null;
    const ret = [];`,
  ],
  [
    `codes = reduceAnsiCodesIncremental(codes, [token]);`,
    `codes = reduceAnsiCodesIncremental(codes, [token]);
            styles = null;`,
  ],
  // and each character is its token (fresh from tokenize, read by nothing else) given its styles
  [
    `ret.push({
                ...token,
                styles: [...codes],
            });`,
    `token.styles = styles ??= [...codes];
            ret.push(token);`,
  ],
  [
    `ret += ansiCodesToString(diffAnsiCodes(chars[i - 1].styles, char.styles));`,
    `if (!aoSameStyles(chars[i - 1].styles, char.styles)) ret += ansiCodesToString(diffAnsiCodes(chars[i - 1].styles, char.styles));`,
  ],
  [`if (i === chars.length - 1) {`, `if (i === chars.length - 1 && char.styles.length > 0) {`],
];
const STYLED_CHARS_APPEND = `
/* ao-console (scripts/bundleUi.mjs): the same codes in the same order diff to nothing */
function aoSameStyles(a, b) {
    if (a === b) return true;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i] && (a[i].code !== b[i].code || a[i].endCode !== b[i].endCode)) return false;
    }
    return true;
}
`;

/**
 * string-width measures anything but printable ASCII with a grapheme segmenter (an object per
 * character): a spinner's braille or a box's lines, every frame. Characters that are one column
 * each and never join a neighbour's grapheme (Latin-1 but the soft hyphen, Latin Extended, Greek,
 * Cyrillic but its combining marks, general punctuation but the bidi controls, arrows, maths,
 * technical but its emoji, box drawing, blocks, geometric shapes but two emoji, braille) take the
 * ASCII path too. test/unit/uiBundle.test.ts checks every one of them against the segmenter.
 */
export const NARROW_CLASS =
  '\\u0020-\\u007E\\u00A0-\\u00AC\\u00AE-\\u02FF\\u0370-\\u0482\\u048A-\\u04FF\\u2010-\\u2029\\u202F-\\u205E' +
  '\\u2190-\\u2319\\u231C-\\u2328\\u232B-\\u23E8\\u2500-\\u25FC\\u2800-\\u28FF';
/**
 * ansi-tokenize cuts every line a frame draws into graphemes with the segmenter, and a spinner's
 * lines change every frame. A line of narrow characters and ESC is one grapheme per UTF-16 unit
 * (none of them joins a neighbour: test/unit/uiBundle.test.ts), so it is walked by index instead;
 * the loop's body is Ink's own.
 */
const TOKENIZE_EDITS = [
  [
    `for (const { segment, index } of segmenter.segment(str)) {`,
    `const aoNarrow = AO_NARROW_LINE.test(str);
    const aoSegments = aoNarrow ? null : segmenter.segment(str)[Symbol.iterator]();
    for (let aoAt = 0;;) {
        let segment, index;
        if (aoNarrow) {
            if (aoAt >= str.length) break;
            index = aoAt;
            segment = str[aoAt++];
        } else {
            const next = aoSegments.next();
            if (next.done) break;
            ({ segment, index } = next.value);
        }`,
  ],
];
const TOKENIZE_APPEND = `
/* ao-console (scripts/bundleUi.mjs): lines of one-unit graphemes */
const AO_NARROW_LINE = /^[${NARROW_CLASS}\\u001B]*$/;
`;

const STRING_WIDTH_EDITS = [
  [`if (/^[\\u0020-\\u007E]*$/.test(string)) {`, `if (/^[${NARROW_CLASS}]*$/.test(string)) {`],
];

const PATCHES = [
  {
    filter: /[\\/]ink[\\/]build[\\/]output\.js$/,
    name: 'ink/build/output.js',
    edits: INK_OUTPUT_EDITS,
    append: INK_OUTPUT_APPEND,
  },
  {
    filter: /[\\/]@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]styledChars\.js$/,
    name: '@alcalzone/ansi-tokenize/build/styledChars.js',
    edits: STYLED_CHARS_EDITS,
    append: STYLED_CHARS_APPEND,
  },
  {
    filter: /[\\/]@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]tokenize\.js$/,
    name: '@alcalzone/ansi-tokenize/build/tokenize.js',
    edits: TOKENIZE_EDITS,
    append: TOKENIZE_APPEND,
  },
  {
    // Ink's own string-width (8.x), not wrap-ansi's older copy under its own node_modules
    filter: new RegExp(
      `^${path.join(root, 'node_modules', 'string-width', 'index.js').replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')}$`,
    ),
    name: 'string-width/index.js',
    edits: STRING_WIDTH_EDITS,
    append: '',
  },
  {
    filter: /[\\/]widest-line[\\/]index\.js$/,
    name: 'widest-line/index.js',
    edits: WIDEST_LINE_EDITS,
    append: WIDEST_LINE_APPEND,
  },
];

/** The esbuild plugin that applies PATCHES to the files it bundles. */
export const patchPlugin = {
  name: 'ao-patches',
  setup(build) {
    for (const patch of PATCHES) {
      build.onLoad({ filter: patch.filter }, (args) => ({
        contents: editSource(patch.name, readFileSync(args.path, 'utf8'), patch.edits, patch.append),
        loader: 'js',
      }));
    }
  },
};

export async function bundleUi() {
  if (!existsSync(entry)) return false;
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    process.stderr.write('bundleUi: esbuild is not installed; the dashboard loads its modules one by one\n');
    rmSync(BUNDLE, { force: true });
    return false;
  }
  const outDir = path.dirname(BUNDLE);
  const shared = {
    name: 'ao-shared',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const abs = path.resolve(args.resolveDir, args.path);
        if (!SHARED.some((s) => (s.endsWith(path.sep) ? abs.startsWith(s) : abs === s))) return undefined;
        let rel = path.relative(outDir, abs).split(path.sep).join('/');
        if (!rel.startsWith('.')) rel = `./${rel}`;
        return { path: rel, external: true };
      });
      // Ink imports React's devtools only in development: never in this bundle.
      build.onResolve({ filter: /^react-devtools-core$/ }, () => ({
        path: 'react-devtools-core',
        namespace: 'ao-stub',
      }));
      build.onLoad({ filter: /.*/, namespace: 'ao-stub' }, () => ({
        contents: 'export default { initialize() {}, connectToDevTools() {} };',
        loader: 'js',
      }));
    },
  };
  const built = await esbuild.build({
    entryPoints: [entry],
    outfile: BUNDLE,
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL_PACKAGES,
    plugins: [shared, patchPlugin],
    define: { 'process.env.NODE_ENV': '"production"' },
    // CommonJS packages inside an ES module bundle call require(): give them one
    banner: {
      js: "import { createRequire as __aoRequire } from 'node:module'; const require = __aoRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  const [bundle] = built.outputFiles;
  writeFileSync(BUNDLE, asciiComments(bundle.text));
  return true;
}

/**
 * The bundle with every non-ASCII character written as `\u{…}`. esbuild already escapes them in
 * code (its default charset is ASCII), so what is left is in comments it keeps (one inside JSX):
 * a single one makes V8 hold the 1.1 MB source as two bytes a character, 1.1 MiB more of the
 * dashboard's heap (issue "Cheaper per lane than tmux").
 */
export function asciiComments(text) {
  return text.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await bundleUi();
}
