/**
 * A network namespace joined to the root namespace by a veth pair, for network faults between a
 * pipeline process and the local stack's servers: the stack listens on the pair's root-side address
 * (root-namespace clients reach it too, as a local address), the process under test runs inside the
 * namespace, and a fault acts on the pair alone, never on loopback or on another stack.
 * Needs root and iproute2 (`ip`, `tc`). Names and addresses are new for every stack start; the stack
 * records the network in its state and removes it when it stops, or at its next start after a crash.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface FaultNetwork {
  /** `ip netns` name; a process runs inside with `ip netns exec <namespace> ...`. */
  namespace: string;
  rootDevice: string;
  namespaceDevice: string;
  /** Root side of the pair: where the stack's servers listen. */
  rootAddress: string;
  /** Namespace side: where a process inside listens for the load generator. */
  namespaceAddress: string;
}

/** Runs `ip` or `tc` (with `input` on stdin, e.g. for `-batch -`), with the command line in the error when it fails. */
export async function runIproute(command: 'ip' | 'tc', args: readonly string[], input?: string): Promise<void> {
  try {
    const running = run(command, args);
    // A command that exits before reading its stdin must not crash us with EPIPE: its exit status tells.
    running.child.stdin?.on('error', () => undefined);
    running.child.stdin?.end(input ?? '');
    await running;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr || String(error)}`, { cause: error });
  }
}

/** Whether this process may create fault networks: root, with iproute2's `ip netns`. */
export async function faultNetworksSupported(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  return runIproute('ip', ['netns', 'list']).then(
    () => true,
    () => false,
  );
}

async function addressesInUse(): Promise<string> {
  const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show']);
  return stdout;
}

/** Creates the namespace, the pair and its addresses (a free /30 in 10.231.0.0/16); undoes it all on failure. */
export async function createFaultNetwork(): Promise<FaultNetwork> {
  const id = randomBytes(4).toString('hex');
  const used = await addressesInUse();
  const pickSubnet = (): number => randomBytes(2).readUInt16BE() & 0xfffc;
  let subnet = pickSubnet();
  while (subnet === 0 || used.includes(` 10.231.${subnet >> 8}.${(subnet & 0xff) + 1}/`)) subnet = pickSubnet();
  const network: FaultNetwork = {
    namespace: `tributary-nf-${id}`,
    // Interface names have at most 15 characters.
    rootDevice: `trnf${id}r`,
    namespaceDevice: `trnf${id}n`,
    rootAddress: `10.231.${subnet >> 8}.${(subnet & 0xff) + 1}`,
    namespaceAddress: `10.231.${subnet >> 8}.${(subnet & 0xff) + 2}`,
  };
  const inside = (...args: string[]): Promise<void> => runIproute('ip', ['-n', network.namespace, ...args]);
  try {
    await runIproute('ip', ['netns', 'add', network.namespace]);
    await runIproute('ip', ['link', 'add', network.rootDevice, 'type', 'veth', 'peer', 'name', network.namespaceDevice, 'netns', network.namespace]);
    await runIproute('ip', ['addr', 'add', `${network.rootAddress}/30`, 'dev', network.rootDevice]);
    await runIproute('ip', ['link', 'set', network.rootDevice, 'up']);
    await inside('addr', 'add', `${network.namespaceAddress}/30`, 'dev', network.namespaceDevice);
    await inside('link', 'set', network.namespaceDevice, 'up');
    await inside('link', 'set', 'lo', 'up');
    return network;
  } catch (error) {
    await removeFaultNetwork(network);
    throw error;
  }
}

/** Removes the pair and the namespace; what is already gone is not an error. */
export async function removeFaultNetwork(network: FaultNetwork): Promise<void> {
  // Deleting one end deletes the pair (and the qdiscs on it), even while a process holds the namespace.
  await run('ip', ['link', 'del', network.rootDevice]).catch(() => undefined);
  await run('ip', ['netns', 'del', network.namespace]).catch(() => undefined);
}
