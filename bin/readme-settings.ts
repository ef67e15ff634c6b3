/**
 * The README's settings tables are generated from the settings tables: each sits between
 * `<!-- generated:settings:<section> -->` and `<!-- /generated:settings:<section> -->`.
 * `tributary settings --write-readme` rewrites them; a unit test fails when they are stale.
 */
import { settingsMarkdown } from '../core/settings.ts';
import { readmeSettingsSections } from './settings-catalog.ts';

/** `readme` with every generated settings section rendered afresh; throws if a section's markers are missing. */
export function renderReadmeSettings(readme: string): string {
  let text = readme;
  for (const [section, tables] of Object.entries(readmeSettingsSections)) {
    const open = `<!-- generated:settings:${section} (tributary settings --write-readme) -->\n`;
    const close = `<!-- /generated:settings:${section} -->`;
    const start = text.indexOf(open);
    const end = text.indexOf(close, start);
    if (start === -1 || end === -1) throw new Error(`README.md has no generated section "${section}": add the lines\n${open}${close}`);
    text = `${text.slice(0, start + open.length)}${settingsMarkdown(...tables)}${text.slice(end)}`;
  }
  return text;
}
