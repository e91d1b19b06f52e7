import { profileOnlyProblems } from "@search-backbone/relevance";
import { AIREC_REGIONS } from "../../components/recommendations/airec-api";
import { EMBEDDING_MODELS, RERANK_MODELS } from "./catalog";
import { type Cidr, cidrContains, cidrsOverlap, isPrivate, parseCidr } from "./cidr";
import { existingClusterProblems, onExistingCluster } from "./rules-cluster";
import { ENVIRONMENTS, type EnvironmentKind, MIN_ZONES } from "./schema";

/**
 * Rules that relate several keys. They run on the merged input even when the schema found other
 * problems, so one run reports everything; each rule therefore checks the types it relies on and
 * stays quiet when a key it needs is itself invalid (the schema reports that one).
 */

export interface Problem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

type Loose = Record<string, unknown>;

const obj = (v: unknown): Loose => (v && typeof v === "object" && !Array.isArray(v) ? (v as Loose) : {});
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const cidrOf = (v: unknown): Cidr | undefined => (typeof v === "string" ? parseCidr(v) : undefined);

export function crossFieldProblems(input: unknown): Problem[] {
  const cfg = obj(input);
  return [
    ...lifecycleProblems(cfg),
    ...networkProblems(cfg),
    ...relevanceProblems(cfg),
    ...bailianProblems(cfg),
    ...searchProblems(cfg),
    ...recommendationsProblems(cfg),
    ...orchestratorProblems(cfg),
    ...llmTrainingProblems(cfg),
    ...easProblems(cfg),
    ...existingClusterProblems(cfg),
  ];
}

function environmentOf(cfg: Loose): EnvironmentKind | undefined {
  const env = str(cfg.environment);
  return ENVIRONMENTS.find((kind) => kind === env);
}

function lifecycleProblems(cfg: Loose): Problem[] {
  const problems: Problem[] = [];
  const env = environmentOf(cfg);
  const storage = obj(cfg.storage);
  if (env === "ephemeral" && cfg.expiresAt === undefined) {
    problems.push({ path: ["expiresAt"], message: "ephemeral stacks need an expiry time, like 2026-11-23T18:00:00Z" });
  }
  if (storage.forceDestroy === true && env && env !== "ephemeral") {
    problems.push({ path: ["storage", "forceDestroy"], message: "only ephemeral stacks may empty buckets on destroy" });
  }
  if (storage.encryption === "AES256" && storage.kmsKeyId !== undefined) {
    problems.push({ path: ["storage", "kmsKeyId"], message: 'a KMS key only applies with encryption "KMS"' });
  }
  return problems;
}

