/**
 * Trust policies (who may assume a role), rendered by pure functions.
 *
 * Shapes verified:
 *  - Service principal: `{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}`
 *    (RAM user guide "Modify the trust policy of a RAM role", alibabacloud.com/help/…/edit-the-trust-policy-of-a-ram-role).
 *  - RRSA: Action `sts:AssumeRole`, Principal `{"Federated":[<oidc provider ARN>]}`, Condition StringEquals on
 *    `oidc:aud` = `sts.aliyuncs.com`, `oidc:iss` = the cluster's issuer URL and `oidc:sub` =
 *    `system:serviceaccount:<ns>:<sa>`; the provider ARN looks like `acs:ram::<uid>:oidc-provider/ack-rrsa-<clusterId>`
 *    (ACK doc "Use RRSA to authorize pods", alibabacloud.com/help/doc-detail/356611.html and its ACR
 *    credential-helper example; AliyunContainerService/ack-ram-tool pkg/types/ram.go
 *    MakeAssumeRolePolicyStatementWithServiceAccount).
 *  - PAI: DLC jobs assume a custom "instance RAM role" whose trusted entity is the PAI service
 *    (alibabacloud.com/help/en/pai/user-guide/configure-the-dlc-ram-role). The principal name
 *    `pai.aliyuncs.com` is [I]: not shown in the stored Alibaba pages; a public project that runs DLC
 *    jobs with a custom role records its live trust as exactly ["pai.aliyuncs.com"]. Confirm in the
 *    console ("Create role → Alibaba Cloud service → Platform for AI") before prod; it is a parameter.
 */

export interface TrustStatement {
  readonly Action: "sts:AssumeRole";
  readonly Effect: "Allow";
  readonly Principal: { readonly Service: readonly string[] } | { readonly Federated: readonly string[] };
  readonly Condition?: { readonly StringEquals: Record<string, string> };
}

export interface TrustPolicy {
  readonly Version: "1";
  readonly Statement: readonly TrustStatement[];
}

export const ECS_SERVICE = "ecs.aliyuncs.com";
export const PAI_SERVICE = "pai.aliyuncs.com";
export const RRSA_AUDIENCE = "sts.aliyuncs.com";

const SERVICE = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.aliyuncs\.com$/;
const OIDC_PROVIDER_ARN = /^acs:ram::\d+:oidc-provider\/[A-Za-z0-9._-]+$/;
const K8S_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function serviceTrustPolicy(service: string): TrustPolicy {
  if (!SERVICE.test(service))
    throw new Error(`trust: ${JSON.stringify(service)} is not an Alibaba Cloud service principal`);
  return {
    Version: "1",
    Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: [service] } }],
  };
}

export const ecsTrustPolicy = (): TrustPolicy => serviceTrustPolicy(ECS_SERVICE);

export const paiTrustPolicy = (service: string = PAI_SERVICE): TrustPolicy => serviceTrustPolicy(service);

export interface RrsaTrust {
  readonly oidcProviderArn: string;
  readonly issuerUrl: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** One service account in one namespace of one cluster; no wildcards (StringEquals only). */
export function rrsaTrustPolicy(trust: RrsaTrust): TrustPolicy {
  const problems = [
    OIDC_PROVIDER_ARN.test(trust.oidcProviderArn)
      ? undefined
      : `oidcProviderArn ${JSON.stringify(trust.oidcProviderArn)}`,
    /^https:\/\/[^\s*?#]+$/.test(trust.issuerUrl) ? undefined : `issuerUrl ${JSON.stringify(trust.issuerUrl)}`,
    K8S_NAME.test(trust.namespace) ? undefined : `namespace ${JSON.stringify(trust.namespace)}`,
    K8S_NAME.test(trust.serviceAccount) ? undefined : `serviceAccount ${JSON.stringify(trust.serviceAccount)}`,
  ].filter((p) => p !== undefined);
  if (problems.length > 0) throw new Error(`RRSA trust: invalid ${problems.join(", ")}`);
  return {
    Version: "1",
    Statement: [
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { Federated: [trust.oidcProviderArn] },
        Condition: {
          StringEquals: {
            "oidc:aud": RRSA_AUDIENCE,
            "oidc:iss": trust.issuerUrl,
            "oidc:sub": `system:serviceaccount:${trust.namespace}:${trust.serviceAccount}`,
          },
        },
      },
    ],
  };
}
