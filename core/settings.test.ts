import { describe, expect, it } from 'vitest';
import { createEnvReader } from './config.ts';
import { ConfigError } from './errors.ts';
import { boolSetting, hostPortListSetting, intSetting, oneOfSetting, optionalStringSetting, readSettings, settingsHelp, settingsMarkdown, stringSetting, unknownSettingProblems } from './settings.ts';

const table = {
  brokers: hostPortListSetting({ name: 'T_BROKERS', default: ['127.0.0.1:9092'], help: 'brokers' }),
  port: intSetting({ name: 'T_PORT', default: 80, min: 1, max: 65535, help: 'a port' }),
  mode: oneOfSetting({ name: 'T_MODE', values: ['a', 'b|c'], default: 'a', help: 'a mode' }),
  flag: boolSetting({ name: 'T_FLAG', default: false, help: 'a flag' }),
  label: stringSetting({ name: 'T_LABEL', default: '', help: 'a label' }),
  id: optionalStringSetting({ name: 'T_ID', defaultText: '<hostname>', help: 'an id' }),
};

describe('settings tables', () => {
  it('read typed values and defaults', () => {
    const env = createEnvReader({ T_BROKERS: 'k1:9092, k2:9092', T_PORT: '8080', T_FLAG: 'yes' });
    expect(readSettings(env, table)).toEqual({ brokers: ['k1:9092', 'k2:9092'], port: 8080, mode: 'a', flag: true, label: '', id: undefined });
    expect(() => env.finish()).not.toThrow();
  });

  it('collect every bad value before reporting', () => {
    const env = createEnvReader({ T_BROKERS: 'k1', T_PORT: '0', T_MODE: 'z' });
    readSettings(env, table);
    readSettings(env, table);
    const problems = (() => {
      try {
        env.finish();
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    })();
    // Read twice (as two components of one process would), reported once each.
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/T_BROKERS.*host:port.*\n.*T_PORT.*\n.*T_MODE/);
  });

  it('render help lines and a Markdown table from the same entries', () => {
    const help = settingsHelp(table, { again: table.port });
    expect(help).toContain('  T_PORT     a port (1–65535) [80]');
    expect(help).toContain("  T_LABEL    a label ['']");
    expect(help.match(/T_PORT/g)).toHaveLength(1);
    const markdown = settingsMarkdown(table);
    expect(markdown).toContain('| `T_MODE` | one of | `a` | a, b\\|c | a mode |');
    expect(markdown).toContain('| `T_ID` | string | `<hostname>` |  | an id |');
  });

  it('refuse unknown prefixed variables, naming the nearest known one', () => {
    const known = new Set(['TRIBUTARY_KAFKA_BROKERS', 'TRIBUTARY_KAFKA_PARTITIONS']);
    expect(unknownSettingProblems({ TRIBUTARY_KAFKA_BROKER: 'x', TRIBUTARY_KAFKA_BROKERS: 'y', PATH: '/bin' }, known)).toEqual([
      'TRIBUTARY_KAFKA_BROKER is not a Tributary setting (did you mean TRIBUTARY_KAFKA_BROKERS?)',
    ]);
    expect(unknownSettingProblems({ TRIBUTARY_KAFKA_PARTITONS: '3' }, known)[0]).toContain('did you mean TRIBUTARY_KAFKA_PARTITIONS?');
  });
});
