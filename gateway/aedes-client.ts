/**
 * What Aedes does per packet that the gateway must do too for the publishes it answers itself
 * (ADR 0025). Both reach into an Aedes 1.x client: tests in gateway/fast-lane.test.ts run them
 * against a real broker, so an Aedes upgrade that renames these fields fails there first.
 */
import type { Client } from 'aedes';

interface ClientInternals {
  /** Milliseconds Aedes waits for the next packet before closing; ≤ 0 when the CONNECT asked for no keepalive. */
  _keepaliveInterval: number;
  _keepaliveTimer: NodeJS.Timeout | null;
  emit(event: 'error', error: Error): boolean;
}

/** A packet arrived: the keepalive deadline moves, as Aedes' `handle` does for every packet it reads. */
export function refreshKeepalive(client: Client): void {
  const internals = client as unknown as ClientInternals;
  if (internals._keepaliveInterval > 0) internals._keepaliveTimer?.refresh();
}

/**
 * The publish cannot be acknowledged: Aedes closes the connection as when an authorizePublish
 * callback gets an error (the device resends after reconnecting; its will is published).
 */
export function failClient(client: Client, error: Error): void {
  (client as unknown as ClientInternals).emit('error', error);
}
