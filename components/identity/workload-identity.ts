import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";

export interface WorkloadIdentityArgs {
  /** The RAM role's cloud name (a plain string: the policy is named `${roleName}-policy`). */
  readonly roleName: string;
  readonly description: string;
  /** JSON trust policy (see trust.ts). */
  readonly trustPolicy: pulumi.Input<string>;
  /** JSON permission policy (see policies.ts); attached as a Custom policy, never a system one. */
  readonly policyDocument: pulumi.Input<string>;
  readonly tags?: alicloud.ram.RoleArgs["tags"];
}

/**
 * One RAM role, one custom policy and the attachment between them. The attachment's policyType is
 * always "Custom": workloads never get system policies such as Aliyun*FullAccess.
 */
export class WorkloadIdentity extends pulumi.ComponentResource {
  public readonly roleArn: pulumi.Output<string>;
  public readonly roleName: pulumi.Output<string>;
  public readonly policyName: pulumi.Output<string>;

  constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    // Args stay out of the component's registered inputs: they hold outputs of other resources, and
    // waiting on them would hold back every child's registration.
    super("backbone:identity:WorkloadIdentity", name, {}, opts);

    const role = new alicloud.ram.Role(
      `${name}-role`,
      {
        roleName: args.roleName,
        description: args.description,
        assumeRolePolicyDocument: args.trustPolicy,
        tags: args.tags,
      },
      { parent: this },
    );
    const policy = new alicloud.ram.Policy(
      `${name}-policy`,
      {
        policyName: `${args.roleName}-policy`,
        description: `Permissions of ${args.roleName}: ${args.description}`,
        policyDocument: args.policyDocument,
        // RAM keeps at most 5 versions; drop the oldest non-default one instead of failing the update.
        rotateStrategy: "DeleteOldestNonDefaultVersionWhenLimitExceeded",
        tags: args.tags,
      },
      { parent: this },
    );
    const attachment = new alicloud.ram.RolePolicyAttachment(
      `${name}-attachment`,
      { roleName: role.roleName, policyName: policy.policyName, policyType: "Custom" },
      { parent: this },
    );

    // Through the attachment, so whoever uses the ARN (a pod annotation, a DLC job) also waits for the
    // permissions to be in place.
    const attached = <T>(value: pulumi.Output<T>) => pulumi.all([attachment.id, value]).apply(([, v]) => v);
    this.roleArn = attached(role.arn);
    this.roleName = role.roleName;
    this.policyName = attached(policy.policyName);
    this.registerOutputs({ roleArn: this.roleArn, roleName: this.roleName, policyName: this.policyName });
  }
}