function networkProblems(cfg: Loose): Problem[] {
  const problems: Problem[] = [];
  const network = obj(cfg.network);
  const cluster = obj(cfg.cluster);
  const region = str(cfg.region);
  const env = environmentOf(cfg);
  const vpc = cidrOf(network.vpcCidr);
  const vswitches = Array.isArray(network.vswitches) ? network.vswitches.map(obj) : [];

  if (vpc && !isPrivate(vpc)) {
    problems.push({
      path: ["network", "vpcCidr"],
      message: "expected a private range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
    });
  }
  const subnets = vswitches.map((sw) => cidrOf(sw.cidr));
  subnets.forEach((subnet, i) => {
    if (!subnet) return;
    if (vpc && !cidrContains(vpc, subnet)) {
      problems.push({
        path: ["network", "vswitches", i, "cidr"],
        message: `expected a subnet inside the VPC ${vpc.text}`,
      });
    }
    subnets.slice(0, i).forEach((other, j) => {
      if (other && cidrsOverlap(other, subnet)) {
        problems.push({
          path: ["network", "vswitches", i, "cidr"],
          message: `expected no overlap, but it overlaps vswitches[${j}] (${other.text})`,
        });
      }
    });
  });
  vswitches.forEach((sw, i) => {
    const zone = str(sw.zone);
    if (zone && region && !zone.startsWith(`${region}-`)) {
      problems.push({ path: ["network", "vswitches", i, "zone"], message: `expected a zone of region ${region}` });
    }
  });
  const zones = [...new Set(vswitches.map((sw) => str(sw.zone)).filter((z): z is string => !!z))];
  // An existing cluster's stack makes no VPC (rules-cluster.ts): it needs no vSwitches.
  if (env && Array.isArray(network.vswitches) && zones.length < MIN_ZONES[env] && !onExistingCluster(cfg)) {
    problems.push({
      path: ["network", "vswitches"],
      message: `expected vSwitches in at least ${MIN_ZONES[env]} distinct zones for a ${env} stack, got ${zones.length}${zones.length ? ` (${zones.join(", ")})` : ""}`,
    });
  }
  const pods = cidrOf(cluster.podCidr);
  const services = cidrOf(cluster.serviceCidr);
  for (const [key, range] of [
    ["podCidr", pods],
    ["serviceCidr", services],
  ] as const) {
    if (range && vpc && cidrsOverlap(range, vpc)) {
      problems.push({ path: ["cluster", key], message: `expected a range outside the VPC ${vpc.text}` });
    }
  }
  if (pods && services && cidrsOverlap(pods, services)) {
    problems.push({ path: ["cluster", "serviceCidr"], message: `expected a range apart from podCidr ${pods.text}` });
  }
  return problems;
}

function relevanceProblems(cfg: Loose): Problem[] {
  const problems: Problem[] = [];
  const r = obj(cfg.relevance);
  const serving = obj(cfg.serving);
  // The profile's own checks are the relevance package's, the same the Search component and the setup job run.
  for (const problem of profileOnlyProblems(r)) {
    problems.push({ path: ["relevance", ...problem.field.split(".")], message: `expected ${problem.expected}` });
  }

  const embedding = obj(r.embedding);
  const rerank = obj(r.rerank);
  const embeddingProblems = modelRefProblems("embedding", embedding, EMBEDDING_MODELS);
  problems.push(...embeddingProblems, ...modelRefProblems("rerank", rerank, RERANK_MODELS));
  const known = EMBEDDING_MODELS[str(embedding.model) ?? ""];
  const dims = num(embedding.dims);
  if (known && embeddingProblems.length === 0 && dims !== undefined && !known.dims.includes(dims)) {
    problems.push({
      path: ["relevance", "embedding", "dims"],
      message: `expected a dimension that ${embedding.model} on ${known.endpoint} supports: ${known.dims.join(", ")}`,
    });
  }

  const backend = str(serving.backend);
  // serving.backend "eas" hosts the TorchServe archives on PAI-EAS instead of gn7i hosts.
  const deployed =
    backend === "both" ? ["torchserve", "bailian"] : backend === "eas" ? ["torchserve"] : backend ? [backend] : [];
  for (const [role, ref] of [
    ["embedding", embedding],
    ["rerank", rerank],
  ] as const) {
    const endpoint = str(ref.endpoint);
    if (backend && endpoint && !deployed.includes(endpoint)) {
      problems.push({
        path: ["relevance", role, "endpoint"],
        message: `expected an endpoint that serving.backend "${backend}" deploys`,
      });
    }
  }
  const usesTorchServe = [embedding, rerank].some((ref) => ref.endpoint === "torchserve");
  if (usesTorchServe && backend !== "eas" && deployed.includes("torchserve") && num(obj(serving.gpu).count) === 0) {
    problems.push({
      path: ["serving", "gpu", "count"],
      message: "expected at least 1 GPU host while a model is served by torchserve",
    });
  }
  return problems;
}

