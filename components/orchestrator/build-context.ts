import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { imageTag } from "./image";

/** What the Dockerfile copies from its context (k8s/): the files that decide the image's content. */
const CONTEXT_INPUTS = [
  ".dockerignore",
  "orchestrator/Dockerfile",
  "orchestrator/package.json",
  "orchestrator/package-lock.json",
  "orchestrator/tsconfig.json",
  "orchestrator/tsconfig.build.json",
  "orchestrator/src",
  "backbone/src",
] as const;

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
 * The orchestrator image's build context: `k8s/` with k8s/orchestrator/Dockerfile, tagged with
 * the package version and a hash of what the Dockerfile copies (see `imageTag`).
 */
export function orchestratorBuildContext(projectDir: string, k8sFolder = "k8s"): BuildContext {
  const k8sDir = path.join(projectDir, k8sFolder);
  const files = CONTEXT_INPUTS.flatMap((input) =>
    input.includes(".") || input.endsWith("Dockerfile") ? [input] : filesUnder(k8sDir, input),
  ).map((file) => ({ path: file.split(path.sep).join("/"), content: readFileSync(path.join(k8sDir, file)) }));
  const { version } = JSON.parse(readFileSync(path.join(k8sDir, "orchestrator/package.json"), "utf8")) as {
    version: string;
  };
  return {
    context: k8sFolder,
    dockerfile: path.posix.join(k8sFolder, "orchestrator", "Dockerfile"),
    tag: imageTag(version, files),
  };
}
