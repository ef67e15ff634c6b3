/** `tributary settings`: every command's settings, as text or Markdown, and the README's generated tables. */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { settingsHelp, settingsMarkdown } from '../../core/settings.ts';
import { parseCommandArgs, UsageError } from '../cli-args.ts';
import { renderReadmeSettings } from '../readme-settings.ts';
import { commandSettings } from '../settings-catalog.ts';

const readmePath = fileURLToPath(new URL('../../README.md', import.meta.url));

const help = `Usage: tributary settings [--markdown | --write-readme]

Lists the environment variables each command reads, from the same tables that parse them.

Options:
  --markdown       print each command's table as Markdown
  --write-readme   regenerate the settings tables in README.md (between its generated-section markers)
  -h, --help       this help
`;

export async function settingsCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { markdown: { type: 'boolean', default: false }, 'write-readme': { type: 'boolean', default: false } }, help);
  if (!parsed) return 0;
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected arguments: ${parsed.positionals.join(' ')}\n\n${help}`);
  if (parsed.values['write-readme']) {
    const before = await readFile(readmePath, 'utf8');
    const after = renderReadmeSettings(before);
    if (after !== before) await writeFile(readmePath, after);
    process.stdout.write(`${readmePath}: ${after === before ? 'already up to date' : 'settings tables regenerated'}\n`);
    return 0;
  }
  const sections = Object.entries(commandSettings).map(([command, table]) =>
    parsed.values.markdown ? `### tributary ${command}\n\n${settingsMarkdown(table)}` : `tributary ${command}\n${settingsHelp(table)}`,
  );
  process.stdout.write(sections.join('\n'));
  return 0;
}
