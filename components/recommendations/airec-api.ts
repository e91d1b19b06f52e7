import { type Progress, type ProviderContext, resolveContext } from "../alibaba-api/context";
import { isNotFound, partialCreateFailure } from "../alibaba-api/failure";
import { accessKeyFromEnv, endpointFromEnv, type RoaCaller, roaClient } from "../alibaba-api/openapi";

/**
 * AIRec (Artificial Intelligence Recommendation) 2020-11-26: ROA, JSON, AK-signed through the
 * official @alicloud/openapi-client (components/alibaba-api/openapi.ts). Method and path of every
 * action below are those of the official generated client (aliyun/alibabacloud-typescript-sdk,
 * airec-20201126/src/client.ts: `protocol HTTPS, authType AK, style ROA, bodyType json`) and the
 * API pages:
 *   DescribeInstance GET  /v2/openapi/instances/{instanceId}   → {result:{instanceId, regionId, status: Initializing|Ready|Running, chargeType, expiredTime, …}}
 *     https://www.alibabacloud.com/help/en/airec/airec/developer-reference/api-airec-2020-11-26-describeinstance
 *   CreateInstance   POST /v2/openapi/instances                 body {type, chargeType, quota:{userCount, itemCount, qps}, paymentInfo:{duration, pricingCycle, autoRenew}} → {result:{instanceId}}
 *     https://www.alibabacloud.com/help/en/airec/airec/developer-reference/api-airec-2020-11-26-createinstance
 *     [C resolved] the Chinese page says chargeType PREPAY and quota userCountPerUnit/itemCountPerUnit, in text
 *     identical to OpenSearch's CreateInstance; the English page, the request-syntax example
 *     (https://www.alibabacloud.com/help/doc-detail/99258.htm) and DescribeInstance/ModifyInstance answers
 *     (help.aliyun.com/document_detail/99270.html) all say "PrePaid" and userCount/itemCount, so those are sent.
 *     Post-paid is "not supported" on both pages.
 *   ListScenes       GET  /v2/openapi/instances/{instanceId}/scenes?page&size → {result:[{sceneId, status}]}
 *   CreateScene      POST /v2/openapi/instances/{instanceId}/scenes?dryRun=false body {sceneId, sceneMeta:{sceneName, description}}
 *     https://www.alibabacloud.com/help/en/airec/airec/developer-reference/api-airec-2020-11-26-createscene
 *     (the body is the page's request example [I: the generated client sends none]; the page recommends the
 *     console's scene builder over the API, so scenes created here are plain ids to tag items and calls with).
 *   ListDataSource   GET  /v2/openapi/instances/{instanceId}/dataSources → {result:[{tableName, meta:{type, projectName, tableName, …}}]}
 * Data tables: every instance has the user, item and behavior tables; PushDocument
 * (POST …/tables/{user|item|behavior}/actions/bulk) writes to them once the instance runs, with no
 * per-table setup ("Push data", https://www.alibabacloud.com/help/doc-detail/101482.htm). The offline
 * data sources that start an instance are MaxCompute tables only ("Only MaxCompute is supported",
 * ModifyDataSource, https://www.alibabacloud.com/help/en/airec/airec/developer-reference/api-airec-2020-11-26-modifydatasource)
 * and carry an account AccessKey; this resource reports them and leaves their set-up (and RunInstance)
 * to the console.
 * Endpoints: public airec.<region>.aliyuncs.com, VPC airec-vpc.<region>.aliyuncs.com in cn-beijing,
 * cn-hangzhou, cn-shenzhen and ap-southeast-1 (https://www.alibabacloud.com/help/doc-detail/99252.htm).
 * Errors: {RequestId, Code, Message}, e.g. Code "InstanceNotFound" for an unknown id
 * (https://www.alibabacloud.com/help/doc-detail/99260.htm). A prepaid instance cannot be released by API
 * (error ReleasePrepaidInstancePermissionDenied, https://www.alibabacloud.com/help/en/airec/airec/developer-reference/error-codes).
 * BACKBONE_AIREC_ENDPOINT (e.g. http://127.0.0.1:8080) points the calls at a local fake.
 */

