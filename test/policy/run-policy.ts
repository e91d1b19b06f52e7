import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";

/**
 * Calls a policy's validate function the way the policy server does, without a PolicyPack (whose
 * constructor starts a gRPC server). Returns the reported violation messages.
 */

export interface FakeResource {
  readonly type: string;
  readonly props: Record<string, any>;
  readonly name?: string;
  readonly protect?: boolean;
}

export interface RunOptions {
  /** The policy's own config (what --policy-pack-config gives it). */
  readonly config?: Record<string, unknown>;
  /** The stack config the engine would hand the pack in PULUMI_CONFIG. */
  readonly stackConfig?: Record<string, string>;
  readonly stackTags?: Record<string, string>;
}

async function withStackConfig(
  stackConfig: Record<string, string> | undefined,
  run: () => Promise<void> | void,
): Promise<void> {
  const saved = process.env.PULUMI_CONFIG;
  if (stackConfig) process.env.PULUMI_CONFIG = JSON.stringify(stackConfig);
  else delete process.env.PULUMI_CONFIG;
  try {
    await run();
  } finally {
    if (saved === undefined) delete process.env.PULUMI_CONFIG;
    else process.env.PULUMI_CONFIG = saved;
  }
}

const notApplicable = (reason?: string): never => {
  throw new Error(`not applicable: ${reason}`);
};

function resourceArgs(resource: FakeResource, options: RunOptions): ResourceValidationArgs & PolicyResource {
  const name = resource.name ?? "subject";
  return {
    type: resource.type,
    props: resource.props,
    urn: `urn:pulumi:test::search-backbone::${resource.type}::${name}`,
    name,
    opts: { protect: resource.protect ?? false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [] } as any,
    stackTags: new Map(Object.entries(options.stackTags ?? {})),
    dependencies: [],
    propertyDependencies: {},
    isType: (cls: any) => cls.__pulumiType === resource.type,
    asType: () => undefined,
    getConfig: () => (options.config ?? {}) as any,
    notApplicable,
  } as unknown as ResourceValidationArgs & PolicyResource;
}

export async function runResourcePolicy(
  policy: ResourceValidationPolicy,
  resource: FakeResource,
  options: RunOptions = {},
): Promise<string[]> {
  const violations: string[] = [];
  const validations = [policy.validateResource ?? []].flat();
  for (const validate of validations) {
    await withStackConfig(options.stackConfig, () =>
      validate(resourceArgs(resource, options), (message) => violations.push(message)),
    );
  }
  return violations;
}

export async function runStackPolicy(
  policy: StackValidationPolicy,
  resources: readonly FakeResource[],
  options: RunOptions = {},
): Promise<string[]> {
  const violations: string[] = [];
  await withStackConfig(options.stackConfig, () =>
    policy.validateStack(
      {
        resources: resources.map((r) => resourceArgs(r, options)),
        stackTags: new Map(Object.entries(options.stackTags ?? {})),
        getConfig: () => (options.config ?? {}) as any,
        notApplicable,
      },
      (message) => violations.push(message),
    ),
  );
  return violations;
}

/** Runs any policy of the pack on a whole set of resources, as the engine would. */
export async function runPolicy(
  policy: ResourceValidationPolicy | StackValidationPolicy,
  resources: readonly FakeResource[],
  options: RunOptions = {},
): Promise<string[]> {
  if ("validateStack" in policy) return runStackPolicy(policy, resources, options);
  const all: string[] = [];
  for (const resource of resources) {
    for (const message of await runResourcePolicy(policy, resource, options)) {
      all.push(`${resource.type} ${resource.name ?? ""}: ${message}`);
    }
  }
  return all;
}
