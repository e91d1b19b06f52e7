import type { RelevanceSummary } from "@search-backbone/relevance";
import { resourceRule, stackRule } from "../define";
import { INTRANET_ANNOTATION, OPEN_CIDRS } from "../exposure";
import { disagreements, summariesOf } from "../relevance";
import { TYPES } from "../types";

const WHITELISTS = ["publicWhitelists", "privateWhitelists", "kibanaWhitelists", "kibanaPrivateWhitelists"];

export { INTRANET_ANNOTATION };
/** Alibaba Cloud disk CSI driver (ACK), whose StorageClasses back OpenSearch volumes. */
export const DISK_PROVISIONER = "diskplugin.csi.alibabacloud.com";

const mentionsSearch = (props: Record<string, any>): boolean =>
  /opensearch|elasticsearch/i.test(
    JSON.stringify([props.metadata?.name, props.metadata?.labels, props.spec?.selector]),
  );

export const searchNotPublic = resourceRule(
  {
    name: "search-not-public",
    description: "Elasticsearch and OpenSearch are reachable only from the VPC: no public endpoint, no 0.0.0.0/0.",
    enforcementLevel: "mandatory",
  },
  ({ type, props }, _facts, report) => {
    if (type === TYPES.elasticsearch) {
      if (props.enablePublic === true) report("Elasticsearch has a public endpoint (enablePublic: true)");
      if (props.enableKibanaPublicNetwork === true) report("Kibana has a public endpoint (enableKibanaPublicNetwork)");
      for (const list of WHITELISTS) {
        const open = (props[list] ?? []).filter((cidr: string) => OPEN_CIDRS.includes(cidr));
        if (open.length > 0) report(`Elasticsearch ${list} admits ${open.join(", ")}; expected VPC ranges only`);
      }
    }
    if (type === TYPES.service && props.spec?.type === "LoadBalancer" && mentionsSearch(props)) {
      const addressType = props.metadata?.annotations?.[INTRANET_ANNOTATION];
      if (addressType !== "intranet") {
        report(
          `search Service ${props.metadata?.name ?? ""} is a LoadBalancer without ${INTRANET_ANNOTATION}: intranet`,
        );
      }
      const open = (props.spec?.loadBalancerSourceRanges ?? []).filter((cidr: string) => OPEN_CIDRS.includes(cidr));
      if (open.length > 0) report(`search Service admits ${open.join(", ")}`);
    }
  },
);

export const searchDisksEncrypted = resourceRule(
  {
    name: "search-disks-encrypted",
    description:
      "Search data disks are encrypted: Elasticsearch data nodes, node-pool data disks, cloud disks, disk StorageClasses.",
    enforcementLevel: "mandatory",
  },
  ({ type, props }, _facts, report) => {
    if (type === TYPES.elasticsearch && props.dataNodeDiskEncrypted !== true) {
      report("Elasticsearch data node disks are not encrypted; expected dataNodeDiskEncrypted: true");
    }
    if (type === TYPES.nodePool) {
      for (const [i, disk] of (props.dataDisks ?? []).entries()) {
        if (String(disk?.encrypted) !== "true")
          report(`node pool data disk ${i} is not encrypted; expected encrypted: "true"`);
      }
    }
    if ((type === TYPES.ecsDisk || type === TYPES.legacyDisk) && props.encrypted !== true) {
      report("cloud disk is not encrypted; expected encrypted: true");
    }
    if (
      type === TYPES.storageClass &&
      props.provisioner === DISK_PROVISIONER &&
      props.parameters?.encrypted !== "true"
    ) {
      report(
        `StorageClass ${props.metadata?.name ?? ""} creates unencrypted disks; expected parameters.encrypted: "true"`,
      );
    }
  },
);

const summaries = (resources: readonly { props: Record<string, any> }[]): RelevanceSummary[] =>
  resources.flatMap((r) => summariesOf(r.props));

export const relevanceEnginesAgree = stackRule(
  {
    name: "relevance-engines-agree",
    description: "The relevance configuration rendered for Elasticsearch and for OpenSearch says the same thing.",
    enforcementLevel: "mandatory",
  },
  (resources, _facts, report) => {
    const rendered = summaries(resources);
    for (const [i, a] of rendered.entries()) {
      for (const b of rendered.slice(i + 1)) {
        const differ = disagreements(a, b);
        if (differ.length > 0) report(`rendered relevance configurations disagree: ${differ.join("; ")}`);
      }
    }
  },
);

export const bm25WeightAdvisory = stackRule(
  {
    name: "bm25-weight-high",
    description: "Advisory: a BM25 weight above 0.5 lets keyword matches outrank the fine-tuned embeddings.",
    enforcementLevel: "advisory",
  },
  (resources, facts, report) => {
    const weights = [...summaries(resources).map((s) => s.bm25Weight), facts.relevance?.bm25Weight];
    const high = weights.filter((w): w is number => typeof w === "number" && w > 0.5);
    if (high.length > 0) report(`BM25 weight ${Math.max(...high)} is above 0.5; hybrid search will lean on keywords`);
  },
);
