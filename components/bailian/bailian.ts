import * as pulumi from "@pulumi/pulumi";
import { BailianDeployment, type BailianDeploymentSpec, type DeploymentWait } from "./deployment";

/** One role's deployment: the provider's own spec, less what the component fills in. */
export type BailianModelDeployment = Pick<BailianDeploymentSpec, "modelName" | "capacity">;

/** A thin wrapper: the provider's spec fields, shared by the roles, plus one deployment per role. */
export interface BailianModelsArgs extends Pick<BailianDeploymentSpec, "baseUrl"> {
  /** Fine-tuned models to deploy, by role; roles without one use stock models and create nothing. */
  readonly deployments: Readonly<Partial<Record<"embedding" | "rerank", BailianModelDeployment>>>;
  readonly wait?: DeploymentWait;
}

/** Dedicated Model Studio deployments of fine-tuned models, one per configured role. */
export class BailianModels extends pulumi.ComponentResource {
  /** Per role with a deployment: the name callers pass as `model`. */
  public readonly deployedModels: Partial<Record<"embedding" | "rerank", pulumi.Output<string>>> = {};

  constructor(name: string, args: BailianModelsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:bailian:BailianModels", name, {}, opts);
    for (const role of ["embedding", "rerank"] as const) {
      const deployment = args.deployments[role];
      if (!deployment) continue;
      const resource = new BailianDeployment(
        `${name}-${role}`,
        {
          baseUrl: args.baseUrl,
          modelName: deployment.modelName,
          capacity: deployment.capacity,
          suffix: role,
          wait: args.wait ?? { timeoutMinutes: 30, pollSeconds: 20 },
        },
        { parent: this },
      );
      this.deployedModels[role] = resource.deployedModel;
    }
    this.registerOutputs({ deployedModels: this.deployedModels });
  }
}
