/**
 * The one way dynamic providers reach Alibaba Cloud APIs that @pulumi/alicloud lacks: the official
 * generic client `@alicloud/openapi-client` (0.4.15) and its `callApi`, which signs AK requests with
 * ACS3-HMAC-SHA256 (`Authorization`, `x-acs-date`, `x-acs-signature-nonce`, `x-acs-content-sha256`,
 * `x-acs-action`, `x-acs-version`) and turns 4xx/5xx answers into errors carrying the service's
 * `Code` and `Message` (read in the package's dist/client.js `doRequest`).
 *
 * Every function here is self-contained and loads modules with require() at call time: dynamic
 * providers are serialized by value, and vitest rewrites import(), which the serializer cannot capture.
 */

export interface AccessKey {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
}

/**
 * Credentials from the standard environment variables: ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET/
 * ALIBABA_CLOUD_SECURITY_TOKEN (the SDKs' names), else ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY/
 * ALICLOUD_SECURITY_TOKEN (the Pulumi and Terraform providers' names). Never resource inputs.
 */
export function accessKeyFromEnv(env: Record<string, string | undefined> = process.env): AccessKey {
  const id = env.ALIBABA_CLOUD_ACCESS_KEY_ID || env.ALICLOUD_ACCESS_KEY;
  const secret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET || env.ALICLOUD_SECRET_KEY;
  const token = env.ALIBABA_CLOUD_SECURITY_TOKEN || env.ALICLOUD_SECURITY_TOKEN;
  if (!id || !secret) {
    throw new Error(
      "no Alibaba Cloud credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (or ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY) in the environment of `pulumi up`",
    );
  }
  return { accessKeyId: id, accessKeySecret: secret, ...(token ? { securityToken: token } : {}) };
}

export interface Endpoint {
  readonly protocol: "http" | "https";
  /** Host[:port], as the client puts it in the Host header. */
  readonly host: string;
}

/** "https://pai-dlc.cn-hangzhou.aliyuncs.com" or a bare host (HTTPS) to an Endpoint. */
export function parseEndpoint(text: string): Endpoint {
  const match = /^(?:(https?):\/\/)?([A-Za-z0-9.-]+(?::\d{1,5})?)\/?$/.exec(text.trim());
  if (!match) throw new Error(`expected an endpoint like https://host[:port], got ${JSON.stringify(text)}`);
  return { protocol: (match[1] as "http" | "https" | undefined) ?? "https", host: match[2] as string };
}

/** The endpoint `variable` names in the environment (a local fake), else the service's own. */
export function endpointFromEnv(env: Record<string, string | undefined>, variable: string, fallback: string): Endpoint {
  return parseEndpoint(env[variable] || fallback);
}

export interface ApiCall {
  readonly endpoint: Endpoint;
  /** The API name, e.g. "CreateJob"; sent as x-acs-action and used in error messages. */
  readonly action: string;
  /** The product's API version, e.g. "2020-12-03"; sent as x-acs-version. */
  readonly version: string;
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path with every variable part already percent-encoded. */
  readonly pathname: string;
  readonly query?: Record<string, string>;
  readonly body?: Record<string, unknown>;
  /** "AK": signed with `credentials`. "Anonymous": unsigned, for APIs that take their own header (DashScope's Bearer key). */
  readonly auth: { readonly type: "AK"; readonly credentials: AccessKey } | { readonly type: "Anonymous" };
  readonly headers?: Record<string, string>;
}

export interface ApiError extends Error {
  /** The service's error code, e.g. "QuotaExceeded" or "InvalidApiKey". */
  readonly code?: string;
  readonly statusCode?: number;
}

/** ROA call with a JSON body and a JSON answer (the style of PAI DLC, AIWorkSpace and DashScope). */
export async function callRoaJson(call: ApiCall): Promise<Record<string, any>> {
  const OpenApi = require("@alicloud/openapi-client");
  const Util = require("@alicloud/tea-util");
  const client = new OpenApi.default(
    new OpenApi.Config({
      endpoint: call.endpoint.host,
      protocol: call.endpoint.protocol,
      ...(call.auth.type === "AK" ? call.auth.credentials : {}),
      readTimeout: 30_000,
      connectTimeout: 10_000,
    }),
  );
  const params = new OpenApi.Params({
    action: call.action,
    version: call.version,
    protocol: call.endpoint.protocol.toUpperCase(),
    pathname: call.pathname,
    method: call.method,
    authType: call.auth.type,
    style: "ROA",
    reqBodyType: "json",
    bodyType: "json",
  });
  const request = new OpenApi.OpenApiRequest({
    ...(call.headers ? { headers: call.headers } : {}),
    ...(call.query ? { query: call.query } : {}),
    ...(call.body ? { body: call.body } : {}),
  });
  try {
    const response = await client.callApi(params, request, new Util.RuntimeOptions({ autoretry: false }));
    return (response?.body ?? {}) as Record<string, any>;
  } catch (raw) {
    const err = raw as { code?: string; message?: string; data?: Record<string, any> };
    const statusCode = Number(err.data?.statusCode) || undefined;
    const message = err.data?.Message ?? err.data?.message ?? err.message ?? String(raw);
    const wrapped = new Error(
      `${call.action} failed${statusCode ? ` (HTTP ${statusCode}` : " ("}${err.code ? `${statusCode ? ", " : ""}${err.code}` : ""}): ${message}`,
    ) as Error & { code?: string; statusCode?: number };
    wrapped.code = err.code;
    wrapped.statusCode = statusCode;
    throw wrapped;
  }
}

/** What changes from one call of a product's API to the next. */
export interface RoaRequest {
  readonly body?: Record<string, unknown>;
  readonly query?: Record<string, string>;
}

export type RoaCaller = (
  action: string,
  method: ApiCall["method"],
  pathname: string,
  request?: RoaRequest,
) => Promise<Record<string, any>>;

/** A caller bound to one product's endpoint, API version and authentication. */
export function roaClient(base: Pick<ApiCall, "endpoint" | "version" | "auth" | "headers">): RoaCaller {
  return (action, method, pathname, request = {}) => callRoaJson({ ...base, action, method, pathname, ...request });
}
