/**
 * `tributary replay`: an operator command that re-reads partition ranges of the telemetry topic
 * into QuestDB, safely while the live enrichers run (enrich/replay.ts says why it is safe).
 */
import { createDeviceRegistry } from '../../core/device-registry.ts';
import type { KafkaAdminPort } from '../../core/kafka-port.ts';
import { describeError } from '../../core/errors.ts';
import { runJob } from '../../core/lifecycle.ts';
import { createLogger } from '../../core/logger.ts';
import { readSettings, settingsHelp } from '../../core/settings.ts';
import { topicSettingsOf } from '../../core/shared-settings.ts';
import { readEnrichConfig } from '../../enrich/enrich-config.ts';
import { createQuestdbWriter } from '../../enrich/questdb-writer.ts';
import { parseOffsetBound, type OffsetBound } from '../../core/offset-bound.ts';
import type { ReplayPlan } from '../../enrich/replay-plan.ts';
import { resolveReplayRanges } from '../../enrich/replay-ranges.ts';
import { createReplay, replayReport, unreadPartition, type ReplayReport } from '../../enrich/replay.ts';
import { createKafkaClientFactory } from '../../kafka/kafka-client-factory.ts';
import { intFlag, parseCommandArgs, UsageError } from '../cli-args.ts';
import { commandSettings, createProcessEnvReader, toolLogLevel } from '../settings-catalog.ts';
import { submitReplay } from './replay-submit.ts';

const help = `Usage: tributary replay --partition <p>[,<p>...|all] [--from <bound>] [--to <bound>] [options]

Re-reads a range of the telemetry topic and writes its readings to QuestDB again, through the
same decode and enrichment as the live enrichers. Safe while live traffic flows: the live
consumer group's offsets are not touched, and a replayed reading overwrites its stored row
(DEDUP keys) instead of adding one. Readings are enriched with the registry as it is now, so a
replay after fixing a device's site or calibration corrects its stored rows. Dead letters and
alerts are not published again; refused records are counted by reason.

Bounds (--from is inclusive, --to exclusive; default earliest → latest):
  earliest | latest          the first retained offset | the log end when the replay starts
  1200                       an offset (the same offset on every partition given)
  2026-11-22T08:00:00Z       the first record at or after this time (Kafka record timestamp)
  now-15m, now-2h, now-1d    a time relative to now (s, m, h, d)

Options:
  --partition <p>    partition(s) to replay: 3, 0,4,7 or all (repeatable)
  --from <bound>     where to start [earliest]
  --to <bound>       where to stop [latest]
  --max-rate <n>     read at most n records/s, to leave QuestDB room for live traffic [no cap]
  --dry-run          print the resolved offset ranges and stop
  --submit           hand the replay to the API's job runners as a job (it survives this
                     command and any one runner; follow it with GET /v1/jobs/<id>); prints its id
  --wait             with --submit: follow the job to its end (exit 0 only if it succeeded)
  --idempotency-key <k>  with --submit: a retried submission with the same key names the same job
  --json             print the plan or the final report as JSON on stdout
  -h, --help         this help

Exit status: 0 when every range was replayed; 1 when stopped or failed (the report gives the
offset each partition reached: rerun with that --from to resume; replaying again is harmless).

The enricher's settings, with its QuestDB writer and retry; LOG_LEVEL defaults to warn.
${settingsHelp(commandSettings.replay)}`;

