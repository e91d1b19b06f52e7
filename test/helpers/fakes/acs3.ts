import { createHash } from "node:crypto";
import OpenApiUtil from "@alicloud/openapi-util";
import type { SeenRequest } from "./http-fake";

/** The one access key the AK-signed fakes know; a request signed with anything else is refused. */
export const FAKE_AK = { id: "fake-ak-id", secret: "fake-ak-secret" } as const;

/** Environment that points a provider at a fake (`variable` = its endpoint override) with FAKE_AK. */
export const akFakeEnv = (variable: string, endpoint: string): Record<string, string> => ({
  [variable]: endpoint,
  ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_AK.id,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: FAKE_AK.secret,
});

/**
 * What is wrong with a request's ACS3-HMAC-SHA256 signature, or undefined when it is valid: the
 * Authorization is recomputed from the request as received with the official @alicloud/openapi-util
 * and FAKE_AK's secret, as Alibaba Cloud does.
 */
export function signatureProblem(req: Omit<SeenRequest, "violations">): string | undefined {
  const auth = String(req.headers.authorization ?? "");
  const match = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(auth);
  if (!match) return `authorization is not an ACS3-HMAC-SHA256 signature: ${auth.slice(0, 60)}`;
  if (match[1] !== FAKE_AK.id) return `signed with access key ${match[1]}`;
  const payloadHash = createHash("sha256").update(req.raw).digest("hex");
  if (req.headers["x-acs-content-sha256"] !== payloadHash) return "x-acs-content-sha256 is not the body's hash";
  const headers: Record<string, string> = {};
  for (const name of (match[2] as string).split(";")) headers[name] = String(req.headers[name] ?? "");
  for (const required of ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce"]) {
    if (!(required in headers)) return `${required} is not signed`;
  }
  const expected = OpenApiUtil.getAuthorization(
    { pathname: req.path, method: req.method, query: req.query, headers } as any,
    "ACS3-HMAC-SHA256",
    payloadHash,
    FAKE_AK.id,
    FAKE_AK.secret,
  );
  return expected === auth ? undefined : "the signature does not match";
}
