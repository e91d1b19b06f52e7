import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { imageTag } from "./image";

/**
 * What k8s/orchestrator/Dockerfile copies from its context (the repository root, narrowed by
 * Dockerfile.dockerignore beside it): the files that decide the image's content. The service is an
 * npm workspace, so the image installs from the root lock and builds the workspace packages it uses.
 */
export const ORCHESTRATOR_CONTEXT_INPUTS = [
  "package.json",
  "package-lock.json",
  "k8s/orchestrator/Dockerfile",
  "k8s/orchestrator/Dockerfile.dockerignore",
  "k8s/orchestrator/package.json",
  "k8s/orchestrator/tsconfig.json",
  "k8s/orchestrator/tsconfig.build.json",
  "k8s/orchestrator/src",
  "k8s/orchestrator/web",
  "k8s/backbone/package.json",
  "policy/package.json",
  "packages/relevance/package.json",
  "packages/relevance/tsconfig.json",
  "packages/relevance/src",
  "packages/engines/package.json",
  "packages/engines/tsconfig.json",
  "packages/engines/src",
  "packages/test-engines/package.json",
] as const;

const isFolder = (input: string) => /\/(src|web)$/.test(input);

function filesUnder(root: string, relative: string): string[] {
  const full = path.join(root, relative);
  const entries = readdirSync(full, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

export interface BuildContext {
  /** Relative to the project folder (Pulumi runs the program there), so state holds no machine's path. */
  readonly context: string;
  readonly dockerfile: string;
  readonly tag: string;
}

/**
 * The orchestrator image's build context: the repository root with k8s/orchestrator/Dockerfile,
 * tagged with the service's package version and a hash of what the Dockerfile copies (see `imageTag`).
 */
export function orchestratorBuildContext(projectDir: string): BuildContext {
  const files = ORCHESTRATOR_CONTEXT_INPUTS.flatMap((input) =>
    isFolder(input) ? filesUnder(projectDir, input) : [input],
  ).map((file) => ({ path: file.split(path.sep).join("/"), content: readFileSync(path.join(projectDir, file)) }));
  const { version } = JSON.parse(readFileSync(path.join(projectDir, "k8s/orchestrator/package.json"), "utf8")) as {
    version: string;
  };
  return { context: ".", dockerfile: "k8s/orchestrator/Dockerfile", tag: imageTag(version, files) };
}
