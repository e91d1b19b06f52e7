import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../stacks/config";
import { rawDevConfig, rawProdConfig } from "../helpers/config";

const HASH = "a".repeat(64);
const load = (raw: Record<string, any>, stack = "dev") => loadConfig(raw, { project: "search-backbone", stack });

function problems(raw: Record<string, any>, stack = "dev"): string {
  try {
    load(raw, stack);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return "";
}

describe("orchestrator config", () => {
  it("is off by default with per-environment replicas", () => {
    const dev = load(rawDevConfig());
    expect(dev.orchestrator).toMatchObject({ enabled: false, replicas: { min: 2, max: 6 }, chatModel: "qwen-plus" });
    expect(load(rawProdConfig(), "prod").orchestrator.replicas).toEqual({ min: 3, max: 12 });
  });

  it("accepts an enabled orchestrator with its secrets, taking the DashScope key from serving.bailian", () => {
    const raw = rawDevConfig();
    raw.serving = { bailian: { apiKey: "sk-bailian-key-1" } };
    raw.orchestrator = {
      enabled: true,
      apiKeys: [{ id: "web", sha256: HASH, ratePerMinute: 60 }],
      image: { username: "pusher", password: "Passw0rd-1" },
    };
    expect(load(raw).orchestrator.apiKeys).toEqual([{ id: "web", sha256: HASH, ratePerMinute: 60 }]);
  });

  it.each([
    [
      "a duplicate key id",
      {
        apiKeys: [
          { id: "a", sha256: HASH },
          { id: "a", sha256: HASH },
        ],
      },
      "search-backbone:orchestrator.apiKeys[1].id: given (secret, not shown); expected a unique id",
    ],
    [
      "a key given instead of its hash",
      { apiKeys: [{ id: "a", sha256: "sk-not-a-hash" }] },
      "orchestrator.apiKeys[0].sha256: given (secret, not shown); expected the key's SHA-256",
    ],
    ["a username without password", { image: { username: "pusher" } }, "orchestrator.image.password: not set"],
    [
      "a bad CPU quantity",
      { resources: { requests: { cpu: "half", memory: "1Gi" }, limits: { memory: "1Gi" } } },
      'orchestrator.resources.requests.cpu: given "half"; expected a Kubernetes quantity',
    ],
    ["an unknown key", { replica: 2 }, 'orchestrator.replica: given 2; unknown key (did you mean "replicas"?)'],
    // What components/orchestrator used to re-check (api-keys.ts, pod-spec.ts) is refused here, once.
    [
      "a key id with a space",
      { apiKeys: [{ id: "bad id", sha256: HASH }] },
      "orchestrator.apiKeys[0].id: given (secret, not shown); expected 1-64 letters, digits, _ . or -",
    ],
    [
      "a per-key rate of 0",
      { apiKeys: [{ id: "a", sha256: HASH, ratePerMinute: 0 }] },
      "orchestrator.apiKeys[0].ratePerMinute: given (secret, not shown); expected >= 1",
    ],
    [
      "no key while enabled",
      {
        enabled: true,
        apiKeys: [],
        dashscopeApiKey: "sk-dashscope-1",
        image: { username: "u", password: "Passw0rd-1" },
      },
      "orchestrator.apiKeys: given (secret, not shown); expected at least one {id, sha256} while orchestrator.enabled is true",
    ],
    [
      "more replicas at minimum than at maximum",
      { replicas: { min: 5, max: 2 } },
      "orchestrator.replicas.min: given 5; expected at most replicas.max (2)",
    ],
  ])("refuses %s, naming key, value and expectation", (_, orchestrator, message) => {
    const raw = rawDevConfig();
    raw.orchestrator = orchestrator;
    expect(problems(raw)).toContain(message);
    expect(problems(raw)).not.toContain("sk-not-a-hash");
  });
});
