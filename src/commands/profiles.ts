/**
 * `ao-console profiles` (list) and `ao-console profiles check` (validate built-in and repo
 * profiles, and say which agent CLIs are installed, with their versions).
 */
import type { Command } from 'commander';
import { formatTable } from '../format/table.js';
import { detectAgentClis } from './agentClis.js';
import { EXIT, printJson, println, repoOf } from './common.js';

async function load(cmd: Command) {
  const { root } = await repoOf(cmd);
  const { loadProfiles, formatProfileLoadError } = await import('../../profiles/loader.js');
  const { profiles, errors } = loadProfiles(root);
  const list = [...profiles.values()]
    .map((p) => ({
      name: p.name,
      origin: p.origin,
      command: [p.command, ...p.args].join(' '),
      description: p.description,
      source: p.source,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { list, errors, formatError: formatProfileLoadError };
}

export function registerProfiles(program: Command): void {
  const profiles = program
    .command('profiles')
    .description("list the agent profiles: built-in ones and the repo's own (.ao/profiles/*.json)")
    .option('--json', 'print the profiles as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { list, errors, formatError } = await load(cmd);
      if (opts.json) return printJson(list);
      println(
        formatTable(
          [
            { header: 'PROFILE' },
            { header: 'ORIGIN' },
            { header: 'COMMAND', max: 40 },
            { header: 'DESCRIPTION', max: 60 },
          ],
          list.map((p) => [p.name, p.origin, p.command, p.description]),
          'no profiles',
        ),
      );
      if (errors.length) {
        process.stderr.write(`\n${errors.length} profile problem(s), see \`ao-console profiles check\`:\n`);
        for (const e of errors) process.stderr.write(`  ${formatError(e)}\n`);
      }
    });

  profiles
    .command('check')
    .description(
      'validate every profile file and show which agent CLIs (claude, codex, gemini, aider, opencode) are installed; exit 1 on a profile problem',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { list, errors, formatError } = await load(cmd);
      const clis = await detectAgentClis();
      if (errors.length) process.exitCode = EXIT.failure;
      if (opts.json) return printJson({ ok: errors.length === 0, profiles: list, errors, agentClis: clis });
      println(`${list.length} valid profile(s): ${list.map((p) => `${p.name} (${p.origin})`).join(', ') || 'none'}`);
      if (errors.length) {
        println(`${errors.length} problem(s):`);
        for (const e of errors) println(`  ${formatError(e)}`);
      } else {
        println('no problems');
      }
      println();
      println(
        formatTable(
          [{ header: 'AGENT CLI' }, { header: 'INSTALLED' }, { header: 'VERSION', max: 50 }, { header: 'PATH' }],
          clis.map((c) => [c.name, c.path ? 'yes' : 'no', c.version ?? c.error ?? '', c.path ?? '']),
        ),
      );
    });
}
