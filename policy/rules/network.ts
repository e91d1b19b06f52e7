import { resourceRule } from "../define";
import { OPEN_CIDRS } from "../exposure";
import { TYPES } from "../types";

/** A security group rule's port span; "-1/-1" (or protocol all/icmp) means every port. */
export function portSpan(props: Record<string, any>): { from: number; to: number } {
  const [from, to] = String(props.portRange ?? "-1/-1")
    .split("/")
    .map(Number);
  if (props.ipProtocol === "all" || !(from !== undefined && from > 0) || !(to !== undefined && to > 0)) {
    return { from: 1, to: 65535 };
  }
  return { from, to };
}

export const sgNoOpenIngress = resourceRule(
  {
    name: "sg-no-open-ingress",
    description: "No security-group ingress from 0.0.0.0/0 except on ports the policy config declares public.",
    enforcementLevel: "mandatory",
  },
  ({ type, props }, facts, report) => {
    if (type !== TYPES.securityGroupRule || props.type !== "ingress" || props.policy === "drop") return;
    const source = OPEN_CIDRS.find((cidr) => cidr === props.cidrIp || cidr === props.ipv6CidrIp);
    if (!source) return;
    const { from, to } = portSpan(props);
    const closed =
      to - from > 1024 ||
      !Array.from({ length: to - from + 1 }, (_, i) => from + i).every((port) => facts.publicPorts.includes(port));
    if (closed) {
      const declared = facts.publicPorts.length > 0 ? facts.publicPorts.join(", ") : "none";
      report(`ingress from ${source} on ports ${from}-${to} (${props.ipProtocol}); declared public ports: ${declared}`);
    }
  },
);
