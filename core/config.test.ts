import { describe, expect, it } from 'vitest';
import { createEnvReader } from './config.ts';
import { ConfigError } from './errors.ts';

describe('createEnvReader', () => {
  it('returns typed values and defaults', () => {
    const env = createEnvReader({ A: ' 42 ', B: 'yes', C: 'x:1,, y:2 ', D: 'kafka:9092', E: '' });
    expect(env.int('A', 1)).toBe(42);
    expect(env.bool('B', false)).toBe(true);
    expect(env.hostPortList('C', [])).toEqual(['x:1', 'y:2']);
    expect(env.hostPortList('D', ['h:1'])).toEqual(['kafka:9092']);
    expect(env.string('E', 'fallback')).toBe('fallback');
    expect(env.oneOf('MISSING', ['a', 'b'], 'b')).toBe('b');
    expect(() => env.finish()).not.toThrow();
  });

  it('lists every bad variable at once', () => {
    const env = createEnvReader({ PORT: '70000', FLAG: 'maybe', MODE: 'z', ADDR: 'nohost', COUNT: '1.5' });
    env.int('PORT', 1, { min: 1, max: 65535 });
    env.bool('FLAG', false);
    env.oneOf('MODE', ['a', 'b'], 'a');
    env.hostPortList('ADDR', ['h:1']);
    env.int('COUNT', 1);
    let error: unknown;
    try {
      env.finish();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/PORT=.*FLAG=.*MODE=.*ADDR=.*COUNT=/s);
  });

  it('reads host:port lists and refuses anything else', () => {
    const env = createEnvReader({ OK: 'a:1, [::1]:9092,b.example:65535', EMPTY: ' , ', NOPORT: 'a:1,b', BADPORT: 'a:0', URL: 'http://a:1' });
    expect(env.hostPortList('OK', [])).toEqual(['a:1', '[::1]:9092', 'b.example:65535']);
    expect(env.hostPortList('UNSET', ['h:1'])).toEqual(['h:1']);
    for (const name of ['EMPTY', 'NOPORT', 'BADPORT', 'URL']) expect(env.hostPortList(name, ['h:1'])).toEqual(['h:1']);
    expect(() => env.finish()).toThrow(/EMPTY=.*\n.*NOPORT=.*not host:port: b\)\n.*BADPORT=.*\n.*URL=/);
  });
});
