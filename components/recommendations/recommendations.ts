import * as pulumi from "@pulumi/pulumi";
import { attributed } from "../errors";
import { type AirecSpec, airecSpecProblems } from "./airec-api";
import { AirecInstance } from "./airec-instance";

/**
 * What the component needs: the AIRec provider's own spec (airec-api.ts) less the region, which is an
 * argument of its own. stacks/backbone.ts maps the validated config onto it.
 */
export type RecommendationsSettings = Omit<AirecSpec, "region">;

export interface RecommendationsArgs extends Pick<AirecSpec, "region"> {
  readonly settings: RecommendationsSettings;
  /** Prod: the instance is prepaid state that no `pulumi destroy` may drop from the stack. */
  readonly protect: boolean;
}

/** What the orchestrator reads to call AIRec. */
export interface AirecEndpoint {
  readonly instanceId: string;
  readonly sceneId: string;
  readonly sceneIds: string[];
  /** VPC endpoint host, e.g. airec-vpc.cn-hangzhou.aliyuncs.com. */
  readonly endpoint: string;
  readonly region: string;
}

/**
 * AIRec for personalised recommendations: one instance (adopted by id, or bought on explicit opt-in)
 * with the scenes the orchestrator recommends in. The orchestrator pushes behaviour to the instance's
 * user/item/behavior tables; its initial MaxCompute import is set up in the AIRec console.
 */
export class Recommendations extends pulumi.ComponentResource {
  public readonly instanceId: pulumi.Output<string>;
  public readonly sceneIds: pulumi.Output<string[]>;
  public readonly endpoint: pulumi.Output<string>;
  public readonly airec: pulumi.Output<AirecEndpoint>;

  constructor(name: string, args: RecommendationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:recommendations:Recommendations", name, {}, opts);
    const { region, settings } = args;
    attributed(this, () => {
      const problems = airecSpecProblems({ region, ...settings });
      if (problems.length > 0) throw new Error(`AIRec settings: ${problems.join("; ")}`);
    });

    const instance = new AirecInstance(
      `${name}-airec`,
      {
        region,
        mode: settings.mode,
        ...(settings.mode === "adopt" && settings.instanceId ? { instanceId: settings.instanceId } : {}),
        ...(settings.mode === "create" && settings.purchase ? { purchase: settings.purchase } : {}),
        scenes: [...settings.scenes],
      },
      { parent: this, protect: args.protect },
    );
    this.instanceId = instance.instanceId;
    this.sceneIds = instance.sceneIds;
    this.endpoint = instance.endpoint;
    this.airec = pulumi
      .all([instance.instanceId, instance.sceneIds, instance.endpoint])
      .apply(([instanceId, sceneIds, endpoint]) => ({
        instanceId,
        sceneId: sceneIds[0] as string,
        sceneIds,
        endpoint,
        region,
      }));
    this.registerOutputs({ instanceId: this.instanceId, sceneIds: this.sceneIds, endpoint: this.endpoint });
  }
}
