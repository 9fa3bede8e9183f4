/**
 * Pure text helpers of the learnings flywheel: the normalised form that makes near-duplicates
 * meet, the word sets they are compared by, and the FTS5 query built from a lane's task.
 */

/** Lowercased, punctuation-free, single-spaced text: the same learning written twice shares it. */
export function normalizeLearning(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Words too common to say whether two texts are about the same thing. */
const STOPWORDS = new Set(
  (
    'a an and are as at be but by do does for from has have how i if in into is it its me my no not of on or our ' +
    'please should so than that the their them then there these they this to too us was we were what when where which ' +
    'who why will with you your can could would all any each also just only new make use using via'
  ).split(' '),
);

/** The significant words of a text: normalised, without stopwords and one-letter words. */
export function significantWords(text: string): string[] {
  return normalizeLearning(text)
    .split(' ')
    .filter((w) => w.length > 1 && !STOPWORDS.has(w));
}

/** Jaccard similarity of the significant word sets of two texts, 0..1. */
export function similarity(a: string, b: string): number {
  const sa = new Set(significantWords(a));
  const sb = new Set(significantWords(b));
  if (sa.size === 0 || sb.size === 0) return normalizeLearning(a) === normalizeLearning(b) ? 1 : 0;
  let common = 0;
  for (const w of sa) if (sb.has(w)) common++;
  return common / (sa.size + sb.size - common);
}

/** Two learnings at least this similar are one learning (the later one merges into the earlier). */
export const NEAR_DUPLICATE = 0.8;

/**
 * An FTS5 MATCH expression that finds learnings sharing any significant word with `text`:
 * each word quoted (so no word is read as an operator), joined with OR. Null when there is none.
 */
export function ftsQueryOf(text: string, maxWords = 32): string | null {
  const words = [...new Set(significantWords(text))].slice(0, maxWords);
  if (words.length === 0) return null;
  return words.map((w) => `"${w.replace(/"/g, '""')}"`).join(' OR ');
}
