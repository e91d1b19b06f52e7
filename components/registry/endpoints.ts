/**
 * Registry host names, chosen by pure functions. Formats [V]:
 *  - Personal edition: `registry.<region>.aliyuncs.com`, VPC `registry-vpc.<region>.aliyuncs.com`
 *    (cr.Repo `domainList` gives public/internal/vpc).
 *  - Enterprise edition: `<instanceName>-registry.<region>.cr.aliyuncs.com`, VPC
 *    `<instanceName>-registry-vpc.<region>.cr.aliyuncs.com` (ACR/ACK docs on password-free pulls and
 *    image acceleration); `instanceEndpoints` lists them per endpointType.
 */

export type RegistryNetwork = "vpc" | "internet";

export interface EndpointLike {
  readonly endpointType?: string;
  readonly enable?: boolean;
  readonly domains?: readonly { readonly domain?: string; readonly type?: string }[];
}

export function enterpriseRegistryHost(
  endpoints: readonly EndpointLike[] | undefined,
  instanceName: string,
  region: string,
  network: RegistryNetwork,
): string {
  const endpoint = (endpoints ?? []).find((e) => e.endpointType?.toLowerCase() === network);
  const domains = (endpoint?.domains ?? []).filter((d) => d.domain);
  const chosen = domains.find((d) => d.type?.toUpperCase() === "SYSTEM") ?? domains[0];
  if (chosen?.domain) return chosen.domain;
  return `${instanceName}-registry${network === "vpc" ? "-vpc" : ""}.${region}.cr.aliyuncs.com`;
}

export interface DomainListLike {
  readonly vpc?: string;
  readonly internal?: string;
  readonly public?: string;
}

/**
 * ACK nodes pull over the VPC endpoint; it is derived from the public one if the API left it out.
 * Pushes from outside the VPC use the public one.
 */
export function personalRegistryHost(domains: DomainListLike | undefined, network: RegistryNetwork = "vpc"): string {
  const host =
    network === "internet"
      ? domains?.public
      : domains?.vpc || domains?.internal || domains?.public?.replace(/^registry\./, "registry-vpc.");
  if (!host) throw new Error("registry: the repository reported no endpoint");
  return host;
}

export const imageReference = (host: string, namespace: string, repository: string): string =>
  `${host}/${namespace}/${repository}`;

/** The host of an image reference (`host/namespace/repository`), as `docker login` takes it. */
export function registryHost(reference: string): string {
  const host = reference.split("/")[0];
  if (!host || !reference.includes("/"))
    throw new Error(`registry: given "${reference}"; expected host/namespace/repository`);
  return host;
}

/** `host/namespace` of an image reference `host/namespace/repository`. */
export function registryNamespaceUrl(reference: string): string {
  const parts = reference.split("/");
  if (parts.length !== 3 || parts.some((part) => part === "")) {
    throw new Error(`registry: given "${reference}"; expected host/namespace/repository`);
  }
  return parts.slice(0, 2).join("/");
}