export const AIREC_VERSION = "2020-11-26";

/** Regions with a documented VPC endpoint; the orchestrator reaches AIRec only over the VPC. */
export const AIREC_REGIONS = ["cn-beijing", "cn-hangzhou", "cn-shenzhen", "ap-southeast-1"] as const;

export const AIREC_EDITIONS = ["Algorithm Configuration Edition", "Industry Operation Edition"] as const;

/** The tables PushDocument writes to. */
export const AIREC_TABLES = ["user", "item", "behavior"] as const;

export const INSTANCE_ID = /^airec-[a-z0-9-]{4,60}$/;
export const SCENE_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const PAYMENT_DURATIONS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12] as const;

/** VPC endpoint host the orchestrator calls. */
export const airecVpcEndpoint = (region: string): string => `airec-vpc.${region}.aliyuncs.com`;

export interface AirecPurchase {
  readonly edition: (typeof AIREC_EDITIONS)[number];
  readonly quota: { readonly userCount: number; readonly itemCount: number; readonly qps: number };
  readonly payment: { readonly duration: number; readonly pricingCycle: "Month" | "Year"; readonly autoRenew: boolean };
}

export interface AirecSpec {
  readonly region: string;
  /** adopt: an instance bought elsewhere, by id. create: buy one (prepaid). */
  readonly mode: "adopt" | "create";
  readonly instanceId?: string;
  readonly purchase?: AirecPurchase;
  readonly scenes: readonly string[];
}

export interface DataSourceInfo {
  readonly table: string;
  readonly type: string;
}

export interface AirecSetup {
  readonly instanceId: string;
  readonly status: string;
  readonly sceneIds: string[];
  readonly createdScenes: string[];
  readonly dataSources: DataSourceInfo[];
}

/** AIRec polls nothing, so of the provider context it uses the environment and the progress lines. */
export type AirecContext = Pick<ProviderContext, "env" | "progress">;

/** Every problem with a spec, each naming the field, the value and what was expected. */
export function airecSpecProblems(spec: Partial<AirecSpec>): string[] {
  const problems: string[] = [];
  const got = (value: unknown) => `got ${JSON.stringify(value)}`;
  if (!(AIREC_REGIONS as readonly string[]).includes(String(spec.region)))
    problems.push(
      `region: expected a region with an AIRec VPC endpoint (${AIREC_REGIONS.join(", ")}), ${got(spec.region)}`,
    );
  if (spec.mode !== "adopt" && spec.mode !== "create")
    problems.push(`mode: expected "adopt" or "create", ${got(spec.mode)}`);
  if (spec.mode === "adopt" && !INSTANCE_ID.test(String(spec.instanceId)))
    problems.push(`instanceId: expected an AIRec instance id like airec-cn-o400whm78004, ${got(spec.instanceId)}`);
  if (spec.mode === "create") problems.push(...purchaseProblems(spec.purchase));
  if (!Array.isArray(spec.scenes) || spec.scenes.length === 0)
    problems.push(`scenes: expected at least one scene id, ${got(spec.scenes)}`);
  else
    spec.scenes.forEach((scene, i) => {
      if (!SCENE_ID.test(String(scene)))
        problems.push(`scenes[${i}]: expected 1-64 letters, digits, _ or -, ${got(scene)}`);
    });
  return problems;
}

