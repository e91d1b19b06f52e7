import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/stack-files";

/**
 * scripts/engines.sh names each assembled install after its plugin set, so a branch that changes the
 * plugins assembles a new install beside the one another checkout may be running. Checked on a copy
 * of the script and its plugin sources; `homes` only computes the names, it fetches nothing.
 */
let copy: string | undefined;
afterEach(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
  copy = undefined;
});

function scriptCopy(): string {
  copy = mkdtempSync(path.join(tmpdir(), "engines-script-"));
  cpSync(path.join(repoRoot, "scripts/engines.sh"), path.join(copy, "engines.sh"));
  cpSync(path.join(repoRoot, "scripts/engines"), path.join(copy, "engines"), { recursive: true });
  return copy;
}

function homes(dir: string): { opensearch: string; elasticsearch: string } {
  const out = execFileSync("bash", [path.join(dir, "engines.sh"), "homes"], {
    encoding: "utf8",
    env: { ...process.env, ENGINES_CACHE: "/cache" },
  });
  return {
    opensearch: /^OPENSEARCH_HOME=(.*)$/m.exec(out)![1]!,
    elasticsearch: /^ELASTICSEARCH_HOME=(.*)$/m.exec(out)![1]!,
  };
}

describe("the engines' assembled installs are named after their plugin set", () => {
  it("names each install after its engine, version and a digest of what goes into it", () => {
    const names = homes(scriptCopy());
    expect(names.opensearch).toMatch(/^\/cache\/opensearch-3\.6\.0-[0-9a-f]{10}$/);
    expect(names.elasticsearch).toMatch(/^\/cache\/elasticsearch-8\.17\.0-[0-9a-f]{10}$/);
    expect(homes(copy!)).toEqual(names);
  });

  it("changes only OpenSearch's name when OpenSearch's plugin list or local plugin changes", () => {
    const dir = scriptCopy();
    const before = homes(dir);
    const script = path.join(dir, "engines.sh");
    writeFileSync(script, readFileSync(script, "utf8").replace("OS_PLUGINS=(opensearch-knn ", "OS_PLUGINS=("));
    const fewerPlugins = homes(dir);
    expect(fewerPlugins.opensearch).not.toBe(before.opensearch);
    expect(fewerPlugins.elasticsearch).toBe(before.elasticsearch);
    appendFileSync(path.join(dir, "engines/SmartcnOpenSearchPlugin.java"), "// changed\n");
    expect(homes(dir).opensearch).not.toBe(fewerPlugins.opensearch);
  });

  it("changes Elasticsearch's name when one of its local plugins changes", () => {
    const dir = scriptCopy();
    const before = homes(dir);
    appendFileSync(path.join(dir, "engines/SmartcnElasticsearchPlugin.java"), "// changed\n");
    const after = homes(dir);
    expect(after.elasticsearch).not.toBe(before.elasticsearch);
    expect(after.opensearch).toBe(before.opensearch);
  });
});
