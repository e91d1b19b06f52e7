// Usage: node scripts/stacks/drift.ts [--stacks dev,prod] [--work-dir <project dir>]
// For each long-lived stack: `pulumi preview --refresh --expect-no-changes`, i.e. read every resource
// from the cloud, then check the program would change nothing. Prints a JSON report; exits 1 on drift
// (or on a stack that could not be checked), so the nightly job fails visibly.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { type EngineEvent, LocalWorkspace, type Stack } from "@pulumi/pulumi/automation/index.js";

export interface DriftedResource {
  readonly urn: string;
  readonly op: string;
  readonly properties: string[];
}

export interface DriftEntry {
  readonly stack: string;
  readonly status: "in-sync" | "drifted" | "error";
  readonly resources: DriftedResource[];
  readonly error?: string;
}

const NO_CHANGE = ["same", "read", "refresh"];

/**
 * The provider's diff keys, or (providers such as dynamic ones report none) the program's inputs that
 * differ from what the refresh read: refresh updates a resource's outputs, not its recorded inputs.
 */
function changedInputs(metadata: NonNullable<EngineEvent["resourcePreEvent"]>["metadata"]): string[] {
  if (metadata.diffs?.length) return [...metadata.diffs].sort();
  const [actual, wanted] = [metadata.old?.outputs ?? {}, metadata.new?.inputs ?? {}];
  return Object.keys(wanted)
    .filter((key) => key !== "__provider" && JSON.stringify(actual[key]) !== JSON.stringify(wanted[key]))
    .sort();
}

/**
 * One stack's drift. The refresh happens inside the preview, so a nightly check never writes state:
 * what it found is reported, and an operator decides whether to refresh or to re-apply the program.
 */
export async function detectDrift(stack: Stack): Promise<DriftEntry> {
  const resources: DriftedResource[] = [];
  const onEvent = (event: EngineEvent) => {
    const metadata = event.resourcePreEvent?.metadata;
    if (!metadata || NO_CHANGE.includes(metadata.op) || metadata.type === "pulumi:pulumi:Stack") return;
    resources.push({ urn: metadata.urn, op: metadata.op, properties: changedInputs(metadata) });
  };
  try {
    await stack.preview({ refresh: true, expectNoChanges: true, onEvent });
    return { stack: stack.name, status: resources.length > 0 ? "drifted" : "in-sync", resources };
  } catch (error) {
    if (resources.length > 0) return { stack: stack.name, status: "drifted", resources };
    const lines = (error as Error).message.split("\n").filter((l) => /^\s*error:/.test(l));
    return { stack: stack.name, status: "error", resources, error: lines.join(" ").trim() || String(error) };
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { stacks: { type: "string", default: "dev,prod" }, "work-dir": { type: "string", default: "." } },
  });
  const workDir = path.resolve(values["work-dir"]);
  const report: DriftEntry[] = [];
  for (const name of values.stacks
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    try {
      report.push(await detectDrift(await LocalWorkspace.selectStack({ stackName: name, workDir })));
    } catch (error) {
      report.push({ stack: name, status: "error", resources: [], error: (error as Error).message.split("\n")[0] });
    }
  }
  console.log(JSON.stringify({ stacks: report }, null, 2));
  return report.every((entry) => entry.status === "in-sync") ? 0 : 1;
}

if (import.meta.main) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(`drift: ${(error as Error).message}`);
      process.exitCode = 2;
    },
  );
}
