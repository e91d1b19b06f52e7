import { createHash } from "node:crypto";
import OpenApiUtil from "@alicloud/openapi-util";
import { listen, readBody, sendJson } from "@search-backbone/test-engines";

/**
 * AIRec 2020-11-26 (ROA): Recommend and PushDocument on the behavior table. Every request must carry
 * a valid ACS3-HMAC-SHA256 signature: the fake recomputes it from the request it received with the
 * official @alicloud/openapi-util and the secret it knows, and refuses a mismatch with 403
 * SignatureDoesNotMatch. PushDocument limits (800 rows, 1 MB) and the required behavior fields are
 * checked, and so is AIRec's start condition: clicks never outnumber exposures.
 */
export interface AirecFakeOptions {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly instanceId: string;
  recommend: (userId: string) => { itemId: string; itemType: string; traceId: string }[];
}

export async function startAirec(options: AirecFakeOptions) {
  const state = {
    down: false,
    recommendCalls: 0,
    pushCalls: 0,
    rows: [] as { cmd: string; fields: Record<string, string> }[],
    refused: [] as string[],
    clicksExceededExposures: false,
  };
  const base = `/v2/openapi/instances/${options.instanceId}`;
  const refuse = (res: any, status: number, code: string, message: string) => {
    state.refused.push(`${code}: ${message}`);
    sendJson(res, status, { requestId: "fake", code, message });
  };
  const fake = await listen(async (req, res) => {
    const body = await readBody(req);
    if (state.down)
      return sendJson(res, 503, { requestId: "fake", code: "ServiceUnavailable", message: "down for the test" });
    const url = new URL(req.url ?? "/", "http://fake");
    const auth = String(req.headers.authorization ?? "");
    const match = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$/.exec(auth);
    if (!match) return refuse(res, 401, "MissingAuthorization", "no ACS3-HMAC-SHA256 Authorization header");
    if (match[1] !== options.accessKeyId) return refuse(res, 403, "InvalidAccessKeyId.NotFound", "unknown access key");
    const payloadHash = createHash("sha256").update(body).digest("hex");
    if (req.headers["x-acs-content-sha256"] !== payloadHash)
      return refuse(res, 403, "SignatureDoesNotMatch", "payload hash");
    const headers: Record<string, string> = {};
    for (const name of match[2]!.split(";")) headers[name] = String(req.headers[name] ?? "");
    const expected = OpenApiUtil.getAuthorization(
      { pathname: url.pathname, method: req.method, query: Object.fromEntries(url.searchParams), headers } as any,
      "ACS3-HMAC-SHA256",
      payloadHash,
      options.accessKeyId,
      options.accessKeySecret,
    );
    if (expected !== auth) return refuse(res, 403, "SignatureDoesNotMatch", "the signature does not match");
    if (req.headers["x-acs-version"] !== "2020-11-26") return refuse(res, 400, "InvalidVersion", "expected 2020-11-26");

    if (req.method === "GET" && url.pathname === `${base}/actions/recommend`) {
      const userId = url.searchParams.get("userId");
      const count = Number(url.searchParams.get("returnCount"));
      if (!userId || !(count >= 0 && count <= 50))
        return refuse(res, 400, "InvalidParameter", "userId and returnCount (0-50) are required");
      state.recommendCalls++;
      return sendJson(res, 200, {
        requestId: "fake",
        code: "Success",
        result: options.recommend(userId).slice(0, count),
      });
    }
    if (req.method === "POST" && url.pathname === `${base}/tables/behavior/actions/bulk`) {
      const rows = JSON.parse(body.toString("utf8"));
      if (!Array.isArray(rows) || rows.length === 0)
        return refuse(res, 400, "InvalidParameter", "body must be a non-empty array");
      if (rows.length > 800) return refuse(res, 400, "TooManyDocuments", `${rows.length} > 800 rows`);
      if (body.length > 1024 * 1024) return refuse(res, 400, "RequestTooLarge", `${body.length} bytes > 1 MB`);
      for (const row of rows) {
        for (const f of ["user_id", "item_id", "item_type", "bhv_type", "trace_id", "bhv_time"]) {
          if (row?.cmd !== "add" || typeof row?.fields?.[f] !== "string" || !row.fields[f])
            return refuse(res, 400, "InvalidParameter", `behavior row without ${f}`);
        }
      }
      state.pushCalls++;
      state.rows.push(...rows);
      const count = (type: string) => state.rows.filter((r) => r.fields.bhv_type === type).length;
      if (count("click") > count("expose")) state.clicksExceededExposures = true;
      return sendJson(res, 200, { requestId: "fake", code: "Success", result: true });
    }
    return refuse(res, 404, "NotFound", `no route ${req.method} ${url.pathname}`);
  });
  return { ...fake, state, endpoint: fake.url.replace("http://", "") };
}
