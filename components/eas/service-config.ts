/**
 * The PAI-EAS service configuration (`alicloud.pai.Service`'s `serviceConfig` JSON, the body of EAS
 * 2021-07-01 CreateService/UpdateService), rendered and validated by pure functions.
 *
 * Field names, and how sure each one is ([V] a public page or upstream source says so; [I] inferred):
 *  - `metadata.name`, `metadata.instance`, `metadata.workspace_id`, `metadata.resource`,
 *    `cloud.computing.instances[].type`, `containers[].image|script|port`, `storage[].oss.path|readOnly`,
 *    `storage[].mount_path` [V] https://www.alibabacloud.com/help/en/pai/user-guide/parameters-of-model-services
 *    and https://www.alibabacloud.com/help/en/pai/user-guide/mount-storage-to-services.
 *  - `metadata.rolling_strategy.max_surge|max_unavailable` [V]
 *    https://www.alibabacloud.com/help/en/pai/user-guide/scrolling-updates-with-graceful-exit: new instances
 *    start first; one that fails to start aborts the update and the old ones keep serving.
 *  - `autoscaler.min|max|scaleStrategies[{metricName, threshold}]` [I: the section exists per the JSON
 *    reference's table of contents; the inner names follow EAS's console-generated JSON].
 *  - `cloud.networking.vpc_id|vswitch_id|security_group_id` [I: the JSON reference lists "cloud: compute
 *    resources and VPC configuration"; the inner names were not shown in any page read].
 *  - `networking.disable_internet_endpoint` [I]: the JSON reference has a `networking` block ("service
 *    invocation configuration"); this key name was not confirmed.
 *  - `containers[].readiness_check.http_get.path|port`, `initial_delay_seconds`, `period_seconds` [I].
 * A wrong inferred name is a field EAS ignores or refuses at CreateService; `pulumi up` then fails on it.
 */

/** EAS instance types: ECS specs (ecs.<family>.<size>) or EAS's own ml.* specs [I: ml.* from the console]. */
export const EAS_INSTANCE_TYPE = /^(ecs\.[a-z0-9-]+\.[a-z0-9]+|ml\.[a-z0-9]+\.[a-z0-9.]+)$/;
/** EAS service names: lowercase letters, digits and underscores, starting with a letter [V: JSON reference]. */
export const EAS_SERVICE_NAME = /^[a-z][a-z0-9_]{2,62}$/;
/** Hard ceiling on replicas, a guard against typos (EAS's own quota is per account). */
export const MAX_REPLICAS = 100;

export interface EasReplicas {
  readonly min: number;
  readonly max: number;
  /** Scale out when a replica's QPS passes this; unset with min === max: no autoscaler. */
  readonly targetQps?: number | undefined;
}

export interface EasServiceSpec {
  /** Service name, unique per region. */
  readonly name: string;
  readonly workspaceId: string;
  readonly image: string;
  /** The container's command; it reads the model from `mountPath`. */
  readonly command: string;
  readonly port: number;
  readonly instanceType: string;
  /** A dedicated EAS resource group; unset: the public resource group with `instanceType`. */
  readonly resourceGroup?: string | undefined;
  readonly replicas: EasReplicas;
  /** oss://bucket/prefix/ of the model, mounted read-only. */
  readonly modelPath: string;
  readonly mountPath: string;
  readonly network: { readonly vpcId: string; readonly vswitchId: string; readonly securityGroupId: string };
  readonly healthCheck: { readonly path: string; readonly initialDelaySeconds: number };
  /** Must stay false: EAS services are reached from the VPC only. */
  readonly publicEndpoint: boolean;
  readonly env?: Readonly<Record<string, string>> | undefined;
}

