import * as pulumi from "@pulumi/pulumi";
import { changedKeys, checkResult } from "../alibaba-api/checks";
import { resolveContext } from "../alibaba-api/context";
import {
  type AirecPurchase,
  type AirecSpec,
  airecSpecProblems,
  airecVpcEndpoint,
  type DataSourceInfo,
  describeInstance,
  setUpAirec,
} from "./airec-api";

/**
 * An AIRec instance with its scenes, as a resource. Adopt: the instance must exist in the stack's
 * region (DescribeInstance). Create: buys a prepaid instance (CreateInstance) — only reachable when the
 * stack's config opts in (stacks/config rules). Either way the scenes are created when missing
 * (ListScenes, then CreateScene) and the data sources are reported. Delete calls nothing: prepaid
 * instances cannot be released by API, and an adopted one belongs to someone else; scenes stay too.
 */

export interface AirecInstanceState extends AirecSpec {
  readonly instanceId: string;
  readonly status: string;
  readonly sceneIds: string[];
  readonly dataSources: DataSourceInfo[];
  /** The VPC endpoint host the orchestrator calls. */
  readonly endpoint: string;
}

type Inputs = AirecSpec;

/** Properties whose change means another instance. Pure: tested directly. */
export function replacedProperties(olds: Partial<AirecInstanceState>, news: Partial<AirecSpec>): string[] {
  const replaces: string[] = [];
  if (olds.region !== news.region) replaces.push("region");
  const sameInstance = news.mode === "adopt" && news.instanceId === olds.instanceId;
  if (olds.mode !== news.mode && !sameInstance) replaces.push("mode");
  if (news.mode === "adopt" && olds.mode === "adopt" && olds.instanceId !== news.instanceId)
    replaces.push("instanceId");
  return replaces;
}

const progress = (line: string) => resolveContext().progress(line);

// One provider object at module level (the SDK caches its serialization per object).
const airecInstanceProvider: pulumi.dynamic.ResourceProvider<Inputs, AirecInstanceState> = {
  async check(_olds, news) {
    return checkResult(news, airecSpecProblems(news));
  },
  async diff(_id, olds, news) {
    const replaces = replacedProperties(olds, news);
    // The id is an input only when adopting; a bought instance's id is an output.
    const compared = ["region", "mode", "scenes", "purchase", ...(news.mode === "adopt" ? ["instanceId"] : [])];
    const changed = changedKeys(olds, news, compared);
    return { changes: replaces.length > 0 || changed.length > 0, replaces, deleteBeforeReplace: false };
  },
  async create(inputs) {
    const setup = await setUpAirec(inputs, { progress });
    return {
      id: setup.instanceId,
      outs: { ...inputs, ...setup, endpoint: airecVpcEndpoint(inputs.region) },
    };
  },
  async read(id, props) {
    const state = props as AirecInstanceState;
    const { status } = await describeInstance(state.region, id);
    return { id, props: { ...state, status } };
  },
  async update(id, olds, news) {
    if (JSON.stringify(olds.purchase) !== JSON.stringify(news.purchase) && olds.mode === "create") {
      progress(
        `AIRec instance ${id}: purchase settings apply only when buying; change its quota in the AIRec console (UpgradeInstance/DowngradeInstance)`,
      );
    }
    const setup = await setUpAirec({ ...news, mode: "adopt", instanceId: id }, { progress });
    return { outs: { ...news, ...setup, endpoint: airecVpcEndpoint(news.region) } };
  },
  async delete(id, props) {
    progress(
      props.mode === "create"
        ? `AIRec instance ${id} is left in place: prepaid instances cannot be released through the API; it lapses at expiry (${props.status}) or is released in the AIRec console`
        : `AIRec instance ${id} was adopted and is left as it is, scenes included`,
    );
  },
};

export interface AirecInstanceArgs {
  readonly region: pulumi.Input<string>;
  readonly mode: pulumi.Input<"adopt" | "create">;
  readonly instanceId?: pulumi.Input<string>;
  readonly purchase?: pulumi.Input<AirecPurchase>;
  readonly scenes: pulumi.Input<pulumi.Input<string>[]>;
}

export class AirecInstance extends pulumi.dynamic.Resource {
  declare readonly instanceId: pulumi.Output<string>;
  declare readonly status: pulumi.Output<string>;
  declare readonly sceneIds: pulumi.Output<string[]>;
  declare readonly dataSources: pulumi.Output<DataSourceInfo[]>;
  declare readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: AirecInstanceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      airecInstanceProvider,
      name,
      {
        ...args,
        status: undefined,
        sceneIds: undefined,
        dataSources: undefined,
        endpoint: undefined,
        ...(args.instanceId ? {} : { instanceId: undefined }),
      },
      opts,
      "backbone-airec",
      "Instance",
    );
  }
}
