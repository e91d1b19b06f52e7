import { resourceRule } from "../define";
import { TYPES } from "../types";

/**
 * PAI-EAS services (alicloud.pai.Service) are reached from the stack's VPC only. The rules read the
 * service's `serviceConfig` JSON as components/eas renders it: `cloud.networking` with the VPC,
 * vSwitch and security group, and `networking.disable_internet_endpoint: true` (both key names
 * inferred from EAS's JSON reference, https://www.alibabacloud.com/help/en/pai/user-guide/parameters-of-model-services).
 * A config still unknown (preview before the network exists) is checked at `pulumi up`.
 */
function serviceConfig(props: Record<string, any>): Record<string, any> | string | undefined {
  const text = props.serviceConfig;
  if (typeof text !== "string") return undefined;
  try {
    return JSON.parse(text) as Record<string, any>;
  } catch {
    return `serviceConfig is not JSON: ${text.slice(0, 80)}`;
  }
}

const nameOf = (config: Record<string, any>, fallback: string) => String(config.metadata?.name ?? fallback);

export const easVpcOnly = resourceRule(
  {
    name: "eas-vpc-only",
    description: "EAS services join the stack's VPC: cloud.networking names a VPC, a vSwitch and a security group.",
    enforcementLevel: "mandatory",
  },
  ({ type, name, props }, _facts, report) => {
    if (type !== TYPES.easService) return;
    const config = serviceConfig(props);
    if (config === undefined) return;
    if (typeof config === "string") return report(`EAS service ${name}: ${config}`);
    const networking = config.cloud?.networking ?? {};
    const missing = ["vpc_id", "vswitch_id", "security_group_id"].filter((key) => !networking[key]);
    if (missing.length > 0)
      report(
        `EAS service ${nameOf(config, name)} has no cloud.networking.${missing.join(", ")}; expected the stack's VPC, vSwitch and security group`,
      );
  },
);

export const easNoPublicEndpoint = resourceRule(
  {
    name: "eas-no-public-endpoint",
    description: "EAS services have no internet endpoint: networking.disable_internet_endpoint is true.",
    enforcementLevel: "mandatory",
  },
  ({ type, name, props }, _facts, report) => {
    if (type !== TYPES.easService) return;
    const config = serviceConfig(props);
    if (config === undefined || typeof config === "string") return;
    const value = config.networking?.disable_internet_endpoint;
    if (value !== true)
      report(
        `EAS service ${nameOf(config, name)} has networking.disable_internet_endpoint ${JSON.stringify(value)}; expected true (no public endpoint)`,
      );
  },
);