function purchaseProblems(purchase: AirecPurchase | undefined): string[] {
  if (!purchase) return ["purchase: expected the edition, quota and payment of the instance to buy, got nothing"];
  const problems: string[] = [];
  if (!(AIREC_EDITIONS as readonly string[]).includes(purchase.edition))
    problems.push(
      `purchase.edition: expected one of ${AIREC_EDITIONS.join(", ")}, got ${JSON.stringify(purchase.edition)}`,
    );
  for (const key of ["userCount", "itemCount", "qps"] as const) {
    const value = purchase.quota?.[key];
    if (!Number.isInteger(value) || (value as number) < 1)
      problems.push(`purchase.quota.${key}: expected a whole number >= 1, got ${JSON.stringify(value)}`);
  }
  if (!(PAYMENT_DURATIONS as readonly number[]).includes(purchase.payment?.duration))
    problems.push(
      `purchase.payment.duration: expected one of ${PAYMENT_DURATIONS.join(", ")}, got ${JSON.stringify(purchase.payment?.duration)}`,
    );
  if (purchase.payment?.pricingCycle !== "Month" && purchase.payment?.pricingCycle !== "Year")
    problems.push(
      `purchase.payment.pricingCycle: expected "Month" or "Year", got ${JSON.stringify(purchase.payment?.pricingCycle)}`,
    );
  return problems;
}

/** The CreateInstance body (prepaid: AIRec sells nothing else). */
export function createInstanceBody(purchase: AirecPurchase): Record<string, unknown> {
  return {
    type: purchase.edition,
    chargeType: "PrePaid",
    quota: { userCount: purchase.quota.userCount, itemCount: purchase.quota.itemCount, qps: purchase.quota.qps },
    paymentInfo: {
      duration: purchase.payment.duration,
      pricingCycle: purchase.payment.pricingCycle,
      autoRenew: purchase.payment.autoRenew,
    },
  };
}

function airec(region: string, ctx: AirecContext): RoaCaller {
  const env = resolveContext(ctx).env;
  return roaClient({
    endpoint: endpointFromEnv(env, "BACKBONE_AIREC_ENDPOINT", `https://airec.${region}.aliyuncs.com`),
    version: AIREC_VERSION,
    auth: { type: "AK", credentials: accessKeyFromEnv(env) },
  });
}

const instancePath = (instanceId: string) => `/v2/openapi/instances/${encodeURIComponent(instanceId)}`;

/** The instance, checked to exist in `region`; a clear error naming the id otherwise. */
export async function describeInstance(region: string, instanceId: string, ctx: AirecContext = {}) {
  let answer: Record<string, any>;
  try {
    answer = await airec(region, ctx)("DescribeInstance", "GET", instancePath(instanceId));
  } catch (err) {
    if (isNotFound(err, "InstanceNotFound")) {
      const { code, statusCode } = err as { code?: string; statusCode?: number };
      throw new Error(
        `instanceId: AIRec has no instance ${JSON.stringify(instanceId)} in ${region} (${code ?? `HTTP ${statusCode}`}); expected the id of an instance bought in ${region}, as the AIRec console lists it`,
      );
    }
    throw err;
  }
  const result = answer.result ?? {};
  const actualRegion = result.regionId;
  if (typeof actualRegion === "string" && actualRegion !== region) {
    throw new Error(
      `instanceId: AIRec instance ${JSON.stringify(instanceId)} is in ${actualRegion}, but the stack's region is ${region}; expected an instance of ${region}`,
    );
  }
  return { instanceId: String(result.instanceId ?? instanceId), status: String(result.status ?? "Unknown") };
}

export async function createInstance(region: string, purchase: AirecPurchase, ctx: AirecContext = {}) {
  const answer = await airec(region, ctx)("CreateInstance", "POST", "/v2/openapi/instances", {
    body: createInstanceBody(purchase),
  });
  const instanceId = answer.result?.instanceId;
  if (typeof instanceId !== "string" || instanceId === "")
    throw new Error(`CreateInstance answered without result.instanceId: ${JSON.stringify(answer).slice(0, 300)}`);
  return instanceId;
}

const PAGE_SIZE = 50;

