import * as pulumi from "@pulumi/pulumi";
import { type BackboneOutputs, createBackbone } from "./backbone";
import { loadConfig } from "./config";
import { readRawConfig } from "./raw-config";

export type { BackboneOutputs } from "./backbone";

/** The program: validate all configuration first, then build. A bad config registers nothing. */
export function runStack(): BackboneOutputs {
  const id = { project: pulumi.getProject(), stack: pulumi.getStack() };
  const config = loadConfig(readRawConfig(id.project), id);
  return createBackbone(config, id);
}
