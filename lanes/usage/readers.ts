/** One usage reader per agent kind (a profile's `usage` field names it). */
import { createClaudeReader } from './claude.js';
import { createCodexReader } from './codex.js';
import { createCopilotReader } from './copilot.js';
import { createGeminiReader } from './gemini.js';
import { createOpencodeReader } from './opencode.js';
import type { UsageKind, UsageReader, UsageScope } from './types.js';

const READERS: Record<UsageKind, (scope: UsageScope) => UsageReader> = {
  claude: createClaudeReader,
  codex: createCodexReader,
  gemini: createGeminiReader,
  opencode: createOpencodeReader,
  copilot: createCopilotReader,
};

export function createUsageReader(kind: UsageKind, scope: UsageScope): UsageReader {
  return READERS[kind](scope);
}