/** A model must be in the catalogue and be named with the endpoint that serves it. */
function modelRefProblems(
  role: "embedding" | "rerank",
  ref: Loose,
  catalogue: Readonly<Record<string, { readonly endpoint: string }>>,
): Problem[] {
  const model = str(ref.model);
  if (model === undefined) return [];
  const known = catalogue[model];
  if (!known)
    return [{ path: ["relevance", role, "model"], message: `expected one of ${Object.keys(catalogue).join(", ")}` }];
  if (typeof ref.endpoint === "string" && known.endpoint !== ref.endpoint) {
    return [
      {
        path: ["relevance", role, "endpoint"],
        message: `expected "${known.endpoint}", the endpoint that serves ${model}`,
      },
    ];
  }
  return [];
}

/** Bailian needs its API key whenever a model is served there, and deploys only what a role uses. */
function bailianProblems(cfg: Loose): Problem[] {
  const problems: Problem[] = [];
  const relevance = obj(cfg.relevance);
  const bailian = obj(obj(cfg.serving).bailian);
  const deployments = obj(bailian.deployments);
  const roles = (["embedding", "rerank"] as const).filter((role) => obj(relevance[role]).endpoint === "bailian");
  for (const role of ["embedding", "rerank"] as const) {
    if (deployments[role] !== undefined && !roles.includes(role)) {
      problems.push({
        path: ["serving", "bailian", "deployments", role],
        message: `a Bailian deployment only applies while relevance.${role}.endpoint is "bailian"`,
      });
    }
  }
  if (roles.length > 0 && bailian.apiKey === undefined) {
    problems.push({
      path: ["serving", "bailian", "apiKey"],
      message: `expected a DashScope API key because relevance.${roles.join(" and relevance.")} use Bailian; set it with 'pulumi config set --secret --path serving.bailian.apiKey sk-…'`,
    });
  }
  return problems;
}

/** Per role, a gateway the search jobs can call when the role is served by DashScope. */
function searchProblems(cfg: Loose): Problem[] {
  const problems: Problem[] = [];
  const r = obj(cfg.relevance);
  const search = obj(cfg.search);
  const gateways = obj(search.modelEndpoints);
  for (const [role, key] of [
    ["embedding", "embeddingUrl"],
    ["rerank", "rerankUrl"],
  ] as const) {
    if (obj(r[role]).endpoint === "bailian" && gateways[key] === undefined) {
      problems.push({
        path: ["search", "modelEndpoints", key],
        message: `required while relevance.${role}.endpoint is "bailian": the search jobs and OpenSearch's connectors speak the model-endpoint contract (OpenAI embeddings, Cohere rerank), not DashScope's native API; expected the URL of a gateway that does, or serve ${role} on TorchServe`,
      });
    }
  }
  const es = obj(search.elasticsearch);
  const zones = num(es.zoneCount);
  const dataNodes = num(obj(es.dataNodes).count);
  if (zones !== undefined && dataNodes !== undefined && dataNodes % zones !== 0) {
    problems.push({
      path: ["search", "elasticsearch", "dataNodes", "count"],
      message: `expected a multiple of zoneCount (${zones}), so every zone holds the same number of data nodes`,
    });
  }
  const osNodes = num(obj(search.opensearch).nodes);
  const poolSize = num(obj(obj(cfg.cluster).searchPool).desiredSize);
  // An existing cluster's nodes are its own (cluster.existing.searchNodes); the pool is not made.
  if (osNodes !== undefined && poolSize !== undefined && osNodes > poolSize && !onExistingCluster(cfg)) {
    problems.push({
      path: ["search", "opensearch", "nodes"],
      message: `expected at most cluster.searchPool.desiredSize (${poolSize}): each OpenSearch node needs its own search node`,
    });
  }
  return problems;
}

