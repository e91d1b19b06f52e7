import * as pulumi from "@pulumi/pulumi";
import { attributed } from "../errors";
import { type AirecManagement, airecDeployerInput, type DeployerPolicyInput, deployerPolicy } from "./deployer-policy";
import { llmTrainingPolicy, orchestratorPolicy, servingPolicy, trainingPolicy } from "./policies";
import { ecsTrustPolicy, PAI_SERVICE, paiTrustPolicy, rrsaTrustPolicy } from "./trust";
import { WorkloadIdentity } from "./workload-identity";

export interface IdentityArgs {
  /** Prefix of every cloud name, e.g. "acme-dev"; roles are `${cloudName}-training` etc. */
  readonly cloudName: string;
  readonly accountId: pulumi.Input<string>;
  readonly region: string;
  readonly buckets: { readonly docs: pulumi.Input<string>; readonly artifacts: pulumi.Input<string> };
  /** From the cluster's rrsaMetadata; the orchestrator's service account is the only one trusted. */
  readonly rrsa: {
    readonly oidcProviderArn: pulumi.Input<string>;
    readonly issuerUrl: pulumi.Input<string>;
    readonly namespace: string;
    readonly serviceAccount: string;
  };
  /** Optional until the AIRec instance is bought; without it the AIRec statement is left out. */
  readonly airecInstanceId?: pulumi.Input<string>;
  /** The KMS key the buckets encrypt with (prod); adds kms:Decrypt/GenerateDataKey on that key only. */
  readonly kmsKeyId?: pulumi.Input<string>;
  /** Override for the PAI service principal (see trust.ts on why it is a parameter). */
  readonly paiServicePrincipal?: string;
  /** Shapes the rendered deployer policy. */
  readonly deployer?: Pick<
    DeployerPolicyInput,
    "emptyBucketsOnDestroy" | "registryEdition" | "training" | "gpuServing"
  > & {
    /** How the stack manages AIRec (recommendations.airec): what the deployer may do to an instance. */
    readonly airec?: AirecManagement;
  };
  /** The chat model's fine-tuning job (models.training.llm): a fourth role, only while it is on. */
  readonly llmTraining?:
    | { readonly base?: { bucket: string; prefix: string } | undefined; readonly outputPrefix: string }
    | undefined;
  readonly tags: Record<string, string>;
}

export interface WorkloadRoleArns {
  readonly training: pulumi.Output<string>;
  readonly serving: pulumi.Output<string>;
  readonly orchestrator: pulumi.Output<string>;
}

const json = (value: unknown) => JSON.stringify(value);

/**
 * The three workload roles: training (assumed by PAI DLC jobs), serving (GPU ECS hosts) and
 * orchestrator (a service account on ACK, through RRSA). Each has only its own custom policy. The CI
 * deployer's policy is rendered as an output for an admin to attach; this stack does not grant it.
 */
export class Identity extends pulumi.ComponentResource {
  public readonly roles: WorkloadRoleArns;
  public readonly roleNames: {
    readonly training: pulumi.Output<string>;
    readonly serving: pulumi.Output<string>;
    readonly orchestrator: pulumi.Output<string>;
  };
  /** JSON policy document for the CI deployer of this stack. */
  public readonly deployerPolicy: pulumi.Output<string>;
  /** The chat model's training role, when args.llmTraining is set. */
  public readonly llmTrainingRoleArn?: pulumi.Output<string>;

  constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:identity:Identity", name, {}, opts);
    const { cloudName, region, tags } = args;

    const base = pulumi
      .all([args.accountId, args.buckets.docs, args.buckets.artifacts, args.kmsKeyId])
      .apply(([accountId, docs, artifacts, kmsKeyId]) => ({
        accountId,
        region,
        buckets: { docs, artifacts },
        kmsKeyId,
      }));

    const training = new WorkloadIdentity(
      `${name}-training`,
      {
        roleName: `${cloudName}-training`,
        description: "PAI DLC training jobs: read raw/ and training/ of docs, write models/ of artifacts",
        trustPolicy: attributed(this, () => json(paiTrustPolicy(args.paiServicePrincipal ?? PAI_SERVICE))),
        policyDocument: base.apply((input) => attributed(this, () => json(trainingPolicy(input)))),
        tags,
      },
      { parent: this },
    );
    const serving = new WorkloadIdentity(
      `${name}-serving`,
      {
        roleName: `${cloudName}-serving`,
        description: "GPU ECS hosts running TorchServe: read models/ of artifacts",
        trustPolicy: json(ecsTrustPolicy()),
        policyDocument: base.apply((input) => attributed(this, () => json(servingPolicy(input)))),
        tags,
      },
      { parent: this },
    );
    const orchestrator = new WorkloadIdentity(
      `${name}-orchestrator`,
      {
        roleName: `${cloudName}-orchestrator`,
        description: `Orchestrator (RRSA ${args.rrsa.namespace}/${args.rrsa.serviceAccount}): read raw/, write logs/, AIRec`,
        trustPolicy: pulumi
          .all([args.rrsa.oidcProviderArn, args.rrsa.issuerUrl])
          .apply(([oidcProviderArn, issuerUrl]) =>
            attributed(this, () =>
              json(
                rrsaTrustPolicy({
                  oidcProviderArn,
                  issuerUrl,
                  namespace: args.rrsa.namespace,
                  serviceAccount: args.rrsa.serviceAccount,
                }),
              ),
            ),
          ),
        policyDocument: pulumi
          .all([base, args.airecInstanceId])
          .apply(([input, airecInstanceId]) =>
            attributed(this, () => json(orchestratorPolicy({ ...input, airecInstanceId }))),
          ),
        tags,
      },
      { parent: this },
    );

    const llm = args.llmTraining;
    if (llm) {
      const role = new WorkloadIdentity(
        `${name}-llm-training`,
        {
          roleName: `${cloudName}-llm-training`,
          description: `PAI DLC chat model job: read raw/ and logs/ of docs${llm.base ? " and the base" : ""}, write ${llm.outputPrefix} of artifacts`,
          trustPolicy: attributed(this, () => json(paiTrustPolicy(args.paiServicePrincipal ?? PAI_SERVICE))),
          policyDocument: base.apply((input) =>
            attributed(this, () =>
              json(llmTrainingPolicy({ ...input, base: llm.base, outputPrefix: llm.outputPrefix })),
            ),
          ),
          tags,
        },
        { parent: this },
      );
      this.llmTrainingRoleArn = role.roleArn;
    }

    this.roles = { training: training.roleArn, serving: serving.roleArn, orchestrator: orchestrator.roleArn };
    this.roleNames = { training: training.roleName, serving: serving.roleName, orchestrator: orchestrator.roleName };
    const { airec, ...deployer } = args.deployer ?? {};
    this.deployerPolicy = base.apply(({ accountId, kmsKeyId }) =>
      attributed(this, () =>
        json(
          deployerPolicy({
            accountId,
            region,
            cloudName,
            kmsKeyId,
            ...deployer,
            ...(airec ? { airec: airecDeployerInput(airec) } : {}),
          }),
        ),
      ),
    );
    this.registerOutputs({ roles: this.roles, roleNames: this.roleNames, deployerPolicy: this.deployerPolicy });
  }
}
