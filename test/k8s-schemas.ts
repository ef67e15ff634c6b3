/**
 * Offline schema validation of rendered Kubernetes objects: core kinds with kubernetes-models, KEDA and
 * Prometheus Operator kinds with their @kubernetes-models packages, Strimzi kinds with ajv against the
 * CRDs Strimzi's own generator wrote (infra/artifacts.ts ensureStrimziCrds). A kind with no schema is a
 * problem, never a pass.
 */
import { readFile } from 'node:fs/promises';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

type Validate = (object: K8sObject) => void;
const model = (Model: new (data: never) => { validate(): void }): Validate => (object) => new Model(object as never).validate();

/** `${apiVersion}/${kind}` → validator, for the kinds that have a maintained model. */
const modelValidators: Readonly<Record<string, Validate>> = {
  'v1/Namespace': model(Namespace),
  'v1/ConfigMap': model(ConfigMap),
  'v1/Secret': model(Secret),
  'v1/Service': model(Service),
  'apps/v1/Deployment': model(Deployment),
  'apps/v1/StatefulSet': model(StatefulSet),
  'batch/v1/Job': model(Job),
  'policy/v1/PodDisruptionBudget': model(PodDisruptionBudget),
  'networking.k8s.io/v1/NetworkPolicy': model(NetworkPolicy),
  'keda.sh/v1alpha1/ScaledObject': model(ScaledObject),
  'monitoring.coreos.com/v1/PodMonitor': model(PodMonitor),
  'monitoring.coreos.com/v1/PrometheusRule': model(PrometheusRule),
};

type JsonSchema = Record<string, unknown>;

/**
 * What `kubectl --validate=strict` adds to a CRD's openAPIV3Schema: unknown fields are errors unless the
 * schema keeps them (x-kubernetes-preserve-unknown-fields); int-or-string becomes a JSON Schema anyOf;
 * metadata is checked by the API server, not the CRD.
 */
function strictSchema(schema: JsonSchema, root = false): JsonSchema {
  const out: JsonSchema = { ...schema };
  if (schema['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (properties) {
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([name, child]) => [name, root && name === 'metadata' ? { type: 'object' } : strictSchema(child)]),
    );
    if (schema['x-kubernetes-preserve-unknown-fields'] !== true && schema.additionalProperties === undefined) out.additionalProperties = false;
  }
  if (schema.items && typeof schema.items === 'object') out.items = strictSchema(schema.items as JsonSchema);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    out.additionalProperties = strictSchema(schema.additionalProperties as JsonSchema);
  }
  return out;
}

/** Validators for every version each CRD serves, by `${group}/${version}/${kind}`. */
async function crdValidators(crdFiles: readonly string[]): Promise<Record<string, Validate>> {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validators: Record<string, Validate> = {};
  for (const file of crdFiles) {
    const crd = parse(await readFile(file, 'utf8')) as {
      spec: { group: string; names: { kind: string }; versions: Array<{ name: string; served: boolean; schema: { openAPIV3Schema: JsonSchema } }> };
    };
    for (const version of crd.spec.versions.filter((candidate) => candidate.served)) {
      const check: ValidateFunction = ajv.compile(strictSchema(version.schema.openAPIV3Schema, true));
      validators[`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`] = (object) => {
        if (check(object)) return;
        const messages = (check.errors ?? []).map((error) => {
          const extra = (error.params as { additionalProperty?: string }).additionalProperty;
          return `data${error.instancePath} ${error.message ?? 'is invalid'}${extra === undefined ? '' : ` (${extra})`}`;
        });
        throw new Error(messages.join('; '));
      };
    }
  }
  return validators;
}

/**
 * A function that returns one problem per object that has no schema or does not match it
 * (`Kind/name: message`), or none.
 */
export async function createK8sValidator(crdFiles: readonly string[]): Promise<(objects: readonly K8sObject[]) => string[]> {
  const validators = { ...modelValidators, ...(await crdValidators(crdFiles)) };
  return (objects) =>
    objects.flatMap((object) => {
      const where = `${object.kind}/${object.metadata.name}`;
      const validate = validators[`${object.apiVersion}/${object.kind}`];
      if (!validate) return [`${where}: no schema for ${object.apiVersion} ${object.kind}`];
      try {
        validate(object);
        return [];
      } catch (error) {
        return [`${where}: ${(error as Error).message}`];
      }
    });
}
