import Credential, { Config as CredentialConfig } from "@alicloud/credentials";
import type { Env } from "./config";

/**
 * Alibaba Cloud credentials for AIRec signing and the OSS event log, through the official
 * `@alicloud/credentials`:
 * - in ACK, RRSA: ack-pod-identity-webhook injects ALIBABA_CLOUD_ROLE_ARN,
 *   ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE
 *   (https://www.alibabacloud.com/help/en/cs/user-guide/ack-pod-identity-webhook); the package
 *   exchanges the projected token for STS credentials (AssumeRoleWithOIDC), re-reads the token file
 *   and refreshes them before they expire. No AccessKey lives in the cluster. The STS endpoint
 *   follows ALIBABA_CLOUD_STS_REGION / ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED, which the webhook also sets.
 * - locally, an AccessKey pair (optionally with an STS token) from ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET.
 * - neither: the package's default chain (CLI profile, ECS RAM role, credentials URI).
 * Built from the validated configuration (not straight from process.env) so tests can choose.
 */
export type CloudCredentialSource = "access_key" | "sts" | "oidc_role_arn" | "default_chain";

export function credentialSource(env: Env): CloudCredentialSource {
  if (env.ALIBABA_CLOUD_ACCESS_KEY_ID) return env.ALIBABA_CLOUD_SECURITY_TOKEN ? "sts" : "access_key";
  if (env.ALIBABA_CLOUD_ROLE_ARN) return "oidc_role_arn";
  return "default_chain";
}

export function cloudCredential(env: Env): Credential {
  const source = credentialSource(env);
  if (source === "default_chain") return new Credential();
  if (source === "oidc_role_arn")
    return new Credential(
      new CredentialConfig({
        type: "oidc_role_arn",
        roleArn: env.ALIBABA_CLOUD_ROLE_ARN,
        oidcProviderArn: env.ALIBABA_CLOUD_OIDC_PROVIDER_ARN as string,
        oidcTokenFilePath: env.ALIBABA_CLOUD_OIDC_TOKEN_FILE as string,
        roleSessionName: env.ALIBABA_CLOUD_ROLE_SESSION_NAME ?? "search-backbone-orchestrator",
      }),
    );
  return new Credential(
    new CredentialConfig({
      type: source,
      accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID,
      accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
      ...(source === "sts" ? { securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN } : {}),
    }),
  );
}
