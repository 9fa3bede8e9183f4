/**
 * How each real agent CLI is pointed at the scripted model server (test/model/server.ts) in a
 * fresh HOME, with its first-run dialogs answered in its own config files there (../shared/AGENTS.md,
 * "Per CLI"). Only the test's temp HOME is written: the profiles themselves never write config.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { agentCacheRoot } from '../helpers/agentCache.js';

export type LoopAgent = 'claude' | 'codex' | 'gemini' | 'opencode' | 'copilot';

/** An API key shape each CLI accepts; never a real one. */
export const FAKE_KEY = 'sk-ant-scripted-0123456789abcdefghijklmnopqrstuv';

/** The file (in HOME) the operator's own Copilot CLI agentStop hook touches. */
export const COPILOT_USER_HOOK_MARK = 'copilot-user-hook-ran';

/** The file (in HOME) the operator's own Gemini CLI AfterAgent hook touches. */
export const GEMINI_USER_HOOK_MARK = 'gemini-user-hook-ran';

export interface AgentSetup {
  /** variables for the lane's environment (the profile passes them through) */
  env: Record<string, string>;
  /** the model name the CLI is told to use */
  model: string;
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Writes the agent's config into `home` (trusting `worktree`, answering sign-in and onboarding)
 * and returns the environment that points it at `url`.
 */
export async function prepareAgent(
  agent: LoopAgent,
  opts: { home: string; url: string; worktree: string },
): Promise<AgentSetup> {
  const { home, url, worktree } = opts;
  switch (agent) {
    case 'claude': {
      await writeJson(path.join(home, '.claude.json'), {
        hasCompletedOnboarding: true,
        // Claude Code 2.1.3xx offers to make auto mode the default after the first approval.
        hasSeenAutoDefaultNudge: true,
        customApiKeyResponses: { approved: [FAKE_KEY.slice(-20)], rejected: [] },
        projects: { [worktree]: { hasTrustDialogAccepted: true } },
      });
      // Its default permission mode is now "auto" (it approves edits itself): the operator's
      // settings ask it to prompt, as an operator who wants to review permissions would.
      await writeJson(path.join(home, '.claude', 'settings.json'), { permissions: { defaultMode: 'default' } });
      return {
        model: 'claude-sonnet-4-5',
        env: {
          ANTHROPIC_BASE_URL: url,
          ANTHROPIC_API_KEY: FAKE_KEY,
          ANTHROPIC_MODEL: 'claude-sonnet-4-5',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          DISABLE_AUTOUPDATER: '1',
        },
      };
    }
    case 'codex': {
      const codexHome = path.join(home, '.codex');
      await mkdir(codexHome, { recursive: true, mode: 0o700 });
      const toml = [
        'model = "gpt-5-codex"',
        'model_provider = "scripted"',
        'check_for_update_on_startup = false',
        'approval_policy = "on-request"',
        'sandbox_mode = "workspace-write"',
        '',
        '[model_providers.scripted]',
        'name = "scripted"',
        `base_url = "${url}/v1"`,
        'env_key = "CODEX_SCRIPTED_API_KEY"',
        'wire_api = "responses"',
        '',
        '[analytics]',
        'enabled = false',
        '',
        `[projects."${worktree}"]`,
        'trust_level = "trusted"',
        '',
      ].join('\n');
      await writeFile(path.join(codexHome, 'config.toml'), toml, { mode: 0o600 });
      return { model: 'gpt-5-codex', env: { CODEX_HOME: codexHome, CODEX_SCRIPTED_API_KEY: FAKE_KEY } };
    }
    case 'gemini': {
      await writeJson(path.join(home, '.gemini', 'settings.json'), {
        security: { auth: { selectedType: 'gemini-api-key' }, folderTrust: { enabled: false } },
        ui: { theme: 'Default' },
        general: { disableAutoUpdate: true, enableAutoUpdate: false, enableAutoUpdateNotification: false },
        privacy: { usageStatisticsEnabled: false },
        telemetry: { enabled: false },
        // The operator's own hook: the profile's hooks (a system-defaults file) must run beside it.
        hooks: {
          AfterAgent: [
            { hooks: [{ type: 'command', name: 'operator', command: `touch "$HOME/${GEMINI_USER_HOOK_MARK}"` }] },
          ],
        },
      });
      return {
        model: 'gemini-2.5-flash',
        env: { GOOGLE_GEMINI_BASE_URL: url, GEMINI_API_KEY: FAKE_KEY, GEMINI_MODEL: 'gemini-2.5-flash' },
      };
    }
    case 'opencode': {
      await writeJson(path.join(home, '.config', 'opencode', 'opencode.json'), {
        $schema: 'https://opencode.ai/config.json',
        model: 'scripted/scripted-model',
        small_model: 'scripted/scripted-model',
        autoupdate: false,
        share: 'disabled',
        permission: { edit: 'ask', bash: 'ask' },
        provider: {
          scripted: {
            npm: '@ai-sdk/openai-compatible',
            name: 'scripted',
            options: { baseURL: `${url}/v1`, apiKey: FAKE_KEY },
            models: {
              'scripted-model': {
                name: 'scripted-model',
                tool_call: true,
                cost: { input: 3, output: 15, cache_read: 0.3 },
                limit: { context: 200000, output: 8000 },
              },
            },
          },
        },
      });
      return {
        model: 'scripted-model',
        env: {
          OPENCODE_DISABLE_AUTOUPDATE: '1',
          OPENCODE_DISABLE_MODELS_FETCH: '1',
          OPENCODE_DISABLE_SHARE: '1',
        },
      };
    }
    case 'copilot': {
      await writeJson(path.join(home, '.copilot', 'config.json'), { trustedFolders: [worktree], banner: 'never' });
      await writeJson(path.join(home, '.copilot', 'settings.json'), {
        banner: 'never',
        // The operator's own hook: the profile's (a plugin given with --plugin-dir) must run beside it.
        hooks: { agentStop: [{ type: 'command', bash: `touch "$HOME/${COPILOT_USER_HOOK_MARK}"` }] },
      });
      return {
        // With its own provider and a model outside its catalog, Copilot CLI offers `create` and
        // `edit` (JSON tools) for files, not its freeform `apply_patch`.
        model: 'gpt-5',
        env: {
          COPILOT_PROVIDER_BASE_URL: `${url}/v1`,
          COPILOT_PROVIDER_API_KEY: FAKE_KEY,
          COPILOT_PROVIDER_WIRE_API: 'responses',
          COPILOT_MODEL: 'gpt-5',
          COPILOT_OFFLINE: 'true',
          COPILOT_AUTO_UPDATE: 'false',
          // Its first start in a fresh HOME unpacks ~235 MB into ~/.cache/copilot: once for all
          // tests instead, next to the installed CLIs (the folder names the version).
          COPILOT_PKG_CACHE_HOME: path.join(agentCacheRoot(), 'copilot'),
        },
      };
    }
  }
}