const OSS_PREFIX = /^oss:\/\/[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\/(?:[A-Za-z0-9._=-]+\/)+$/;
const IMAGE = /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$/;

const given = (value: unknown) => JSON.stringify(value);

/** Every problem with a spec, each naming the field, the value and what was expected. */
export function serviceSpecProblems(spec: EasServiceSpec): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, field: string, value: unknown, expected: string) => {
    if (!ok) problems.push(`${field}: got ${given(value)}; expected ${expected}`);
  };
  expect(
    EAS_SERVICE_NAME.test(spec.name),
    "name",
    spec.name,
    "3-63 lowercase letters, digits or _, starting with a letter",
  );
  expect(/^\d+$/.test(spec.workspaceId), "workspaceId", spec.workspaceId, "a PAI workspace id (digits)");
  expect(IMAGE.test(spec.image), "image", spec.image, "an image reference with a tag or digest");
  expect(spec.command.trim() !== "", "command", spec.command, "the container's start command");
  expect(Number.isInteger(spec.port) && spec.port >= 1 && spec.port <= 65535, "port", spec.port, "a port 1-65535");
  expect(
    EAS_INSTANCE_TYPE.test(spec.instanceType),
    "instanceType",
    spec.instanceType,
    "an EAS instance type like ecs.gn7i-c8g1.2xlarge or ml.gu7i.c16m60.1-gu30",
  );
  if (spec.resourceGroup !== undefined)
    expect(
      /^eas-r-[a-z0-9]+$/.test(spec.resourceGroup),
      "resourceGroup",
      spec.resourceGroup,
      "a dedicated resource group id like eas-r-xxxx",
    );
  const { min, max, targetQps } = spec.replicas;
  expect(Number.isInteger(min) && min >= 1, "replicas.min", min, "a whole number >= 1");
  expect(Number.isInteger(max) && max <= MAX_REPLICAS, "replicas.max", max, `a whole number <= ${MAX_REPLICAS}`);
  expect(max >= min, "replicas.max", max, `at least replicas.min (${min})`);
  if (targetQps !== undefined) expect(targetQps > 0, "replicas.targetQps", targetQps, "a positive QPS per replica");
  expect(
    min === max || targetQps !== undefined,
    "replicas.targetQps",
    targetQps,
    "a QPS target when replicas.min < replicas.max",
  );
  expect(
    OSS_PREFIX.test(spec.modelPath),
    "modelPath",
    spec.modelPath,
    "the model's oss://bucket/prefix/ (ending in /)",
  );
  expect(/^\/[A-Za-z0-9._/-]+$/.test(spec.mountPath), "mountPath", spec.mountPath, "an absolute path in the container");
  // The ids come from the stack's Network component (vpc-…, vsw-…, sg-… in the cloud); only their presence is checked.
  const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
  expect(ID.test(spec.network.vpcId), "network.vpcId", spec.network.vpcId, "the stack's VPC id");
  expect(
    ID.test(spec.network.vswitchId),
    "network.vswitchId",
    spec.network.vswitchId,
    "one of the stack's vSwitch ids",
  );
  expect(
    ID.test(spec.network.securityGroupId),
    "network.securityGroupId",
    spec.network.securityGroupId,
    "the stack's security group id",
  );
  expect(spec.healthCheck.path.startsWith("/"), "healthCheck.path", spec.healthCheck.path, "an HTTP path like /ping");
  expect(
    Number.isInteger(spec.healthCheck.initialDelaySeconds) && spec.healthCheck.initialDelaySeconds >= 0,
    "healthCheck.initialDelaySeconds",
    spec.healthCheck.initialDelaySeconds,
    "whole seconds >= 0",
  );
  expect(
    spec.publicEndpoint === false,
    "publicEndpoint",
    spec.publicEndpoint,
    "false: EAS services are reached from the stack's VPC only",
  );
  return problems;
}

/** The serviceConfig object; throws with every problem when the spec has any. */
export function renderServiceConfig(spec: EasServiceSpec): Record<string, unknown> {
  const problems = serviceSpecProblems(spec);
  if (problems.length > 0) throw new Error(`EAS service ${spec.name}: ${problems.join("; ")}`);
  const { min, max, targetQps } = spec.replicas;
  return {
    metadata: {
      name: spec.name,
      workspace_id: spec.workspaceId,
      instance: min,
      ...(spec.resourceGroup ? { resource: spec.resourceGroup } : {}),
      // New instances first, none of the old ones stopped before them: traffic moves only to ready ones.
      rolling_strategy: { max_surge: 1, max_unavailable: 0 },
    },
    cloud: {
      ...(spec.resourceGroup ? {} : { computing: { instances: [{ type: spec.instanceType }] } }),
      networking: {
        vpc_id: spec.network.vpcId,
        vswitch_id: spec.network.vswitchId,
        security_group_id: spec.network.securityGroupId,
      },
    },
    networking: { disable_internet_endpoint: true },
    ...(min < max ? { autoscaler: { min, max, scaleStrategies: [{ metricName: "qps", threshold: targetQps }] } } : {}),
    containers: [
      {
        image: spec.image,
        script: spec.command,
        port: spec.port,
        ...(spec.env ? { env: Object.entries(spec.env).map(([name, value]) => ({ name, value })) } : {}),
        readiness_check: {
          http_get: { path: spec.healthCheck.path, port: spec.port },
          initial_delay_seconds: spec.healthCheck.initialDelaySeconds,
          period_seconds: 10,
        },
      },
    ],
    storage: [{ oss: { path: spec.modelPath, readOnly: true }, mount_path: spec.mountPath }],
  };
}

/**
 * What a service runs, for telling an old deployment from a new one: image, command and model path.
 * The same fingerprint read back from DescribeService's ServiceConfig means EAS runs this version.
 */
export function configFingerprint(config: Record<string, any>): string {
  const container = (config.containers ?? [])[0] ?? {};
  const storage = (config.storage ?? [])[0] ?? {};
  return [container.image, container.script, storage.oss?.path].map((part) => String(part ?? "")).join("|");
}