/** AIRec is prepaid: off in ephemeral stacks, adopted by id, or bought only on explicit confirmation. */
function recommendationsProblems(cfg: Loose): Problem[] {
  const problems: Problem[] = [];
  const airec = obj(obj(cfg.recommendations).airec);
  const at = (key: string) => ["recommendations", "airec", key];
  const mode = str(airec.mode);
  const region = str(cfg.region);
  if (!mode) return problems;
  if (mode !== "off" && environmentOf(cfg) === "ephemeral") {
    problems.push({
      path: at("mode"),
      message:
        'expected "off" in an ephemeral stack: AIRec instances are prepaid and outlive it; the orchestrator falls back to the backbone',
    });
  }
  if (mode !== "off" && region && !(AIREC_REGIONS as readonly string[]).includes(region)) {
    problems.push({
      path: at("mode"),
      message: `expected "off" in region ${region}: AIRec has VPC endpoints only in ${AIREC_REGIONS.join(", ")}`,
    });
  }
  if (mode === "adopt" && airec.instanceId === undefined) {
    problems.push({
      path: at("instanceId"),
      message: 'required when mode is "adopt"; expected an id like airec-cn-o400whm78004',
    });
  }
  if (mode !== "adopt" && airec.instanceId !== undefined) {
    problems.push({ path: at("instanceId"), message: `only applies with mode "adopt", not "${mode}"` });
  }
  if (mode === "create" && airec.confirmPurchase !== true) {
    problems.push({
      path: at("confirmPurchase"),
      message:
        'expected true with mode "create": it buys a prepaid AIRec instance that no destroy can release (set it only after checking the price)',
    });
  }
  if (mode !== "create" && airec.confirmPurchase === true) {
    problems.push({ path: at("confirmPurchase"), message: `only applies with mode "create", not "${mode}"` });
  }
  return problems;
}

const MEMORY_UNITS: Readonly<Record<string, number>> = { Ki: 1, Mi: 1024, Gi: 1024 * 1024 };
const kibibytes = (v: unknown): number | undefined => {
  const match = typeof v === "string" ? /^(\d+)(Ki|Mi|Gi)$/.exec(v) : null;
  return match ? Number(match[1]) * (MEMORY_UNITS[match[2] as string] as number) : undefined;
};

/** The orchestrator needs its secrets when enabled, and settings that agree with each other. */
function orchestratorProblems(cfg: Loose): Problem[] {
  const problems: Problem[] = [];
  const o = obj(cfg.orchestrator);
  const at = (...path: (string | number)[]) => ["orchestrator", ...path];
  const replicas = obj(o.replicas);
  const min = num(replicas.min);
  const max = num(replicas.max);
  if (min !== undefined && max !== undefined && min > max) {
    problems.push({ path: at("replicas", "min"), message: `expected at most replicas.max (${max})` });
  }
  const resources = obj(o.resources);
  const request = kibibytes(obj(resources.requests).memory);
  const limit = kibibytes(obj(resources.limits).memory);
  if (request !== undefined && limit !== undefined && limit < request) {
    problems.push({
      path: at("resources", "limits", "memory"),
      message: `expected at least requests.memory (${obj(resources.requests).memory})`,
    });
  }
  const keys = Array.isArray(o.apiKeys) ? o.apiKeys.map(obj) : [];
  keys.forEach((key, i) => {
    const id = str(key.id);
    if (id !== undefined && keys.slice(0, i).some((other) => other.id === id)) {
      problems.push({ path: at("apiKeys", i, "id"), message: "expected a unique id; an earlier key has it" });
    }
  });
  const ingress = obj(o.ingress);
  if (ingress.enabled === true && ingress.host === undefined) {
    problems.push({ path: at("ingress", "host"), message: "expected a host name while ingress.enabled is true" });
  }
  const image = obj(o.image);
  if ((image.username === undefined) !== (image.password === undefined)) {
    const missing = image.username === undefined ? "username" : "password";
    problems.push({ path: at("image", missing), message: "expected image.username and image.password together" });
  }
  if (o.enabled !== true) return problems;
  if (Array.isArray(o.apiKeys) && keys.length === 0) {
    problems.push({
      path: at("apiKeys"),
      message:
        "expected at least one {id, sha256} while orchestrator.enabled is true; set it as a secret: 'pulumi config set --secret --path orchestrator.apiKeys[0].sha256 <hex>'",
    });
  }
  if (o.dashscopeApiKey === undefined && obj(obj(cfg.serving).bailian).apiKey === undefined) {
    problems.push({
      path: at("dashscopeApiKey"),
      message:
        "expected a DashScope API key for chat (or serving.bailian.apiKey); set it with 'pulumi config set --secret --path orchestrator.dashscopeApiKey sk-…'",
    });
  }
  // On an existing cluster nothing is pushed: the image is named by digest (rules-cluster.ts).
  if (obj(cfg.registry).edition === "personal" && image.password === undefined && !onExistingCluster(cfg)) {
    problems.push({
      path: at("image", "password"),
      message:
        "expected push credentials on the personal registry edition (its fixed password): set orchestrator.image.username and, as a secret, orchestrator.image.password",
    });
  }
  return problems;
}

