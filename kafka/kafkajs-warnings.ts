/**
 * kafkajs 2.2.4 arms a timer with a negative delay when its request queue is idle; harmless, but
 * Node 24 prints a TimeoutNegativeWarning each time. This drops that one warning and prints every
 * other warning as Node would.
 */
export function silenceKafkajsTimeoutWarning(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name !== 'TimeoutNegativeWarning') process.stderr.write(`${warning.stack ?? `${warning.name}: ${warning.message}`}\n`);
  });
}
