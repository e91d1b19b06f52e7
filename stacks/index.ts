import * as pulumi from "@pulumi/pulumi";
import { type BackboneOutputs, createBackbone } from "./backbone";
import { loadConfig } from "./config";
import { createOnExistingCluster, type ExistingClusterOutputs } from "./existing-cluster";
import { readRawConfig } from "./raw-config";

export type { BackboneOutputs } from "./backbone";
export type { ExistingClusterOutputs } from "./existing-cluster";

/** The program: validate all configuration first, then build. A bad config registers nothing. */
export function runStack(): BackboneOutputs | ExistingClusterOutputs {
  const id = { project: pulumi.getProject(), stack: pulumi.getStack() };
  const config = loadConfig(readRawConfig(id.project), id);
  // cluster.existing: only the Kubernetes half, into that cluster; otherwise ACK and everything around it.
  return config.cluster.existing ? createOnExistingCluster(config, id) : createBackbone(config, id);
}
