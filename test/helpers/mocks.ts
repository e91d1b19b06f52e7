import * as pulumi from "@pulumi/pulumi";
import { autoName, isKubernetesObject } from "./manifests";

/**
 * Pulumi mock runtime for unit tests. It records every registered resource with its type, name,
 * inputs and the resource options the engine would see (parent, protect, retainOnDelete, …),
 * answers invokes from a table, and lets tests await outputs.
 *
 * `MockResourceArgs` carries no parent or options (pulumi/pulumi#14421), so the recorder also
 * wraps the mock monitor's registerResource to read them from the request itself.
 */

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  readonly custom: boolean;
  readonly urn: string;
  readonly parent: string | undefined;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly dependencies: readonly string[];
  readonly ignoreChanges: readonly string[];
  readonly provider: string | undefined;
  /** The resource's former identities: a name, and `noParent` when it used to sit at the stack's root. */
  readonly aliases: readonly RecordedAlias[];
}

export interface RecordedAlias {
  readonly name?: string;
  readonly noParent?: boolean;
  readonly parentUrn?: string;
  readonly urn?: string;
}

export interface RecordedInvoke {
  readonly token: string;
  readonly inputs: Record<string, any>;
}

export type InvokeHandler = (inputs: Record<string, any>) => Record<string, any>;
export type OutputsHandler = (args: pulumi.runtime.MockResourceArgs) => Record<string, any>;

export interface MockOptions {
  readonly project?: string;
  readonly stack?: string;
  readonly preview?: boolean;
  /** Invoke answers by token, added to (and overriding) the defaults below. */
  readonly invokes?: Record<string, InvokeHandler>;
  /** Extra outputs by resource type, merged over the echoed inputs. */
  readonly outputs?: Record<string, OutputsHandler>;
}

export interface MockRecorder {
  readonly resources: RecordedResource[];
  readonly invokes: RecordedInvoke[];
  ofType(type: string): RecordedResource[];
  /** The single resource of a type (optionally whose name ends with `suffix`); throws otherwise. */
  one(type: string, suffix?: string): RecordedResource;
  clear(): void;
}

export const TEST_ACCOUNT_ID = "1234567890123456";

/** Realistic answers for the invokes the program makes; tests override them per case. */
export const DEFAULT_INVOKES: Record<string, InvokeHandler> = {
  "alicloud:index/getZones:getZones": () => ({
    ids: ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"],
    zones: ["h", "i", "j", "k"].map((z) => ({ id: `cn-hangzhou-${z}`, localName: `Hangzhou Zone ${z.toUpperCase()}` })),
  }),
  "alicloud:index/getAccount:getAccount": () => ({ id: TEST_ACCOUNT_ID }),
  "alicloud:index/getCallerIdentity:getCallerIdentity": () => ({
    accountId: TEST_ACCOUNT_ID,
    arn: `acs:ram::${TEST_ACCOUNT_ID}:root`,
    identityType: "Account",
    id: TEST_ACCOUNT_ID,
  }),
  "alicloud:cs/getClusterCredential:getClusterCredential": (inputs) => ({
    id: inputs.clusterId,
    clusterId: inputs.clusterId,
    kubeConfig: "apiVersion: v1\nkind: Config\nclusters: [{name: ack, cluster: {server: 'https://10.20.0.5:6443'}}]\n",
  }),
  // ACR Enterprise push token (GetAuthorizationToken through the instances data source, enableDetails).
  "alicloud:cs/getRegistryEnterpriseInstances:getRegistryEnterpriseInstances": (inputs) => ({
    ids: inputs.ids ?? [],
    instances: (inputs.ids ?? []).map((id: string) => ({
      id,
      name: "acme-prod",
      region: "cn-shanghai",
      tempUsername: "cr_temp_user",
      authorizationToken: "temporary-registry-token",
    })),
  }),
  "alicloud:ecs/getImages:getImages": () => ({
    ids: ["aliyun_3_x64_20G_alibase_20260901.vhd"],
    images: [{ id: "aliyun_3_x64_20G_alibase_20260901.vhd", name: "Alibaba Cloud Linux 3", osType: "linux" }],
  }),
};

