import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createEnvReader } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { settingsOf, type SettingsTable } from '../core/settings.ts';
import { readEnrichSettings } from './commands/enrich-command.ts';
import { readGatewaySettings } from './commands/gateway-command.ts';
import { renderReadmeSettings } from './readme-settings.ts';
import { commandSettings, createProcessEnvReader, knownSettingNames } from './settings-catalog.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The variables a reader looks up, whatever it does with them. */
function namesRead(read: (env: ReturnType<typeof createEnvReader>) => unknown): Set<string> {
  const seen = new Set<string>();
  const env = new Proxy<Record<string, string | undefined>>({}, {
    get: (_target, name) => {
      if (typeof name === 'string') seen.add(name);
      return undefined;
    },
  });
  const reader = createEnvReader(env);
  read(reader);
  reader.finish();
  return seen;
}

const names = (table: SettingsTable): Set<string> => new Set(settingsOf(table).map((setting) => setting.name));

describe('the settings catalog', () => {
  it('matches the README: run `tributary settings --write-readme` after changing a setting', () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    expect(renderReadmeSettings(readme)).toBe(readme);
  });

  it('lists exactly what the gateway and the enricher read, and their defaults are valid together', () => {
    expect(namesRead(readGatewaySettings)).toEqual(names(commandSettings.gateway));
    expect(namesRead(readEnrichSettings)).toEqual(names(commandSettings.enrich));
  });

  it('knows every TRIBUTARY_* name used anywhere in the repository', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter((file) => /\.(ts|js|md|ya?ml|json|sh)$/.test(file) && !file.endsWith('.test.ts'));
    const unknown = new Set<string>();
    for (const file of files) {
      // A README example of a refused misspelling is followed by this sentence.
      for (const [, name] of readFileSync(`${root}${file}`, 'utf8').matchAll(/(TRIBUTARY_[A-Z0-9_]*[A-Z0-9])(?![A-Z0-9_]| is not a Tributary setting)/g)) {
        if (name !== undefined && !knownSettingNames.has(name)) unknown.add(`${name} (${file})`);
      }
    }
    expect([...unknown]).toEqual([]);
  });

  it('refuses a misspelt variable at start, naming the nearest known one', () => {
    const reader = createProcessEnvReader({ TRIBUTARY_KAFKA_BROKER: '127.0.0.1:9092', TRIBUTARY_TEST_PORT_BASE: '24000', TRIBUTARY_SUPERVISOR_PID: '1' });
    expect(() => reader.finish()).toThrow(ConfigError);
    try {
      reader.finish();
    } catch (error) {
      expect((error as ConfigError).problems).toEqual(['TRIBUTARY_KAFKA_BROKER is not a Tributary setting (did you mean TRIBUTARY_KAFKA_BROKERS?)']);
    }
  });
});
