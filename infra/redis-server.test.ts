import { describe, expect, it } from 'vitest';
import { findRedisServer, parseRedisVersion, redisServerConf } from './redis-server.ts';

describe('redis-server', () => {
  it('reads the version `redis-server --version` prints', () => {
    expect(parseRedisVersion('Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0')).toBe('7.0.15');
    expect(parseRedisVersion('something else')).toBeNull();
  });

  it('says to install Debian\'s redis-server when it is not on PATH', async () => {
    await expect(findRedisServer({ PATH: '/nonexistent-bin' })).rejects.toThrow(/redis-server was not found on PATH.*apt-get install -y redis-server/s);
  });

  it('configures a persistent, non-evicting Redis on the stack host, named by its config path', () => {
    const conf = redisServerConf({ host: '127.0.0.1', port: 19079, dataDir: '/home/a b/stacks/dev/redis', logFile: '/home/a b/stacks/dev/redis.log' }).split('\n');
    expect(conf).toEqual(
      expect.arrayContaining([
        'bind 127.0.0.1',
        'port 19079',
        'daemonize no',
        'dir "/home/a b/stacks/dev/redis"',
        'logfile "/home/a b/stacks/dev/redis.log"',
        'appendonly yes',
        'appendfsync everysec',
        'maxmemory-policy noeviction',
      ]),
    );
    expect(conf.some((line) => line.startsWith('maxmemory '))).toBe(false);
    expect(conf.find((line) => line.startsWith('proc-title-template'))).toContain('{config-file}');
  });
});
