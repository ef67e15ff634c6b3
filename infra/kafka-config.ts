/** server.properties for KRaft nodes that are broker and controller at once, on loopback. */

export interface KafkaNodePorts {
  nodeId: number;
  brokerPort: number;
  controllerPort: number;
}

export function kafkaNodeProperties(options: {
  host: string;
  node: KafkaNodePorts;
  voters: readonly KafkaNodePorts[];
  dataDir: string;
  defaultPartitions: number;
  /** A second listener for a relayed client: it advertises the relay's port, so the client's later connections go through the relay too. */
  relayed?: { port: number; advertisedPort: number };
}): string {
  const { host, node, voters, dataDir, relayed } = options;
  const replication = voters.length >= 3 ? 3 : 1;
  const minIsr = voters.length >= 3 ? 2 : 1;
  const lines = [
    'process.roles=broker,controller',
    `node.id=${node.nodeId}`,
    // A static quorum needs no --standalone when formatting and behaves the same for 1 or 3 voters.
    `controller.quorum.voters=${voters.map((v) => `${v.nodeId}@${host}:${v.controllerPort}`).join(',')}`,
    `listeners=PLAINTEXT://${host}:${node.brokerPort},CONTROLLER://${host}:${node.controllerPort}${relayed ? `,RELAYED://${host}:${relayed.port}` : ''}`,
    `advertised.listeners=PLAINTEXT://${host}:${node.brokerPort}${relayed ? `,RELAYED://${host}:${relayed.advertisedPort}` : ''}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${relayed ? ',RELAYED:PLAINTEXT' : ''}`,
    `log.dirs=${dataDir}`,
    `num.partitions=${options.defaultPartitions}`,
    `default.replication.factor=${replication}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${replication}`,
    // 50 partitions by default: fewer makes the first consumer-group join much faster on 2 cores.
    'offsets.topic.num.partitions=8',
    `transaction.state.log.replication.factor=${replication}`,
    `transaction.state.log.min.isr=${minIsr}`,
    'transaction.state.log.num.partitions=8',
    `share.coordinator.state.topic.replication.factor=${replication}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    'unclean.leader.election.enable=false',
    'group.initial.rebalance.delay.ms=0',
    // Tributary creates its topics explicitly, with chosen partitions and replication.
    'auto.create.topics.enable=false',
    'num.network.threads=2',
    'num.io.threads=2',
    'num.recovery.threads.per.data.dir=1',
    // Notice a SIGKILLed node in ~4 s instead of 9 s (fault tests).
    'broker.session.timeout.ms=4000',
    'broker.heartbeat.interval.ms=1000',
    // The active controller appends a no-op record to the metadata log this often (stock 500 ms):
    // each append is a write, an fsync, two index msyncs and a scan of the segment's batch headers.
    'metadata.max.idle.interval.ms=5000',
  ];
  return lines.join('\n') + '\n';
}

/**
 * The JVM options both local servers (Kafka and QuestDB) start with. Parallel, not G1: on this
 * 2-core box G1 ran a concurrent marking cycle after nearly every young collection and spent more
 * CPU than Kafka's request handling (ADR 0019). No hsperfdata: the JVM's periodic thread otherwise
 * wakes every 50 ms (docs/benchmarks/idle.md). Every collection is logged, one line each with its
 * pause, to `gcLogFile` (two files of 10 MB at most), so a stall seen by the pipeline can be
 * matched with a pause of a server.
 */
export function serverJvmOptions(options: { heapMb: number; gcLogFile: string }): string[] {
  return [
    `-Xms${Math.min(128, options.heapMb)}m`,
    `-Xmx${options.heapMb}m`,
    '-XX:+UseParallelGC',
    '-XX:-UsePerfData',
    '-XX:+ExitOnOutOfMemoryError',
    `-Xlog:gc:file=${options.gcLogFile}:time,uptime,tags:filecount=2,filesize=10m`,
  ];
}

export const kafkaLog4j2Properties = `status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
`;

/**
 * How the local QuestDB is tuned: `small-box` for a machine it shares with Kafka and the pipeline
 * (the default), `stock` for QuestDB 9.3.4's own defaults (A/B runs). docs/questdb-tuning.md has
 * the measurements behind each key and what to use on a larger, dedicated machine.
 */
export type QuestdbTuning = 'small-box' | 'stock';
export const questdbTunings: readonly QuestdbTuning[] = ['small-box', 'stock'];

const smallBoxQuestdbConf = [
  // One query and one WAL-apply thread: the box has 2 cores and Tributary writes two tables.
  'shared.query.worker.count=1',
  'wal.apply.worker.count=1',
  // Tributary uses no materialized views or views; 0 disables their threads in 9.3.4. Nor does it
  // COPY to Parquet: 0 drops the export pool (0.35 % of a core at rest); /exp still answers, CSV and Parquet.
  'mat.view.refresh.worker.count=0',
  'view.compiler.worker.count=0',
  'export.worker.count=0',
  // Each idle worker thread costs ~0.2-0.3 % of a core in wake-ups: one write thread, not two (no
  // loss under load, measured), and the health/metrics server rests 250 ms between polls (stock 50).
  'shared.write.worker.count=1',
  'http.min.worker.sleep.timeout=250',
  // After work, a worker polls ~100 times (not 7,000) before it naps, then sleeps 20 ms per poll:
  // at tens of requests a second the stock thresholds keep every pool spinning.
  'shared.worker.nap.threshold=100',
  'shared.worker.sleep.threshold=120',
  'shared.worker.sleep.timeout=20',
  // WAL apply wakes every 50 ms, so transactions that arrived meanwhile are merged in one O3 pass;
  // with the enricher's 50 ms fetch wait it sets the publish→queryable floor (docs/questdb-tuning.md).
  'wal.apply.worker.yield.threshold=10',
  'wal.apply.worker.nap.threshold=20',
  'wal.apply.worker.sleep.threshold=20',
  'wal.apply.worker.sleep.timeout=50',
  // Split a young partition on an out-of-order commit instead of rewriting it (stock: below 50 MB).
  'cairo.o3.partition.split.min.size=1M',
];

export function questdbServerConf(options: { host: string; httpPort: number; httpMinPort: number; pgPort: number; ilpTcpPort: number; tuning: QuestdbTuning }): string {
  const { host } = options;
  return [
    `http.net.bind.to=${host}:${options.httpPort}`,
    `http.min.net.bind.to=${host}:${options.httpMinPort}`,
    `pg.net.bind.to=${host}:${options.pgPort}`,
    `line.tcp.net.bind.to=${host}:${options.ilpTcpPort}`,
    'line.udp.enabled=false',
    'telemetry.enabled=false',
    'shared.worker.count=2',
    ...(options.tuning === 'small-box' ? smallBoxQuestdbConf : []),
  ].join('\n') + '\n';
}

/**
 * QuestDB's log.conf: errors and startup advisories only. At its default (INFO) QuestDB logs every
 * HTTP request and WAL step, which cost about a tenth of a core under load on 2 cores.
 */
export const questdbLogConf = `writers=stdout
w.stdout.class=io.questdb.log.LogConsoleWriter
w.stdout.level=ERROR,CRITICAL,ADVISORY
`;
