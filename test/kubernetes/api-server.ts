import { execFile, execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Manifest } from "../helpers/manifests";

const repoRoot = path.resolve(__dirname, "../..");
const kubeScript = path.join(repoRoot, "scripts/kube.sh");

/** What kubectl said about one manifest: its exit status, its warnings and its error text. */
export interface KubectlResult {
  readonly ok: boolean;
  readonly warnings: string[];
  readonly error: string;
  readonly stdout: string;
}

/** A real kube-apiserver with etcd on loopback (scripts/kube.sh), driven through the real kubectl. */
export class ApiServer {
  private constructor(
    private readonly dir: string,
    private readonly kubectlPath: string,
    private readonly kubeconfig: string,
  ) {}

  /** The admin kubeconfig (client certificate in system:masters). */
  get kubeconfigPath(): string {
    return this.kubeconfig;
  }

  /** Starts one in a fresh temporary folder; scripts/kube.sh leaves nothing running if that fails. */
  static start(): ApiServer {
    const dir = mkdtempSync(path.join(tmpdir(), "backbone-kube-"));
    const run = (args: string[]) =>
      execFileSync("bash", [kubeScript, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    const kubeconfig = run(["start", dir]);
    const bin = run(["build"]);
    return new ApiServer(dir, path.join(bin, "kubectl"), kubeconfig);
  }

  stop(): void {
    execFileSync("bash", [kubeScript, "stop", this.dir], { stdio: "inherit" });
  }

  kubectl(args: readonly string[], input?: string): KubectlResult {
    const result = spawnSync(this.kubectlPath, ["--kubeconfig", this.kubeconfig, ...args], {
      input,
      encoding: "utf8",
      timeout: 60_000,
    });
    const stderr = result.stderr ?? "";
    const warnings = stderr
      .split("\n")
      .filter((line) => line.startsWith("Warning:"))
      .map((line) => line.trim());
    const error = stderr
      .split("\n")
      .filter((line) => line.trim() && !line.startsWith("Warning:"))
      .join("\n");
    return {
      ok: result.status === 0,
      warnings,
      error: error || (result.error?.message ?? ""),
      stdout: result.stdout ?? "",
    };
  }

  /**
   * What kube-controller-manager's garbage collector and namespace controller (absent here) do for
   * deleted objects, once: objects being deleted in the foreground (the provider deletes that way) lose
   * their `foregroundDeletion` finalizer, as the collector removes it once no dependents are left (there
   * are none: no controller ever made a ReplicaSet or Pod); an empty deleted namespace is finalized.
   * Asynchronous, so the engine and an inline program in this process keep running meanwhile.
   */
  async collectGarbage(): Promise<void> {
    const kubectl = (args: string[]) =>
      promisify(execFile)(this.kubectlPath, ["--kubeconfig", this.kubeconfig, ...args], { maxBuffer: 64 << 20 });
    const kinds =
      "configmaps,secrets,serviceaccounts,services,statefulsets,deployments,jobs,cronjobs,poddisruptionbudgets,horizontalpodautoscalers,ingresses,ingressclasses,storageclasses";
    const { stdout } = await kubectl(["get", kinds, "-A", "-o", "json"]);
    for (const item of JSON.parse(stdout).items as any[]) {
      const { deletionTimestamp, finalizers = [], name, namespace } = item.metadata;
      if (!deletionTimestamp || !finalizers.includes("foregroundDeletion")) continue;
      const rest = finalizers.filter((f: string) => f !== "foregroundDeletion");
      const patch = JSON.stringify({ metadata: { finalizers: rest.length ? rest : null } });
      const where = namespace ? ["-n", namespace] : [];
      await kubectl(["patch", item.kind, name, ...where, "--type=merge", "-p", patch]).catch(() => undefined);
    }
  }

  /**
   * What the namespace controller (absent here) does once a deleted namespace is empty: clears its
   * `kubernetes` finalizer (and the garbage collector's), so the API server removes it.
   */
  finalizeNamespace(name: string): void {
    const namespace = JSON.parse(this.kubectl(["get", "namespace", name, "-o", "json"]).stdout);
    namespace.spec.finalizers = [];
    const result = this.kubectl(
      ["replace", "--raw", `/api/v1/namespaces/${name}/finalize`, "-f", "-"],
      JSON.stringify(namespace),
    );
    if (!result.ok) throw new Error(`finalize namespace ${name}: ${result.error}`);
    // Deleted in the foreground, it also waits for the garbage collector's finalizer.
    const patch = this.kubectl(["patch", "namespace", name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
    if (!patch.ok && !/NotFound|not found/.test(patch.error))
      throw new Error(`finalize namespace ${name}: ${patch.error}`);
  }

  /** Server-side apply; with `dryRun` the API server validates and admits it, and stores nothing. */
  apply(manifest: Manifest, { dryRun }: { dryRun: boolean }): KubectlResult {
    const args = ["apply", "--server-side", "--field-manager=backbone-test", "-f", "-"];
    if (dryRun) args.push("--dry-run=server");
    // JSON, as the provider sends it (YAML 1.1 readers take a label value such as "on" for a bool).
    return this.kubectl(args, JSON.stringify(manifest));
  }
}
