/** Delays the traffic through the run's delay relay (delay-relay.ts) while in effect. */
import type { Fault } from './fault.ts';

export function createRelayDelay(options: { kind: string; ms: number; jitterMs: number }): Fault {
  const { kind, ms, jitterMs } = options;
  return {
    kind,
    describe: () => `delay every chunk through the relay ${ms} ± ${jitterMs} ms each way`,
    inject: (environment) => {
      if (environment.relay === null) return Promise.reject(new Error(`${kind}: the run has no delay relay`));
      environment.relay.setDelay({ ms, jitterMs });
      environment.progress(`${kind}: delaying ${ms} ± ${jitterMs} ms`);
      return Promise.resolve();
    },
    heal: (environment) => {
      environment.relay?.setDelay({ ms: 0, jitterMs: 0 });
      environment.progress(`${kind}: no delay`);
      return Promise.resolve();
    },
  };
}
