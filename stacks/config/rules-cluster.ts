import { kubeconfigProblem } from "./kubeconfig";
import type { Problem } from "./rules";

/**
 * Bring your own cluster (cluster.existing): the stack then creates nothing on Alibaba Cloud, so every
 * key that would need an Alibaba resource must be off or replaced by one that names what exists.
 * Runs on the merged input like the other rules (rules.ts) and stays quiet on keys the schema refuses.
 */

type Loose = Record<string, unknown>;
const obj = (v: unknown): Loose => (v && typeof v === "object" && !Array.isArray(v) ? (v as Loose) : {});

/** True when the stack deploys into an existing cluster (the loose input's cluster.existing is set). */
export const onExistingCluster = (cfg: unknown): boolean => obj(obj(cfg).cluster).existing !== undefined;

export function existingClusterProblems(input: unknown): Problem[] {
  const cfg = obj(input);
  const existing = obj(obj(cfg.cluster).existing);
  const search = obj(cfg.search);
  if (!onExistingCluster(cfg)) {
    return search.existing === undefined
      ? []
      : [
          {
            path: ["search", "existing"],
            message:
              "only applies with cluster.existing: a stack that creates ACK creates Alibaba Cloud Elasticsearch too",
          },
        ];
  }
  const problems: Problem[] = [];
  if (typeof existing.kubeconfig === "string") {
    const problem = kubeconfigProblem(existing.kubeconfig);
    if (problem) problems.push({ path: ["cluster", "existing", "kubeconfig"], message: problem });
  }
  const why = "with cluster.existing the stack creates nothing on Alibaba Cloud";
  if (search.existing === undefined) {
    problems.push({
      path: ["search", "existing"],
      message: `required with cluster.existing (${why}); expected {elasticsearch: {url, username, password}}`,
    });
  }
  const gateways = obj(search.modelEndpoints);
  for (const key of ["embeddingUrl", "rerankUrl"]) {
    if (gateways[key] === undefined) {
      problems.push({
        path: ["search", "modelEndpoints", key],
        message: `required with cluster.existing (${why}, so no TorchServe hosts or Bailian deployments); expected the URL of an endpoint that speaks the model-endpoint contract`,
      });
    }
  }
  if (obj(obj(cfg.models).training).enabled === true) {
    problems.push({ path: ["models", "training", "enabled"], message: `expected false (${why}: no PAI DLC jobs)` });
  }
  if (obj(cfg.chat).backend === "eas") {
    problems.push({ path: ["chat", "backend"], message: `expected "dashscope" (${why}: no PAI-EAS service)` });
  }
  if (obj(cfg.serving).backend === "eas") {
    problems.push({
      path: ["serving", "backend"],
      message: `expected not "eas" (${why}: no PAI-EAS service; name the model gateways in search.modelEndpoints)`,
    });
  }
  const airec = obj(obj(cfg.recommendations).airec);
  if (typeof airec.mode === "string" && airec.mode !== "off") {
    problems.push({ path: ["recommendations", "airec", "mode"], message: `expected "off" (${why}: no AIRec)` });
  }
  const orchestrator = obj(cfg.orchestrator);
  if (orchestrator.enabled === true && existing.orchestratorImage === undefined) {
    problems.push({
      path: ["cluster", "existing", "orchestratorImage"],
      message: `required while orchestrator.enabled is true (${why}: no registry to build and push into); expected an image by digest`,
    });
  }
  const ingress = obj(orchestrator.ingress);
  if (ingress.enabled === true && ingress.className === undefined) {
    problems.push({
      path: ["orchestrator", "ingress", "className"],
      message: `required while orchestrator.ingress.enabled is true (${why}: no ALB); expected the cluster's IngressClass`,
    });
  }
  return problems;
}