export async function replayCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      partition: { type: 'string', multiple: true, default: [] },
      from: { type: 'string', default: 'earliest' },
      to: { type: 'string', default: 'latest' },
      'max-rate': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      submit: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      'idempotency-key': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    help,
  );
  if (!parsed) return 0;
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected arguments: ${parsed.positionals.join(' ')}`);
  const { values } = parsed;
  const from = usable(parseOffsetBound(values.from, Date.now()), '--from');
  const to = usable(parseOffsetBound(values.to, Date.now()), '--to');
  const maxRecordsPerSec = intFlag(values['max-rate'], 'max-rate', 0);

  const env = createProcessEnvReader();
  const config = readEnrichConfig(env);
  const { logLevel, jobs, jobState, jobEvents } = readSettings(env, { logLevel: toolLogLevel, ...topicSettingsOf('jobs', 'jobState', 'jobEvents') });
  if ((values.wait || values['idempotency-key'] !== undefined) && !values.submit) throw new UsageError('--wait and --idempotency-key go with --submit');
  env.finish();
  const brokers = config.kafkaBrokers;
  const logger = createLogger({ level: logLevel, name: 'tributary-replay', to: 'stderr' });
  const kafka = createKafkaClientFactory({ brokers, logger });
  const clientId = `tributary-replay-${process.pid}`;
  const topic = config.topics.telemetry;

  const admin = kafka.admin({ clientId });
  let plan: ReplayPlan;
  try {
    plan = await resolvePlan(admin, topic, values.partition, from, to);
  } finally {
    await admin.close();
  }
  const total = plan.ranges.reduce((sum, range) => sum + Number(BigInt(range.toOffset) - BigInt(range.fromOffset)), 0);
  for (const note of plan.notes) process.stderr.write(`replay: ${note}\n`);
  if (values['dry-run']) {
    if (values.json) process.stdout.write(`${JSON.stringify({ topic, ...plan, records: total }, null, 2)}\n`);
    else process.stdout.write(describePlan(topic, plan, total));
    return 0;
  }
  if (values.submit) {
    const partitions = values.partition.some((value) => value.split(',').includes('all')) ? 'all' : plan.ranges.map((range) => range.partition);
    return runJob(
      (signal) =>
        submitReplay({
          kafka,
          clientId,
          topics: { jobs, jobState, jobEvents },
          layout: { partitions: config.telemetryPartitions, replicationFactor: config.replicationFactor },
          partitions,
          from,
          to,
          maxRatePerSec: maxRecordsPerSec,
          ...(values['idempotency-key'] !== undefined && { idempotencyKey: values['idempotency-key'] }),
          wait: values.wait,
          json: values.json,
          signal,
          logger,
        }),
      { logger, shutdownDeadlineMs: 30_000 },
    );
  }
  process.stderr.write(describePlan(topic, plan, total));
  if (total === 0) {
    if (values.json) process.stdout.write(`${JSON.stringify(replayReport(plan.ranges.map(unreadPartition), { refused: {}, refusedSamples: [], durationMs: 0, error: null }), null, 2)}\n`);
    return 0;
  }

  const registry = createDeviceRegistry({ follower: kafka.follower({ clientId, topic: config.topics.devices }), logger });
  const writer = createQuestdbWriter({ config: config.questdb, retry: config.retry, logger });
  const replay = createReplay({
    ranges: plan.ranges,
    reader: kafka.rangeReader({ clientId, topic, ranges: plan.ranges, partitionsConcurrently: Math.min(plan.ranges.length, config.partitionsConcurrently) }),
    writer,
    deviceOf: (deviceId) => registry.get(deviceId) ?? null,
    unknownDevicePolicy: config.unknownDevicePolicy,
    maxRowsPerWrite: config.questdb.maxRowsPerWrite,
    retry: config.retry,
    maxRecordsPerSec,
    logger,
  });
  return runJob(
    async (signal) => {
      let replaying = false;
      const onStop = (): void => {
        process.stderr.write(`replay: ${describeError(signal.reason)}: stopping after the write in progress\n`);
        void replay.stop();
        // Still waiting for QuestDB to answer the table set-up: end that wait too.
        if (!replaying) void writer.stop();
      };
      signal.addEventListener('abort', onStop, { once: true });
      const progress = setInterval(() => process.stderr.write(describeProgress(replay.progress(), total)), 2000);
      let report: ReplayReport;
      try {
        // The registry is read to its end first: enrichment must see every device.
        await registry.start();
        if (!signal.aborted) await writer.start();
        replaying = !signal.aborted;
        report = replaying ? await replay.run() : replay.progress();
      } catch (error) {
        // Interrupted while setting up: nothing was written; the report says so.
        if (!signal.aborted) throw error;
        report = replay.progress();
      } finally {
        clearInterval(progress);
        signal.removeEventListener('abort', onStop);
        await writer.stop();
        await registry.stop();
      }
      if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      process.stderr.write(describeOutcome(report, total));
      return report.complete ? 0 : 1;
    },
    // Enough to finish the write in progress (one QuestDB request) and close the clients.
    { logger, shutdownDeadlineMs: 30_000 },
  );
}

function usable(result: ReturnType<typeof parseOffsetBound>, flag: string): OffsetBound {
  if (!result.ok) throw new UsageError(`${flag} ${result.detail ?? result.reason}`);
  return result.value;
}

async function resolvePlan(admin: KafkaAdminPort, topic: string, partitionArgs: readonly string[], from: OffsetBound, to: OffsetBound): Promise<ReplayPlan> {
  const plan = await resolveReplayRanges(admin, topic, partitionArgs, from, to);
  if (!plan.ok) throw new UsageError(plan.detail ?? plan.reason);
  return plan.value;
}

function describePlan(topic: string, plan: ReplayPlan, total: number): string {
  const lines = plan.ranges.map((range) => `  partition ${range.partition}: offsets [${range.fromOffset}, ${range.toOffset}) = ${BigInt(range.toOffset) - BigInt(range.fromOffset)} records`);
  return `replay of ${topic}: ${total} records\n${lines.join('\n')}\n`;
}

function describeProgress(report: ReplayReport, total: number): string {
  const share = total > 0 ? ((100 * report.records) / total).toFixed(1) : '100.0';
  const refused = Object.values(report.refused).reduce((sum, count) => sum + count, 0);
  return `replay: ${report.records} of ${total} records (${share} %), ${report.rows} rows written, ${refused} refused, ${report.recordsPerSec} records/s\n`;
}

function describeOutcome(report: ReplayReport, total: number): string {
  const refused = Object.entries(report.refused).map(([reason, count]) => `${reason} ${count}`);
  const missing = report.missing > 0 ? `; ${report.missing} offsets held no record (deleted by retention while the replay ran?)` : '';
  const summary = `${describeProgress(report, total).trimEnd()} in ${(report.durationMs / 1000).toFixed(1)} s${refused.length > 0 ? `; refused: ${refused.join(', ')}` : ''}${missing}\n`;
  if (report.complete) return `${summary}replay complete\n`;
  const resume = report.partitions
    .filter((partition) => partition.nextOffset !== partition.toOffset)
    .map((partition) => `  partition ${partition.partition}: --from ${partition.nextOffset} --to ${partition.toOffset}`)
    .join('\n');
  return `${summary}replay ${report.error === null ? 'stopped' : `failed: ${report.error}`}; to resume:\n${resume}\n`;
}
