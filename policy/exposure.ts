/**
 * What makes a resource reachable from outside: the facts the policy pack's rules check on one state,
 * and the exposure rules the preview gate applies to a change (old inputs → new inputs). Every function
 * here is pure and total: inputs are whatever a preview holds, so any value of any shape is read
 * without throwing, and a value that cannot be read counts as exposed.
 *
 * This module has no runtime imports: the policy pack loads it through ts-node (CommonJS), and the
 * preview gate loads it with Node's own type stripping (scripts/preview-gate/exposure.ts).
 */

/** OSS ACLs that let anyone read (or write) a bucket's objects, in order of exposure. */
export const PUBLIC_ACLS: readonly string[] = ["public-read", "public-read-write"];
/** CIDRs that admit every address. */
export const OPEN_CIDRS: readonly string[] = ["0.0.0.0/0", "::/0"];
/** Elasticsearch whitelists: the public ones admit Internet sources, the private ones VPC sources. */
export const ES_PUBLIC_WHITELISTS: readonly string[] = ["publicWhitelists", "kibanaWhitelists"];
export const ES_PRIVATE_WHITELISTS: readonly string[] = ["privateWhitelists", "kibanaPrivateWhitelists"];
/** System policies that grant a whole service (or everything). */
export const FULL_ACCESS_POLICY = /FullAccess$|^AdministratorAccess$/;
/** RFC 1918: where a VPC's CIDR must lie (stacks/config checks `network.vpcCidr` against the same). */
export const PRIVATE_RANGES: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
/** ACK's annotation that keeps a LoadBalancer Service's CLB on the VPC (the default is an Internet address). */
export const INTRANET_ANNOTATION = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type";
/** What `pulumi preview` writes for a value not known until apply. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const TYPE = {
  bucket: "alicloud:oss/bucket:Bucket",
  bucketAcl: "alicloud:oss/bucketAcl:BucketAcl",
  bucketPublicAccessBlock: "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock",
  accountPublicAccessBlock: "alicloud:oss/accountPublicAccessBlock:AccountPublicAccessBlock",
  securityGroupRule: "alicloud:ecs/securityGroupRule:SecurityGroupRule",
  elasticsearch: "alicloud:elasticsearch/instance:Instance",
  cluster: "alicloud:cs/managedKubernetes:ManagedKubernetes",
  personalRepo: "alicloud:cr/repo:Repo",
  personalNamespace: "alicloud:cr/namespace:Namespace",
  enterpriseRepo: "alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo",
  enterpriseNamespace: "alicloud:cs/registryEnterpriseNamespace:RegistryEnterpriseNamespace",
  registryAclService: "alicloud:cr/endpointAclService:EndpointAclService",
  registryAclPolicy: "alicloud:cr/endpointAclPolicy:EndpointAclPolicy",
  nlb: "alicloud:nlb/loadBalancer:LoadBalancer",
  slb: "alicloud:slb/loadBalancer:LoadBalancer",
  alb: "alicloud:alb/loadBalancer:LoadBalancer",
  albConfig: "kubernetes:alibabacloud.com/v1:AlbConfig",
  service: "kubernetes:core/v1:Service",
  forwardEntry: "alicloud:vpc/forwardEntry:ForwardEntry",
  eipAssociation: "alicloud:ecs/eipAssociation:EipAssociation",
  ecsInstance: "alicloud:ecs/instance:Instance",
  ramPolicy: "alicloud:ram/policy:Policy",
  rolePolicyAttachment: "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
  userPolicyAttachment: "alicloud:ram/userPolicyAttachment:UserPolicyAttachment",
  groupPolicyAttachment: "alicloud:ram/groupPolicyAttachment:GroupPolicyAttachment",
  easService: "alicloud:pai/service:Service",
} as const;

// ---- reading values of any shape ---------------------------------------------------------------

type Props = Readonly<Record<string, unknown>>;

/** (Not Object.hasOwn: the policy host compiles this file for ES2020.) */
const own = (object: object, key: string): boolean => Object.getOwnPropertyDescriptor(object, key) !== undefined;
const isObject = (value: unknown): value is Props =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const get = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((at, key) => (isObject(at) && own(at, key) ? at[key] : undefined), value);
export const asList = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
/** A string or number as it is, anything else as JSON. */
const plain = (v: unknown): string => (typeof v === "string" || typeof v === "number" ? String(v) : show(v));
/** A value as the PR comment shows it. */
export const show = (value: unknown): string => (value === undefined ? "unset" : (JSON.stringify(value) ?? "unset"));

