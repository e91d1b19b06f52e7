import type { BackboneConfig } from "../../stacks/config";
import { loadConfig } from "../../stacks/config";

/** A complete, valid raw config for a dev stack, as a stack file would give it. */
export function rawDevConfig(): Record<string, any> {
  return {
    environment: "dev",
    region: "cn-hangzhou",
    owner: "search-platform",
    namePrefix: "acme",
    network: {
      vpcCidr: "10.20.0.0/16",
      vswitches: [
        { zone: "cn-hangzhou-h", cidr: "10.20.0.0/20" },
        { zone: "cn-hangzhou-i", cidr: "10.20.16.0/20" },
      ],
    },
  };
}

export function rawProdConfig(): Record<string, any> {
  const raw = rawDevConfig();
  raw.environment = "prod";
  raw.network.vswitches.push({ zone: "cn-hangzhou-j", cidr: "10.20.32.0/20" });
  return raw;
}

export function rawEphemeralConfig(): Record<string, any> {
  return { ...rawDevConfig(), environment: "ephemeral", expiresAt: "2026-11-23T06:00:00Z" };
}

export function devConfig(overrides: (raw: Record<string, any>) => void = () => {}): BackboneConfig {
  const raw = rawDevConfig();
  overrides(raw);
  return loadConfig(raw, { project: "search-backbone", stack: "dev" });
}

export function prodConfig(): BackboneConfig {
  return loadConfig(rawProdConfig(), { project: "search-backbone", stack: "prod" });
}

export function ephemeralConfig(): BackboneConfig {
  return loadConfig(rawEphemeralConfig(), { project: "search-backbone", stack: "pr-42" });
}
