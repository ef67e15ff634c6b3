import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findJava } from './java-tools.ts';
import { isGroupAlive } from './managed-process.ts';
import { questdbMinimumJava, startStack, stopOwnStack, type StackOptions, type StackState } from './stack.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('startStack refuses clearly', () => {
  it('names the taken port before starting anything', async () => {
    // Take any free port and lay the stack out so that its Kafka broker port is that one.
    const blocker = createServer();
    servers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const takenPort = (blocker.address() as AddressInfo).port;
    const home = await mkdtemp(join(tmpdir(), 'tributary-stack-test-'));
    const options: StackOptions = {
      name: 'port-taken',
      home,
      portBase: takenPort - 92,
      brokers: 1,
      questdb: true,
      redis: false,
      fresh: true,
      readyTimeoutMs: 1000,
      kafkaHeapMb: 128,
      questdbHeapMb: 128,
      env: {},
      log: () => undefined,
    };
    try {
      await expect(startStack(options)).rejects.toThrow(`127.0.0.1:${takenPort} (kafka 1 broker)`);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('startStack without redis-server', () => {
  it('says to install it before fetching or starting anything', async () => {
    // A port the OS just handed out; the tool check comes before the ports are checked, so it does
    // not matter if one of the stack's ports is taken meanwhile (a CI run once found one in use).
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const freePort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const home = await mkdtemp(join(tmpdir(), 'tributary-stack-test-'));
    try {
      await expect(
        startStack({
          name: 'no-redis',
          home,
          portBase: freePort - 79,
          brokers: 1,
          questdb: false,
          redis: true,
          fresh: true,
          readyTimeoutMs: 1000,
          kafkaHeapMb: 128,
          questdbHeapMb: 128,
          env: { PATH: '/nonexistent-bin' },
          log: () => undefined,
        }),
      ).rejects.toThrow(/redis-server was not found on PATH.*apt-get install -y redis-server/s);
      expect(existsSync(join(home, 'artifacts'))).toBe(false);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('Java requirements', () => {
  it('says which JDK is missing or too old', async () => {
    await expect(findJava({ TRIBUTARY_JAVA_HOME: '/nonexistent-jdk' }, 17, 'Apache Kafka')).rejects.toThrow(/Java was not found.*Apache Kafka needs a JDK 17.*apt-get install/s);
    await expect(findJava({}, 99, 'QuestDB 99')).rejects.toThrow(/QuestDB 99 needs Java 99\+, but java is Java \d+/);
  });

  it('knows QuestDB 9.4 and later need Java 25', () => {
    expect(questdbMinimumJava('9.3.4')).toBe(17);
    expect(questdbMinimumJava('9.4.0')).toBe(25);
    expect(questdbMinimumJava('10.0.1')).toBe(25);
  });
});

describe('stopOwnStack', () => {
  // A stand-in server: its own process group, recorded in a state.json as the stack's Kafka node.
  const withRecordedServer = async (ownerPid: number, check: (dir: string, pgid: number) => Promise<void>): Promise<void> => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-own-stack-'));
    const server = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    const pgid = server.pid!;
    const state: StackState = {
      name: 'own',
      dir,
      startedAt: new Date().toISOString(),
      ownerPid,
      kafka: { version: 'test', java: 'test', bootstrap: [], nodes: [{ nodeId: 1, brokerPort: 1, controllerPort: 2, pgid, logFile: join(dir, 'kafka.log'), gcLogFile: join(dir, 'gc.log'), command: 'sleep', args: ['60'] }] },
      questdb: null,
      redis: null,
      ports: [],
    };
    await writeFile(join(dir, 'state.json'), JSON.stringify(state));
    try {
      await check(dir, pgid);
    } finally {
      if (isGroupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  };

  it("leaves another process's stack running", async () => {
    await withRecordedServer(process.pid + 1, async (dir, pgid) => {
      await stopOwnStack(dir, process.pid, () => undefined);
      expect(isGroupAlive(pgid)).toBe(true);
    });
  });

  it('stops the stack this process started', async () => {
    await withRecordedServer(process.pid, async (dir, pgid) => {
      await stopOwnStack(dir, process.pid, () => undefined);
      expect(isGroupAlive(pgid)).toBe(false);
    });
  });
});
