import type Credential from "@alicloud/credentials";
import OpenApiClient, { Config as OpenApiConfig, OpenApiRequest, Params } from "@alicloud/openapi-client";
import { RuntimeOptions } from "@alicloud/tea-util";

/**
 * AIRec (API version 2020-11-26, ROA) through the official @alicloud/openapi-client, which signs
 * every request (ACS3-HMAC-SHA256 with the access key). No generated AIRec client is on the npm
 * registry this project uses, so calls go through the generic `callApi`.
 * Paths and fields: help.aliyun.com/document_detail/99278.html (Recommend) and
 * help.aliyun.com/zh/airec/airec/developer-reference/api-airec-2020-11-26-pushdocument.
 */

export interface AirecOptions {
  readonly endpoint: string;
  readonly protocol: "https" | "http";
  readonly instanceId: string;
  /** From `@alicloud/credentials` (RRSA in ACK, an AccessKey locally); the client signs with what it yields. */
  readonly credential: Credential;
  readonly timeoutMs: number;
}

export interface AirecItem {
  readonly itemId: string;
  readonly itemType: string;
  readonly traceId: string;
  readonly traceInfo?: string;
}

/** A behavior-table row: `{cmd, fields}`; rows are immutable once pushed. */
export interface BehaviorRow {
  readonly cmd: "add";
  readonly fields: Record<string, string>;
}

export class AirecClient {
  private readonly client: OpenApiClient;

  constructor(private readonly o: AirecOptions) {
    this.client = new OpenApiClient(
      new OpenApiConfig({
        credential: o.credential,
        endpoint: o.endpoint,
        protocol: o.protocol,
        regionId: "",
      }),
    );
  }

  private runtime(timeoutMs: number): RuntimeOptions {
    // Retries belong to the callers (telemetry backs off; recommendations fall back instead).
    return new RuntimeOptions({ autoretry: false, readTimeout: timeoutMs, connectTimeout: Math.min(timeoutMs, 1000) });
  }

  private params(action: string, pathname: string, method: string): Params {
    return new Params({
      action,
      version: "2020-11-26",
      protocol: this.o.protocol.toUpperCase(),
      pathname,
      method,
      authType: "AK",
      style: "ROA",
      reqBodyType: "json",
      bodyType: "json",
    });
  }

  async recommend(args: {
    userId: string;
    sceneId: string;
    count: number;
    items?: readonly { id: string; type: string }[];
    timeoutMs?: number;
  }): Promise<AirecItem[]> {
    const query: Record<string, string> = {
      userId: args.userId,
      returnCount: String(Math.min(50, Math.max(1, args.count))),
      sceneId: args.sceneId,
    };
    if (args.items?.length) query.items = args.items.map((i) => `${i.id}:${i.type}`).join(",");
    const response = await this.client.callApi(
      this.params(
        "Recommend",
        `/v2/openapi/instances/${encodeURIComponent(this.o.instanceId)}/actions/recommend`,
        "GET",
      ),
      new OpenApiRequest({ query }),
      this.runtime(args.timeoutMs ?? this.o.timeoutMs),
    );
    const body = response.body as { result?: any[]; code?: string; message?: string };
    if (!Array.isArray(body?.result))
      throw new Error(`AIRec Recommend answered without result: ${body?.code ?? ""} ${body?.message ?? ""}`);
    return body.result.map((r) => ({
      itemId: String(r.itemId),
      itemType: String(r.itemType ?? ""),
      traceId: String(r.traceId ?? ""),
      ...(r.traceInfo ? { traceInfo: String(r.traceInfo) } : {}),
    }));
  }

  /** PushDocument into the behavior table; callers keep each call within 800 rows and 1 MB. */
  async pushBehaviors(rows: readonly BehaviorRow[]): Promise<void> {
    const response = await this.client.callApi(
      this.params(
        "PushDocument",
        `/v2/openapi/instances/${encodeURIComponent(this.o.instanceId)}/tables/behavior/actions/bulk`,
        "POST",
      ),
      new OpenApiRequest({ body: rows }),
      this.runtime(Math.max(this.o.timeoutMs, 5000)),
    );
    const body = response.body as { result?: boolean; code?: string; message?: string };
    if (body?.result !== true)
      throw new Error(`AIRec PushDocument refused the batch: ${body?.code ?? ""} ${body?.message ?? ""}`);
  }
}

/** Trace ids of exposures AIRec did not produce are sent as "Alibaba" ([I] AIRec's rule for such rows; verify). */
export const NON_AIREC_TRACE_ID = "Alibaba";

/**
 * Event type -> AIRec bhv_type. expose and click are documented; a citation opened is a click on the
 * cited document; feedback maps to like/dislike ([I] those two names come from AIRec's industry
 * templates and should be checked against the instance's behavior schema).
 */
export function behaviorType(type: string, value?: string): string {
  if (type === "expose") return "expose";
  if (type === "click" || type === "citation_open") return "click";
  return value === "down" ? "dislike" : "like";
}