// ---- CIDRs --------------------------------------------------------------------------------------

interface Cidr {
  readonly base: number;
  readonly bits: number;
}

/** An IPv4 CIDR or address (as /32); undefined for anything else, IPv6 included. */
export function parseCidr(text: unknown): Cidr | undefined {
  if (typeof text !== "string") return undefined;
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text.trim());
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const bits = match[5] === undefined ? 32 : Number(match[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const address = octets.reduce((n, o) => n * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return { base: address - (address % size), bits };
}

const within = (inner: Cidr, outer: Cidr): boolean =>
  inner.bits >= outer.bits && Math.floor(inner.base / 2 ** (32 - outer.bits)) === outer.base / 2 ** (32 - outer.bits);

/** Whether `source` lies inside one of `ranges`. Unreadable sources (IPv6, free text) lie outside. */
export function cidrWithin(source: unknown, ranges: readonly string[]): boolean {
  const inner = parseCidr(source);
  if (!inner) return false;
  return ranges.some((range) => {
    const outer = parseCidr(range);
    return outer !== undefined && within(inner, outer);
  });
}

// ---- RAM ----------------------------------------------------------------------------------------

export interface Statement {
  readonly effect: unknown;
  readonly actions: unknown[];
  readonly resources: unknown[];
}

/** A RAM policy's statements, from its JSON document or the provider's `statements`; throws on bad JSON. */
export function statementsOf(props: Props): Statement[] {
  const text = props.policyDocument ?? props.document;
  const fromDocument = typeof text === "string" ? asList(get(JSON.parse(text), "Statement")) : [];
  return [
    ...fromDocument.map((s) => ({
      effect: get(s, "Effect"),
      actions: asList(get(s, "Action")),
      resources: asList(get(s, "Resource")),
    })),
    ...asList(props.statements).map((s) => ({
      effect: get(s, "effect"),
      actions: asList(get(s, "actions")),
      resources: asList(get(s, "resources")),
    })),
  ];
}

/** An action naming more than one API: `*`, `oss:*`, `oss:Get*`. */
export const isWildcardAction = (action: unknown): boolean => typeof action !== "string" || action.includes("*");
/** A resource naming every resource, or every resource of a service: `*`, `acs:oss:*:*:*`. */
export const isWildcardResource = (resource: unknown): boolean =>
  typeof resource !== "string" || resource === "*" || /^acs:[^:]*:[^:]*:[^:]*:\*$/.test(resource);

// ---- exposure of a change -----------------------------------------------------------------------

export interface ExposureChange {
  /** The rule's name, as in the README's list. */
  readonly rule: string;
  /** The property path, e.g. `acl` or `publicWhitelists`. */
  readonly property: string;
  readonly old: string;
  readonly new: string;
  /** Why it matters, in a sentence. */
  readonly why: string;
}

export interface ExposureContext {
  /** The VPC ranges of the stack (from its Network resources); RFC 1918 when none is known. */
  readonly vpcCidrs: readonly string[];
}

type Rule = (olds: Props | undefined, news: Props, context: ExposureContext) => ExposureChange[];

const change = (rule: string, property: string, old: unknown, next: unknown, why: string): ExposureChange => ({
  rule,
  property,
  old: show(old),
  new: show(next),
  why,
});

/** A scalar whose rank rises from private to public; flagged when the new rank exceeds the old. */
function ranked(
  rule: string,
  property: string,
  rank: (value: unknown) => number,
  why: string,
  read: (props: Props) => unknown = (props) => get(props, ...property.split(".")),
): Rule {
  return (olds, news) => {
    const [before, after] = [olds ? read(olds) : undefined, read(news)];
    return rank(after) > rank(before) ? [change(rule, property, before, after, why)] : [];
  };
}

const aclRank = (acl: unknown) => (acl === "public-read-write" ? 2 : acl === "public-read" ? 1 : 0);
const notTrue = (value: unknown) => (value === true || value === "true" ? 0 : 1);
const isTrue = (value: unknown) => (value === true || value === "true" ? 1 : 0);
const publicWord = (value: unknown) => (typeof value === "string" && /^(internet|public)$/i.test(value) ? 1 : 0);

const publicAcl = ranked(
  "oss-public-acl",
  "acl",
  aclRank,
  "anyone on the Internet can list and read (with public-read-write: overwrite) the bucket's objects",
);
const accessBlock = ranked(
  "oss-public-access-block",
  "blockPublicAccess",
  notTrue,
  "with the block off, public ACLs and bucket policies take effect again",
);

interface OpenSource {
  readonly property: string;
  readonly source: unknown;
  readonly ports: string;
}

/** Ingress sources outside the VPC, keyed by source, protocol and ports. */
function openIngress(props: Props | undefined, context: ExposureContext): Map<string, OpenSource> {
  const open = new Map<string, OpenSource>();
  if (!props || get(props, "type") !== "ingress" || get(props, "policy") === "drop") return open;
  const ports = `${plain(get(props, "ipProtocol"))} ports ${plain(get(props, "portRange") ?? "-1/-1")}`;
  for (const property of ["cidrIp", "ipv6CidrIp"]) {
    const source = get(props, property);
    if (source === undefined || source === null || source === "" || source === UNKNOWN) continue;
    if (!cidrWithin(source, context.vpcCidrs)) open.set(show([property, source, ports]), { property, source, ports });
  }
  return open;
}

const ingressWiderThanVpc: Rule = (olds, news, context) => {
  const before = openIngress(olds, context);
  return [...openIngress(news, context)]
    .filter(([key]) => !before.has(key))
    .map(([, { property, source, ports }]) =>
      change(
        "ingress-wider-than-vpc",
        property,
        olds ? (get(olds, property) ?? null) : undefined,
        source,
        `admits ${show(source)} (${ports}), beyond the VPC (${context.vpcCidrs.join(", ")})`,
      ),
    );
};

/** Whitelist entries in `news` that `olds` did not already cover, and (for private lists) outside the VPC. */
function widenedWhitelists(lists: readonly string[], onlyOutside: boolean, rule: string, what: string): Rule {
  return (olds, news, context) =>
    lists.flatMap((list) => {
      const before = asList(olds ? get(olds, list) : undefined);
      const added = asList(get(news, list)).filter(
        (cidr) =>
          cidr !== UNKNOWN &&
          !before.some((old) => old === cidr || (parseCidr(old) && cidrWithin(cidr, [old as string]))) &&
          (!onlyOutside || !cidrWithin(cidr, context.vpcCidrs)),
      );
      return added.length > 0
        ? [change(rule, list, olds ? (get(olds, list) ?? null) : undefined, get(news, list), `${what} ${show(added)}`)]
        : [];
    });
}

const searchEndpoint: Rule[] = [
  ranked("search-public-endpoint", "enablePublic", isTrue, "Elasticsearch answers on an Internet endpoint"),
  ranked("search-public-endpoint", "enableKibanaPublicNetwork", isTrue, "Kibana answers on an Internet endpoint"),
  widenedWhitelists(ES_PUBLIC_WHITELISTS, false, "search-whitelist-widened", "the public endpoint now admits"),
  widenedWhitelists(ES_PRIVATE_WHITELISTS, true, "search-whitelist-widened", "admits sources outside the VPC:"),
];

const publicVisibility = (property: string, why: string) =>
  ranked("registry-public", property, (v) => (typeof v === "string" && /^public$/i.test(v) ? 1 : 0), why);

const registryAclService: Rule = (olds, news) => {
  const open = (props: Props | undefined) =>
    props !== undefined && isTrue(get(props, "enable")) === 1 && publicWord(get(props, "endpointType")) === 1;
  return open(news) && !open(olds)
    ? [
        change(
          "registry-public",
          "enable",
          olds ? get(olds, "enable") : undefined,
          get(news, "enable"),
          "the registry's Internet endpoint is switched on",
        ),
      ]
    : [];
};

const registryAclPolicy: Rule = (olds, news, context) => {
  const entry = get(news, "entry");
  if (cidrWithin(entry, context.vpcCidrs) || entry === UNKNOWN || (olds && get(olds, "entry") === entry)) return [];
  return [
    change(
      "registry-public",
      "entry",
      olds ? get(olds, "entry") : undefined,
      entry,
      "the registry's Internet endpoint admits a source outside the VPC",
    ),
  ];
};

const loadBalancerAddress = (property: string) =>
  ranked("load-balancer-public", property, publicWord, "the load balancer gets an Internet address");

const serviceAddress: Rule = (olds, news, context) => {
  const exposure = (props: Props | undefined): string[] => {
    if (!props || get(props, "spec", "type") !== "LoadBalancer") return [];
    const annotations = get(props, "metadata", "annotations");
    const intranet = isObject(annotations) && annotations[INTRANET_ANNOTATION] === "intranet";
    const ranges = asList(get(props, "spec", "loadBalancerSourceRanges")).filter(
      (cidr) => !cidrWithin(cidr, context.vpcCidrs),
    );
    return [...(intranet ? [] : ["internet"]), ...(intranet ? [] : ranges.map(show))];
  };
  const before = new Set(exposure(olds));
  const added = exposure(news).filter((e) => !before.has(e));
  if (added.length === 0) return [];
  return [
    change(
      "load-balancer-public",
      `metadata.annotations["${INTRANET_ANNOTATION}"]`,
      olds ? (get(olds, "metadata", "annotations", INTRANET_ANNOTATION) ?? null) : undefined,
      get(news, "metadata", "annotations", INTRANET_ANNOTATION) ?? null,
      `the Service's load balancer is reachable from the Internet (${added.join(", ")})`,
    ),
  ];
};

const forwardEntry: Rule = (olds, news) => {
  const keys = ["externalIp", "externalPort", "internalIp", "internalPort", "ipProtocol"];
  if (olds && keys.every((k) => JSON.stringify(get(olds, k)) === JSON.stringify(get(news, k)))) return [];
  const mapping = (p: Props) => `${plain(get(p, "externalIp"))}:${plain(get(p, "externalPort"))}`;
  return [
    change(
      "nat-eip-exposure",
      "externalIp:externalPort",
      olds ? mapping(olds) : undefined,
      mapping(news),
      `a DNAT entry forwards Internet traffic to ${show(get(news, "internalIp"))}:${show(get(news, "internalPort"))} in the VPC`,
    ),
  ];
};

const eipAssociation: Rule = (olds, news) => {
  const bound = (p: Props | undefined) =>
    p !== undefined && !(typeof get(p, "instanceType") === "string" && /^nat$/i.test(get(p, "instanceType") as string));
  const target = (p: Props | undefined) => (p ? `${show(get(p, "instanceType"))} ${show(get(p, "instanceId"))}` : "");
  if (!bound(news) || (bound(olds) && target(olds) === target(news))) return [];
  return [
    change(
      "nat-eip-exposure",
      "instanceType",
      olds ? get(olds, "instanceType") : undefined,
      get(news, "instanceType"),
      "an EIP is bound to something other than the NAT gateway, which gives it a public address",
    ),
  ];
};

const instancePublicIp = ranked(
  "nat-eip-exposure",
  "internetMaxBandwidthOut",
  (v) =>
    (typeof v === "number" || typeof v === "string") && Number(v) > 0 ? 1 : typeof v === "object" && v !== null ? 1 : 0,
  "the instance gets a public IP address",
);

function wildcards(props: Props | undefined): { actions: Set<string>; resources: Set<string> } | undefined {
  const found = { actions: new Set<string>(), resources: new Set<string>() };
  if (!props) return found;
  let statements: Statement[];
  try {
    statements = statementsOf(props);
  } catch {
    return undefined;
  }
  for (const s of statements.filter((s) => s.effect === "Allow")) {
    for (const a of s.actions.filter(isWildcardAction)) found.actions.add(show(a));
    for (const r of s.resources.filter(isWildcardResource)) found.resources.add(show(r));
  }
  return found;
}

const ramWildcards: Rule = (olds, news) => {
  const [before, after] = [wildcards(olds), wildcards(news)];
  const property = news.policyDocument !== undefined ? "policyDocument" : "document";
  if (after === undefined) {
    if (olds && show(get(olds, property)) === show(get(news, property))) return [];
    return [
      change(
        "ram-wildcard",
        property,
        "",
        "(not valid JSON)",
        "the policy document cannot be read, so cannot be shown narrow",
      ),
    ];
  }
  const result: ExposureChange[] = [];
  for (const [kind, what] of [
    ["actions", "wildcard actions"],
    ["resources", "wildcard resources"],
  ] as const) {
    const added = [...after[kind]].filter((w) => !before?.[kind].has(w));
    if (added.length > 0) {
      result.push(
        change(
          "ram-wildcard",
          `${property} (${kind})`,
          before ? [...before[kind]] : undefined,
          [...after[kind]],
          `an Allow statement gains ${what} ${added.join(", ")}`,
        ),
      );
    }
  }
  return result;
};

const fullAccess: Rule = (olds, news) => {
  const name = get(news, "policyName");
  const granted = typeof name === "string" && FULL_ACCESS_POLICY.test(name);
  if (!granted || (olds && get(olds, "policyName") === name)) return [];
  return [
    change(
      "ram-full-access",
      "policyName",
      olds ? get(olds, "policyName") : undefined,
      name,
      "a system policy granting a whole service (or everything) is attached",
    ),
  ];
};

/** TorchServe's `*_address` settings in a host's user data, plain or Base64. */
function listenAddresses(userData: unknown): Map<string, string> {
  const addresses = new Map<string, string>();
  if (typeof userData !== "string") return addresses;
  let text = userData;
  if (!/_address=/.test(text) && /^[A-Za-z0-9+/=\s]+$/.test(text)) {
    text = Buffer.from(text, "base64").toString("utf8");
  }
  for (const match of text.matchAll(/^\s*([a-z_]*_address)\s*=\s*(\S+)/gm)) {
    addresses.set(match[1] as string, match[2] as string);
  }
  return addresses;
}

/** 0 loopback, 1 the host's private address (or a private range), 2 every interface or a public address. */
export function listenRank(address: string | undefined): number {
  if (address === undefined) return 0;
  const host = address.replace(/^[a-z]+:\/\//, "").replace(/:\d+$/, "");
  if (/^(127\.|localhost$|\[?::1\]?$)/.test(host)) return 0;
  if (host === "PRIVATE_IP" || cidrWithin(host, PRIVATE_RANGES)) return 1;
  return 2;
}

const torchserveListen: Rule = (olds, news) => {
  const before = listenAddresses(olds ? get(olds, "userData") : undefined);
  return [...listenAddresses(get(news, "userData"))]
    .filter(([key, address]) => listenRank(address) === 2 && listenRank(before.get(key)) < 2)
    .map(([key, address]) =>
      change(
        "model-listen-public",
        `userData: ${key}`,
        olds ? (before.get(key) ?? null) : undefined,
        address,
        "TorchServe listens on every interface or a public address, beyond the private one the load balancer uses",
      ),
    );
};

/** EAS service config: `networking.disable_internet_endpoint` keeps a service off the Internet. */
const easInternet: Rule = (olds, news) => {
  const read = (p: Props | undefined): unknown => {
    const text = p ? get(p, "serviceConfig") : undefined;
    if (typeof text !== "string") return undefined;
    try {
      return get(JSON.parse(text), "networking", "disable_internet_endpoint");
    } catch {
      return "(not valid JSON)";
    }
  };
  const [before, after] = [read(olds), read(news)];
  return olds && before === true && after !== true
    ? [
        change(
          "model-listen-public",
          "serviceConfig.networking.disable_internet_endpoint",
          before,
          after,
          "the EAS service answers on its Internet endpoint",
        ),
      ]
    : [];
};

/** The exposure rules by resource type. */
export const EXPOSURE_RULES: Readonly<Record<string, readonly Rule[]>> = {
  [TYPE.bucket]: [publicAcl],
  [TYPE.bucketAcl]: [publicAcl],
  [TYPE.bucketPublicAccessBlock]: [accessBlock],
  [TYPE.accountPublicAccessBlock]: [accessBlock],
  [TYPE.securityGroupRule]: [ingressWiderThanVpc],
  [TYPE.elasticsearch]: searchEndpoint,
  [TYPE.cluster]: [
    ranked("cluster-public-api", "slbInternetEnabled", isTrue, "the Kubernetes API server gets an Internet endpoint"),
  ],
  [TYPE.personalRepo]: [publicVisibility("repoType", "anyone can pull the repository's images")],
  [TYPE.personalNamespace]: [publicVisibility("defaultVisibility", "new repositories in the namespace are public")],
  [TYPE.enterpriseRepo]: [publicVisibility("repoType", "anyone can pull the repository's images")],
  [TYPE.enterpriseNamespace]: [publicVisibility("defaultVisibility", "new repositories in the namespace are public")],
  [TYPE.registryAclService]: [registryAclService],
  [TYPE.registryAclPolicy]: [registryAclPolicy],
  [TYPE.nlb]: [loadBalancerAddress("addressType")],
  [TYPE.slb]: [loadBalancerAddress("addressType")],
  [TYPE.alb]: [loadBalancerAddress("addressType")],
  [TYPE.albConfig]: [loadBalancerAddress("spec.config.addressType")],
  [TYPE.service]: [serviceAddress],
  [TYPE.forwardEntry]: [forwardEntry],
  [TYPE.eipAssociation]: [eipAssociation],
  [TYPE.ecsInstance]: [instancePublicIp, torchserveListen],
  [TYPE.ramPolicy]: [ramWildcards],
  [TYPE.rolePolicyAttachment]: [fullAccess],
  [TYPE.userPolicyAttachment]: [fullAccess],
  [TYPE.groupPolicyAttachment]: [fullAccess],
  [TYPE.easService]: [easInternet],
};

/**
 * How a change widens exposure: `olds` undefined for a create. Never throws; returns one entry per
 * widened property, each with its old and new value and why it matters.
 */
export function exposureChanges(
  type: string,
  olds: unknown,
  news: unknown,
  context: ExposureContext = { vpcCidrs: PRIVATE_RANGES },
): ExposureChange[] {
  if (!isObject(news)) return [];
  const rules = own(EXPOSURE_RULES, type) ? (EXPOSURE_RULES[type] ?? []) : [];
  return rules.flatMap((rule) => rule(isObject(olds) ? olds : undefined, news, context));
}
