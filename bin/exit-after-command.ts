/**
 * The process's end once its command is over. A service has drained and logged "stopped" (or a job
 * has reported) by then; a handle that a client library failed to close must not keep the process
 * running. Seen once: the gateway, the enricher and the API of `tributary start` had stopped, but
 * with their stack dying under them during the shutdown, reconnect timers kept them alive for more
 * than a minute. The timer is unref'd: a process whose event loop empties exits at once, as before.
 */
export const commandLingerMs = 2000;

export function exitAfterCommand(lingerMs = commandLingerMs): void {
  setTimeout(() => process.exit(), lingerMs).unref();
}