export async function listScenes(region: string, instanceId: string, ctx: AirecContext = {}): Promise<string[]> {
  const call = airec(region, ctx);
  const ids: string[] = [];
  for (let page = 1; page <= 100; page++) {
    const answer = await call("ListScenes", "GET", `${instancePath(instanceId)}/scenes`, {
      query: { page: String(page), size: String(PAGE_SIZE) },
    });
    const result: any[] = Array.isArray(answer.result) ? answer.result : [];
    ids.push(...result.map((scene) => String(scene.sceneId)));
    if (result.length < PAGE_SIZE) break;
  }
  return ids;
}

/** Creates the scenes the instance lacks; existing ones are left as they are. Returns those created. */
export async function ensureScenes(
  region: string,
  instanceId: string,
  scenes: readonly string[],
  ctx: AirecContext = {},
): Promise<string[]> {
  const existing = new Set(await listScenes(region, instanceId, ctx));
  const missing = scenes.filter((scene) => !existing.has(scene));
  const call = airec(region, ctx);
  for (const sceneId of missing) {
    await call("CreateScene", "POST", `${instancePath(instanceId)}/scenes`, {
      query: { dryRun: "false" },
      body: { sceneId, sceneMeta: { sceneName: sceneId, description: "search-backbone recommendations" } },
    });
  }
  return missing;
}

export async function listDataSources(region: string, instanceId: string, ctx: AirecContext = {}) {
  const answer = await airec(region, ctx)("ListDataSource", "GET", `${instancePath(instanceId)}/dataSources`);
  const result: any[] = Array.isArray(answer.result) ? answer.result : [];
  return result.map((source) => ({ table: String(source.tableName), type: String(source.meta?.type ?? "unknown") }));
}

/**
 * Adopts (checks) or buys the instance, then sets up its scenes and reports its data sources.
 * A bought instance is recorded even when a later step fails (see setupFailed), so it is never lost.
 */
export async function setUpAirec(spec: AirecSpec, ctx: AirecContext = {}): Promise<AirecSetup> {
  const { progress } = resolveContext(ctx);
  let instanceId: string;
  if (spec.mode === "adopt") {
    instanceId = spec.instanceId as string;
  } else {
    instanceId = await createInstance(spec.region, spec.purchase as AirecPurchase, ctx);
    progress(
      `AIRec instance ${instanceId}: bought (prepaid, ${spec.purchase?.payment.duration} ${spec.purchase?.payment.pricingCycle}); AIRec cannot release prepaid instances by API, so destroy will leave it`,
    );
  }
  try {
    return await configure(spec, instanceId, ctx, progress);
  } catch (err) {
    if (spec.mode === "create") throw setupFailed((err as Error).message, spec, instanceId);
    throw err;
  }
}

async function configure(spec: AirecSpec, instanceId: string, ctx: AirecContext, progress: Progress) {
  const { status } = await describeInstance(spec.region, instanceId, ctx);
  const createdScenes = await ensureScenes(spec.region, instanceId, spec.scenes, ctx);
  const dataSources = await listDataSources(spec.region, instanceId, ctx);
  progress(
    `AIRec instance ${instanceId} (${status}): scenes ${spec.scenes.join(", ")}${createdScenes.length ? ` (created ${createdScenes.join(", ")})` : ""}; data sources ${dataSources.map((s) => `${s.table}:${s.type}`).join(", ") || "none"}`,
  );
  if (status !== "Running") {
    progress(
      `AIRec instance ${instanceId} is ${status}: PushDocument is accepted once it runs; its initial MaxCompute import and start are done in the AIRec console`,
    );
  }
  return { instanceId, status, sceneIds: [...spec.scenes], createdScenes, dataSources };
}

/** The engine records the bought instance (so it stays in state) yet reports the create as failed. */
function setupFailed(message: string, spec: AirecSpec, instanceId: string): Error {
  return partialCreateFailure(message, instanceId, {
    ...spec,
    instanceId,
    status: "Unknown",
    sceneIds: [],
    dataSources: [],
  });
}
