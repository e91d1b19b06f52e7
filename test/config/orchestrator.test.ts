import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, resolveConfig } from "../../stacks/config";
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
    const { orchestrator } = load(raw);
    expect(orchestrator.apiKeys).toEqual([{ id: "web", sha256: HASH, ratePerMinute: 60 }]);
    expect(orchestrator.dashscopeApiKey).toBe("sk-bailian-key-1");
  });

  it("resolves the DashScope key and base URL, so components get the effective values", () => {
    const raw = rawDevConfig();
    raw.serving = { bailian: { baseUrl: "https://dashscope-intl.aliyuncs.com/", apiKey: "sk-bailian-key-1" } };
    raw.orchestrator = {
      enabled: true,
      dashscopeApiKey: "sk-chat-key-123",
      apiKeys: [{ id: "web", sha256: HASH }],
      image: { username: "pusher", password: "Passw0rd-1" },
    };
    // Its own key wins over serving.bailian's; the base URL follows serving.bailian.baseUrl.
    expect(load(raw).orchestrator).toMatchObject({
      dashscopeApiKey: "sk-chat-key-123",
      dashscopeBaseUrl: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
    });
    raw.orchestrator.dashscopeBaseUrl = "https://llm-gateway.example.com/v1";
    expect(load(raw).orchestrator.dashscopeBaseUrl).toBe("https://llm-gateway.example.com/v1");
    expect(load(rawDevConfig()).orchestrator.dashscopeBaseUrl).toBe(
      "https://dashscope.aliyuncs.com/compatible-mode/v1",
    );
  });

  it("resolving on its own keeps the rules' invariant: an enabled orchestrator has a DashScope key", () => {
    const settings = load(rawDevConfig());
    const enabled = { ...settings, orchestrator: { ...settings.orchestrator, enabled: true } };
    expect(() =>
      resolveConfig({ ...enabled, orchestrator: { ...enabled.orchestrator, dashscopeApiKey: undefined } }),
    ).toThrow(/orchestrator\.dashscopeApiKey/);
    const withBailian = {
      ...enabled,
      serving: { ...settings.serving, bailian: { ...settings.serving.bailian, apiKey: "sk-bailian-key-1" } },
    };
    expect(resolveConfig(withBailian).orchestrator).toMatchObject({
      enabled: true,
      dashscopeApiKey: "sk-bailian-key-1",
    });
  });

  it("records chat turns unless a stack switches them off", () => {
    expect(load(rawDevConfig()).orchestrator.chatLog).toBe(true);
    expect(load(rawProdConfig(), "prod").orchestrator.chatLog).toBe(true);
    const raw = rawDevConfig();
    raw.orchestrator = { chatLog: false };
    expect(load(raw).orchestrator.chatLog).toBe(false);
    raw.orchestrator = { chatLog: "off" };
    expect(problems(raw)).toContain('orchestrator.chatLog: given "off"; expected boolean');
  });

  it("leaves backpressure to the service's defaults unless set, and keeps what a stack sets", () => {
    const unset = load(rawDevConfig()).orchestrator;
    expect(unset.upstreamIdleTimeoutMs).toBeUndefined();
    expect(unset.dependencyLimits).toBeUndefined();
    const raw = rawDevConfig();
    raw.orchestrator = {
      upstreamIdleTimeoutMs: 30000,
      dependencyLimits: { engineInFlight: 8, modelInFlight: 16, queue: 0 },
    };
    expect(load(raw).orchestrator).toMatchObject({
      upstreamIdleTimeoutMs: 30000,
      dependencyLimits: { engineInFlight: 8, modelInFlight: 16, queue: 0 },
    });
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
    [
      "an idle timeout of 0",
      { upstreamIdleTimeoutMs: 0 },
      "search-backbone:orchestrator.upstreamIdleTimeoutMs: given 0; expected >= 1",
    ],
    [
      "an idle timeout beyond the service's range",
      { upstreamIdleTimeoutMs: 600001 },
      "orchestrator.upstreamIdleTimeoutMs: given 600001; expected <= 600000",
    ],
    [
      "a fractional engine limit",
      { dependencyLimits: { engineInFlight: 2.5, modelInFlight: 4, queue: 8 } },
      "orchestrator.dependencyLimits.engineInFlight: given 2.5; expected int",
    ],
    [
      "no calls in flight per model endpoint",
      { dependencyLimits: { engineInFlight: 4, modelInFlight: 0, queue: 8 } },
      "orchestrator.dependencyLimits.modelInFlight: given 0; expected >= 1",
    ],
    [
      "a negative queue",
      { dependencyLimits: { engineInFlight: 4, modelInFlight: 4, queue: -1 } },
      "orchestrator.dependencyLimits.queue: given -1; expected >= 0",
    ],
    [
      "a queue length given as text",
      { dependencyLimits: { engineInFlight: 4, modelInFlight: 4, queue: "64" } },
      'orchestrator.dependencyLimits.queue: given "64"; expected number',
    ],
    [
      "one limit without the others",
      { dependencyLimits: { queue: 16 } },
      "orchestrator.dependencyLimits.engineInFlight: not set; required key is missing; expected number",
    ],
    [
      "a misspelt limit",
      { dependencyLimits: { engineInFlight: 4, modelInFlight: 4, queue: 8, queues: 8 } },
      'orchestrator.dependencyLimits.queues: given 8; unknown key (did you mean "queue"?)',
    ],
  ])("refuses %s, naming key, value and expectation", (_, orchestrator, message) => {
    const raw = rawDevConfig();
    raw.orchestrator = orchestrator;
    expect(problems(raw)).toContain(message);
    expect(problems(raw)).not.toContain("sk-not-a-hash");
  });
});
