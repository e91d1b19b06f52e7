import * as pulumi from "@pulumi/pulumi";
import { BailianDeployment } from "./deployment";
import { BailianFineTune, type BailianFineTuneSpec } from "./fine-tune";

export interface BailianChatModelArgs extends Omit<BailianFineTuneSpec, "data"> {
  readonly data: pulumi.Input<BailianFineTuneSpec["data"]>;
  /** Capacity units of the dedicated deployment. */
  readonly capacity: number;
  /** How long to follow the fine-tune (hours) and the deployment (minutes). */
  readonly wait: { readonly fineTuneMinutes: number; readonly deploymentMinutes: number };
}

/**
 * The chat model fine-tuned and served by Model Studio (chat.fineTune "bailian"): a fine-tune of
 * one of its Qwen models on prepare-chat's rows, then a dedicated deployment of the result through the
 * existing BailianDeployment. `deployedModel` is what the orchestrator passes as `model`.
 */
export class BailianChatModel extends pulumi.ComponentResource {
  public readonly finetunedModel: pulumi.Output<string>;
  public readonly deployedModel: pulumi.Output<string>;

  constructor(name: string, args: BailianChatModelArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:bailian:BailianChatModel", name, {}, opts);
    const fineTune = new BailianFineTune(
      `${name}-fine-tune`,
      {
        baseUrl: args.baseUrl,
        model: args.model,
        trainingType: args.trainingType,
        nEpochs: args.nEpochs,
        suffix: args.suffix,
        data: args.data,
        wait: { timeoutMinutes: args.wait.fineTuneMinutes, pollSeconds: 60 },
      },
      { parent: this },
    );
    const deployment = new BailianDeployment(
      `${name}-deployment`,
      {
        baseUrl: args.baseUrl,
        modelName: fineTune.finetunedOutput,
        capacity: args.capacity,
        suffix: "chat",
        wait: { timeoutMinutes: args.wait.deploymentMinutes, pollSeconds: 20 },
      },
      { parent: this },
    );
    this.finetunedModel = fineTune.finetunedOutput;
    this.deployedModel = deployment.deployedModel;
    this.registerOutputs({ finetunedModel: this.finetunedModel, deployedModel: this.deployedModel });
  }
}
