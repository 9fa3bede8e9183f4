/**
 * The AgentOps `.agents/learnings/*.md` format: YAML frontmatter (type, source, date,
 * confidence, maturity, and the fields ao-console adds) then the learning's text. Only the flat
 * `key: value` subset of YAML that these files use is read; anything else is an error naming
 * the line. Pure: tested alone (test/unit/learningsFormat.test.ts).
 */

export interface AgentsLearning {
  text: string;
  /** `type` in the file */
  category: string;
  source: string | null;
  /** `date`, epoch ms */
  createdAt: number | null;
  /** 0..1 (the words high / medium / low are read as 0.8 / 0.5 / 0.3) */
  confidence: number | null;
  maturity: string | null;
  utility: number | null;
  /** the lane it came from, by name */
  lane: string | null;
  tombstoned: boolean;
  tombstoneReason: string | null;
}

export class AgentsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentsFormatError';
  }
}

const CONFIDENCE_WORDS: Record<string, number> = { high: 0.8, medium: 0.5, low: 0.3 };
const KNOWN = new Set([
  'type',
  'source',
  'date',
  'confidence',
  'maturity',
  'utility',
  'lane',
  'tombstoned',
  'tombstone_reason',
  'id',
  'session_type',
  'title',
  'tags',
]);

function unquote(raw: string, line: number): string {
  const v = raw.trim();
  if (v.startsWith('"')) {
    try {
      const s: unknown = JSON.parse(v);
      if (typeof s === 'string') return s;
    } catch {
      // fall through
    }
    throw new AgentsFormatError(`line ${line}: unterminated or invalid double-quoted string`);
  }
  if (v.startsWith("'")) {
    if (v.length < 2 || !v.endsWith("'"))
      throw new AgentsFormatError(`line ${line}: unterminated single-quoted string`);
    return v.slice(1, -1).replace(/''/g, "'");
  }
  // a plain scalar: a trailing comment goes
  return v.replace(/\s+#.*$/, '');
}

/** Parses one file's content; throws AgentsFormatError saying what is wrong. */
export function parseAgentsLearning(content: string): AgentsLearning {
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== '---') throw new AgentsFormatError('line 1: expected "---" opening the frontmatter');
  const end = lines.findIndex((l, i) => i > 0 && l.trim() === '---');
  if (end < 0) throw new AgentsFormatError('no closing "---" after the frontmatter');
  const fields = new Map<string, string>();
  for (let i = 1; i < end; i++) {
    const line = lines[i];
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const m = /^([A-Za-z_][\w-]*):(?:\s+(.*))?$/.exec(line);
    if (!m)
      throw new AgentsFormatError(`line ${i + 1}: expected "key: value", got ${JSON.stringify(line.slice(0, 60))}`);
    const key = m[1].toLowerCase();
    if (fields.has(key)) throw new AgentsFormatError(`line ${i + 1}: "${key}" given twice`);
    fields.set(key, KNOWN.has(key) ? unquote(m[2] ?? '', i + 1) : (m[2] ?? ''));
  }
  const text = lines
    .slice(end + 1)
    .join('\n')
    .trim();
  if (!text) throw new AgentsFormatError('no text after the frontmatter');

  const str = (k: string): string | null => {
    const v = fields.get(k);
    return v === undefined || v === '' ? null : v;
  };
  let confidence: number | null = null;
  const c = str('confidence');
  if (c !== null) {
    confidence = CONFIDENCE_WORDS[c.toLowerCase()] ?? Number(c);
    if (!Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
      throw new AgentsFormatError(
        `confidence: expected a number from 0 to 1 or high/medium/low, got ${JSON.stringify(c)}`,
      );
    }
  }
  let createdAt: number | null = null;
  const d = str('date');
  if (d !== null) {
    createdAt = Date.parse(d);
    if (!Number.isFinite(createdAt)) throw new AgentsFormatError(`date: not a date: ${JSON.stringify(d)}`);
  }
  let utility: number | null = null;
  const u = str('utility');
  if (u !== null) {
    utility = Number(u);
    if (!Number.isFinite(utility)) throw new AgentsFormatError(`utility: expected a number, got ${JSON.stringify(u)}`);
  }
  const t = str('tombstoned');
  if (t !== null && t !== 'true' && t !== 'false')
    throw new AgentsFormatError(`tombstoned: expected true or false, got ${JSON.stringify(t)}`);
  return {
    text,
    category: str('type') ?? 'general',
    source: str('source'),
    createdAt,
    confidence,
    maturity: str('maturity'),
    utility,
    lane: str('lane'),
    tombstoned: t === 'true',
    tombstoneReason: str('tombstone_reason'),
  };
}

/** A value as a YAML plain scalar when that reads back the same, else double-quoted (JSON is valid YAML). */
function scalar(v: string): string {
  return /^[A-Za-z0-9_./@+-][A-Za-z0-9 _./@+:-]*$/.test(v) &&
    !/\s$/.test(v) &&
    !/:\s|\s#/.test(v) &&
    !['true', 'false', 'null', '~'].includes(v)
    ? v
    : JSON.stringify(v);
}

/** The file content for one learning; parseAgentsLearning reads it back to the same fields. */
export function serializeAgentsLearning(l: AgentsLearning): string {
  const lines = ['---', `type: ${scalar(l.category)}`];
  if (l.source !== null) lines.push(`source: ${scalar(l.source)}`);
  if (l.createdAt !== null) lines.push(`date: ${new Date(l.createdAt).toISOString()}`);
  if (l.confidence !== null) lines.push(`confidence: ${l.confidence}`);
  if (l.maturity !== null) lines.push(`maturity: ${scalar(l.maturity)}`);
  if (l.utility !== null) lines.push(`utility: ${l.utility}`);
  if (l.lane !== null) lines.push(`lane: ${scalar(l.lane)}`);
  if (l.tombstoned) {
    lines.push('tombstoned: true');
    if (l.tombstoneReason !== null) lines.push(`tombstone_reason: ${JSON.stringify(l.tombstoneReason)}`);
  }
  lines.push('---', '', l.text.trim(), '');
  return lines.join('\n');
}

/** A file name for a learning: its id and the first words of its text. */
export function agentsFileName(id: number, text: string): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return `${String(id).padStart(4, '0')}-${slug || 'learning'}.md`;
}
