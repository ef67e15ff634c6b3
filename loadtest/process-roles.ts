/**
 * The processes an e2e run measures, by role: which one is the harness, how a restarted process is
 * named, and the order they are listed in. Pure.
 */

/** The benchmark's own process (device fleet, queryable probe, stage sampler, audits): measured beside the pipeline, not part of it. */
export const harnessProcess = 'load-generator';

/** The name a replacement process is measured under. */
export const restartedName = (role: string): string => `${role} (restarted)`;

/** The role a measured process plays: a restarted one counts with the process it replaced. */
export const processRole = (name: string): string => name.replace(/ \(restarted\)$/, '');

const roleRank = (role: string): number => {
  if (role === 'gateway') return 0;
  if (role === 'enricher') return 1;
  if (role === 'kafka' || role.startsWith('kafka-')) return 2;
  if (role === 'questdb') return 3;
  return role === harnessProcess ? 5 : 4;
};

/** Roles in the order messages pass them (anything unknown after QuestDB), the harness last. */
export function orderProcesses(roles: Iterable<string>): string[] {
  return [...new Set(roles)].sort((a, b) => roleRank(a) - roleRank(b) || a.localeCompare(b, 'en', { numeric: true }));
}