/** Outputs the provider computes (not echoed inputs) for the types the program reads them from. */
export const DEFAULT_OUTPUTS: Record<string, OutputsHandler> = {
  // A distinct value per password, so tests can tell whose credential ends up where.
  "random:index/randomPassword:RandomPassword": (args) => ({ result: `mock-password-of-${args.name}` }),
  "alicloud:oss/bucket:Bucket": () => ({
    extranetEndpoint: "oss-cn-hangzhou.aliyuncs.com",
    intranetEndpoint: "oss-cn-hangzhou-internal.aliyuncs.com",
  }),
  "alicloud:cs/managedKubernetes:ManagedKubernetes": (args) => ({
    rrsaMetadata: {
      enabled: true,
      ramOidcProviderArn: `acs:ram::${TEST_ACCOUNT_ID}:oidc-provider/ack-rrsa-${args.name}`,
      rrsaOidcIssuerUrl: `https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/${args.name}`,
    },
  }),
  // A pushed image's digest, as docker push reports it (no Docker engine runs under the mocks).
  "docker:index/image:Image": (args) => ({
    repoDigest: `${String(args.inputs.imageName).replace(/:[^:/]+$/, "")}@sha256:${"ab".repeat(32)}`,
  }),
  // What the AIRec provider computes (components/recommendations), as after a real adopt or create.
  "pulumi-nodejs:dynamic/backbone-airec:Instance": (args) => ({
    instanceId: args.inputs.instanceId ?? "airec-cn-bought01",
    sceneIds: args.inputs.scenes,
    endpoint: `airec-vpc.${args.inputs.region}.aliyuncs.com`,
    status: "Running",
  }),
  // What DescribeService gives once EAS runs the version (components/eas/access.ts).
  "pulumi-nodejs:dynamic/backbone-eas:ServiceAccess": (args) => ({
    intranetEndpoint: `http://${TEST_ACCOUNT_ID}.vpc.${args.inputs.region}.pai-eas.aliyuncs.com/api/predict/${args.inputs.serviceName}`,
    token: "eas-test-token-0123456789",
    status: "Running",
  }),
  "alicloud:cr/repo:Repo": () => ({
    domainList: {
      public: "registry.cn-hangzhou.aliyuncs.com",
      internal: "registry-internal.cn-hangzhou.aliyuncs.com",
      vpc: "registry-vpc.cn-hangzhou.aliyuncs.com",
    },
  }),
};

let counter = 0;

export async function setupMocks(options: MockOptions = {}): Promise<MockRecorder> {
  const resources: RecordedResource[] = [];
  const invokes: RecordedInvoke[] = [];
  const handlers = { ...DEFAULT_INVOKES, ...options.invokes };
  const outputs = { ...DEFAULT_OUTPUTS, ...options.outputs };
  let pending: any;

  const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
      const req = pending;
      pending = undefined;
      const parent: string | undefined = req?.getParent() || undefined;
      resources.push({
        type: args.type,
        name: args.name,
        inputs: args.inputs,
        custom: args.custom ?? true,
        urn: mockUrn(options, parent, args.type, args.name),
        parent,
        protect: req?.getProtect() ?? false,
        retainOnDelete: req?.getRetainondelete() ?? false,
        dependencies: req?.getDependenciesList() ?? [],
        ignoreChanges: req?.getIgnorechangesList() ?? [],
        provider: args.provider || undefined,
        aliases: (req?.getAliasesList() ?? []).map(recordedAlias),
      });
      const extra = { ...kubernetesName(args), ...outputs[args.type]?.(args) };
      return { id: args.custom === false ? "" : `${args.name}-id-${++counter}`, state: { ...args.inputs, ...extra } };
    },
    call(args) {
      invokes.push({ token: args.token, inputs: args.inputs });
      const handler = handlers[args.token];
      if (!handler)
        throw new Error(`test mocks: no answer for invoke ${args.token}; add one to setupMocks({ invokes })`);
      return handler(args.inputs);
    },
  };

  await pulumi.runtime.setMocks(
    mocks,
    options.project ?? "search-backbone",
    options.stack ?? "dev",
    options.preview ?? false,
  );
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: any) => {
    pending = req;
    return register(req, callback);
  };

  return {
    resources,
    invokes,
    ofType: (type) => resources.filter((r) => r.type === type),
    one(type, suffix) {
      const found = resources.filter((r) => r.type === type && (!suffix || r.name.endsWith(suffix)));
      if (found.length !== 1) {
        throw new Error(
          `expected one ${type}${suffix ? ` named *${suffix}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`,
        );
      }
      return found[0] as RecordedResource;
    },
    clear() {
      resources.length = 0;
      invokes.length = 0;
    },
  };
}

/** The provider names a Kubernetes object whose metadata names none; other resources read that name. */
function kubernetesName(args: pulumi.runtime.MockResourceArgs): Record<string, any> {
  if (args.custom === false || !isKubernetesObject(args.type)) return {};
  const metadata = args.inputs.metadata ?? {};
  return { metadata: { ...metadata, name: metadata.name ?? autoName(args.name) } };
}

function recordedAlias(alias: any): RecordedAlias {
  if (!alias.hasSpec()) return { urn: alias.getUrn() };
  const spec = alias.getSpec();
  return {
    ...(spec.getName() ? { name: spec.getName() } : {}),
    ...(spec.getNoparent() ? { noParent: true } : {}),
    ...(spec.getParenturn() ? { parentUrn: spec.getParenturn() } : {}),
  };
}

function mockUrn(options: MockOptions, parent: string | undefined, type: string, name: string): string {
  const qualified = parent ? `${parent.split("::")[2]}$${type}` : type;
  return `urn:pulumi:${options.stack ?? "dev"}::${options.project ?? "search-backbone"}::${qualified}::${name}`;
}

/** Resolves an Output's value (never call it on a value left unknown in preview). */
export function resolved<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/**
 * Waits until the RPC queue has drained, so every resource registration started so far (including
 * those made inside apply callbacks) has reached the mock monitor. Uses the SDK's internal
 * `waitForRPCs`, the same wait the runtime does before it disconnects.
 */
export async function settle(): Promise<void> {
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}
