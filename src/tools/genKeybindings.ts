/**
 * Renders docs/keybindings.md from the keymap table. `npm run docs:keys` writes it (to the path
 * given as the first argument, else docs/keybindings.md under the current directory); a test
 * fails when the committed file differs from what this renders.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bindingsIn, footerLabel, SCOPE_TITLES, SCOPES } from '../keymap/index.js';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function keyCell(keys: readonly string[]): string {
  return keys.map((k) => `\`${k.replace(/`/g, '')}\``).join(' / ');
}

export function renderKeybindingsMarkdown(): string {
  const out: string[] = [
    '# Key bindings',
    '',
    '<!-- Generated from src/keymap/ by `npm run docs:keys`. Do not edit by hand. -->',
    '',
    'One table in `src/keymap/` drives the key dispatch, the footer (the keys that act now), the',
    '`?` help overlay (every key; a disabled key says why) and this page. In the forms, printable',
    'keys type into the field that has focus; the keys below act on top of that.',
    '',
  ];
  for (const scope of SCOPES) {
    out.push(`## ${SCOPE_TITLES[scope]}`, '', '| keys | id | what it does | footer |', '| --- | --- | --- | --- |');
    for (const b of bindingsIn(scope)) {
      out.push(
        `| ${keyCell(b.keys)} | \`${b.id}\` | ${cell(b.description)} | ${b.footer === false ? '' : cell(footerLabel(b))} |`,
      );
    }
    out.push('');
  }
  out.push("In attach mode every key goes to the lane's agent, except `ctrl-]`, which detaches.", '');
  return out.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const target = resolve(process.argv[2] ?? 'docs/keybindings.md');
  writeFileSync(target, renderKeybindingsMarkdown());
  console.log(`wrote ${target}`);
}
