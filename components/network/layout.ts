/** Naming and sizing decisions for the network, kept pure so they can be tested without Pulumi. */

export interface VSwitchSpec {
  readonly zone: string;
  readonly cidr: string;
}

/**
 * A stable key per vSwitch for Pulumi and cloud names: its zone, plus "-2", "-3", … for further
 * vSwitches in the same zone. Keys follow zones rather than list positions, so inserting a
 * vSwitch in another zone does not rename (and replace) the existing ones.
 */
export function vswitchKeys(vswitches: readonly VSwitchSpec[]): string[] {
  const seen = new Map<string, number>();
  return vswitches.map(({ zone }) => {
    const count = (seen.get(zone) ?? 0) + 1;
    seen.set(zone, count);
    return count === 1 ? zone : `${zone}-${count}`;
  });
}

export interface EipBilling {
  readonly internetChargeType: "PayByTraffic" | "PayByBandwidth";
  /** The provider takes the bandwidth as a string, in Mbit/s. */
  readonly bandwidth: string;
}

/** Pay-as-you-go EIP limits (ecs/eipAddress.d.ts): 1-200 Mbit/s by traffic, 1-500 by bandwidth. */
export const EIP_MAX_MBPS = { PayByTraffic: 200, PayByBandwidth: 500 } as const;

/**
 * Egress is bursty (image pulls, DashScope calls) and idle most of the time, so paying per GB is
 * cheaper; only bandwidths that pay-by-traffic cannot offer fall back to pay-by-bandwidth.
 */
export function eipBilling(bandwidthMbps: number): EipBilling {
  if (!Number.isInteger(bandwidthMbps) || bandwidthMbps < 1 || bandwidthMbps > EIP_MAX_MBPS.PayByBandwidth) {
    throw new Error(
      `NAT bandwidth ${bandwidthMbps} Mbit/s: a pay-as-you-go EIP takes a whole number from 1 to ${EIP_MAX_MBPS.PayByBandwidth}`,
    );
  }
  const internetChargeType = bandwidthMbps <= EIP_MAX_MBPS.PayByTraffic ? "PayByTraffic" : "PayByBandwidth";
  return { internetChargeType, bandwidth: String(bandwidthMbps) };
}