/** models.training.llm: GPU hours on real chat logs, so never in an ephemeral stack; needs its base and the workspace. */
function llmTrainingProblems(cfg: Loose): Problem[] {
  const training = obj(obj(cfg.models).training);
  const llm = obj(training.llm);
  if (llm.enabled !== true) return [];
  const at = (key: string) => ["models", "training", "llm", key];
  const problems: Problem[] = [];
  if (environmentOf(cfg) === "ephemeral") {
    problems.push({
      path: at("enabled"),
      message:
        "expected false in an ephemeral stack: fine-tuning the chat model costs GPU hours and reads real chat logs",
    });
  }
  if (training.enabled === false) {
    problems.push({
      path: at("enabled"),
      message: "expected models.training.enabled to be true as well: the job runs in the training workspace",
    });
  }
  if (obj(cfg.chat).fineTune === "bailian" && training.wait === false) {
    problems.push({
      path: ["models", "training", "wait"],
      message:
        'expected true with chat.fineTune "bailian": Model Studio reads the rows the DLC job writes, once it has finished',
    });
  }
  if (llm.base === undefined && obj(cfg.chat).fineTune !== "bailian") {
    problems.push({
      path: at("base"),
      message: 'expected oss://<bucket>/<prefix> of the chat model to fine-tune (or chat.fineTune "bailian")',
    });
  }
  return problems;
}

/** EAS settings must exist where a backend uses EAS; the LLM needs a chat-capable orchestrator. */
function easProblems(cfg: Loose): Problem[] {
  const problems: Problem[] = [];
  const eas = cfg.eas === undefined ? undefined : obj(cfg.eas);
  const users = [
    obj(cfg.chat).backend === "eas" ? "chat.backend" : undefined,
    obj(cfg.serving).backend === "eas" ? "serving.backend" : undefined,
  ].filter((key): key is string => key !== undefined);
  if (users.length > 0 && eas === undefined)
    problems.push({ path: ["eas"], message: `expected an eas block because ${users.join(" and ")} is "eas"` });
  for (const service of ["llm", "models"] as const) {
    const replicas = obj(obj(eas?.[service]).replicas);
    const min = num(replicas.min);
    const max = num(replicas.max);
    if (min !== undefined && max !== undefined && max < min)
      problems.push({ path: ["eas", service, "replicas", "max"], message: `expected at least replicas.min (${min})` });
    if (min !== undefined && max !== undefined && min < max && replicas.targetQps === undefined)
      problems.push({
        path: ["eas", service, "replicas", "targetQps"],
        message: "expected a QPS target while replicas.min < replicas.max",
      });
  }
  // vLLM on EAS serves merged weights: a named prefix, or this stack's own LoRA run saved merged.
  const llmTraining = obj(obj(obj(cfg.models).training).llm);
  const trainsMergedOnPai =
    llmTraining.enabled === true && llmTraining.merge !== false && obj(cfg.chat).fineTune !== "bailian";
  if (obj(cfg.chat).backend === "eas" && eas && obj(eas.llm).modelPrefix === undefined && !trainsMergedOnPai)
    problems.push({
      path: ["eas", "llm", "modelPrefix"],
      message:
        'expected a prefix like models/llm/v1/ holding merged weights, or models.training.llm on with merge true and chat.fineTune "pai"',
    });
  return problems;
}
