import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../stacks/config";
import { rawDevConfig, rawEphemeralConfig, rawProdConfig } from "../helpers/config";

const context = { project: "search-backbone", stack: "dev" };

/** Loads a config that must fail and returns the error's message. */
function failure(raw: Record<string, any>, stack = "dev"): ConfigError {
  try {
    loadConfig(raw, { ...context, stack });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected loadConfig to throw");
}

describe("valid configs", () => {
  it("fills dev defaults", () => {
    const cfg = loadConfig(rawDevConfig(), context);
    expect(cfg.storage).toMatchObject({ encryption: "AES256", forceDestroy: false, versioning: true });
    expect(cfg.cluster.apiEndpointPublic).toBe(false);
    expect(cfg.relevance.bm25Weight + cfg.relevance.vectorWeight).toBe(1);
  });

  it("uses production defaults for prod", () => {
    const cfg = loadConfig(rawProdConfig(), { ...context, stack: "prod" });
    expect(cfg.storage.encryption).toBe("KMS");
    expect(cfg.registry.edition).toBe("enterprise");
    expect(cfg.cluster.systemPool.desiredSize).toBe(3);
  });

  it("uses cheap, spot, self-emptying defaults for ephemeral stacks", () => {
    const cfg = loadConfig(rawEphemeralConfig(), { ...context, stack: "pr-42" });
    expect(cfg.serving.gpu.spot).toBe(true);
    expect(cfg.storage.forceDestroy).toBe(true);
    expect(cfg.cluster.systemPool.desiredSize).toBe(1);
  });

  it("lets a stack override one nested key without repeating its siblings", () => {
    const raw = rawDevConfig();
    raw.relevance = { bm25Weight: 0.5, vectorWeight: 0.5 };
    const cfg = loadConfig(raw, context);
    expect(cfg.relevance).toMatchObject({ bm25Weight: 0.5, vectorWeight: 0.5, topK: 10 });
  });
});

describe("bad configs: each class gives a message naming key, value and expectation", () => {
  it("unknown keys, with a suggestion for typos", () => {
    const raw = rawDevConfig();
    raw.netwrok = { vpcCidr: "10.0.0.0/16" };
    raw.network.natt = true;
    const { message, problems } = failure(raw);
    expect(problems).toHaveLength(2);
    expect(message).toContain(
      'search-backbone:netwrok: given {"vpcCidr":"10.0.0.0/16"}; unknown key (did you mean "network"?)',
    );
    expect(message).toContain('search-backbone:network.natt: given true; unknown key (did you mean "nat"?)');
    expect(message).toMatch(/expected one of: .*vpcCidr, vswitches, nat, publicIngressCidrs/);
  });

  it("wrong types", () => {
    const raw = rawDevConfig();
    raw.relevance = { topK: "ten" };
    raw.storage = { versioning: "yes" };
    const { message } = failure(raw);
    expect(message).toContain('search-backbone:relevance.topK: given "ten"; expected number');
    expect(message).toContain('search-backbone:storage.versioning: given "yes"; expected boolean');
  });

  it("missing required keys", () => {
    const raw = rawDevConfig();
    delete raw.region;
    delete raw.owner;
    const { message, problems } = failure(raw);
    expect(message).toContain("search-backbone:region: not set; required key is missing; expected string");
    expect(message).toContain("search-backbone:owner: not set; required key is missing; expected string");
    expect(problems.map((p) => p.path.join("."))).toEqual(["region", "owner"]);
  });

  it("an ephemeral stack without an expiry", () => {
    const raw = rawEphemeralConfig();
    delete raw.expiresAt;
    expect(failure(raw, "pr-7").message).toContain(
      "search-backbone:expiresAt: not set; ephemeral stacks need an expiry time",
    );
  });

  it("invalid CIDRs", () => {
    const raw = rawDevConfig();
    raw.network.vpcCidr = "10.20.0.0/33";
    raw.network.vswitches[0].cidr = "10.20.0.7/20";
    const { message } = failure(raw);
    expect(message).toContain(
      'search-backbone:network.vpcCidr: given "10.20.0.0/33"; expected an IPv4 network in CIDR form',
    );
    expect(message).toContain(
      'search-backbone:network.vswitches[0].cidr: given "10.20.0.7/20"; expected an IPv4 network',
    );
  });

  it("overlapping subnets, subnets outside the VPC, and cluster ranges inside it", () => {
    const raw = rawDevConfig();
    raw.network.vswitches[1].cidr = "10.20.8.0/21";
    raw.network.vswitches.push({ zone: "cn-hangzhou-j", cidr: "10.99.0.0/24" });
    raw.cluster = { podCidr: "10.20.128.0/17" };
    const { message } = failure(raw);
    expect(message).toContain(
      'search-backbone:network.vswitches[1].cidr: given "10.20.8.0/21"; expected no overlap, but it overlaps vswitches[0] (10.20.0.0/20)',
    );
    expect(message).toContain(
      'search-backbone:network.vswitches[2].cidr: given "10.99.0.0/24"; expected a subnet inside the VPC 10.20.0.0/16',
    );
    expect(message).toContain(
      'search-backbone:cluster.podCidr: given "10.20.128.0/17"; expected a range outside the VPC 10.20.0.0/16',
    );
  });

  it("a public VPC range", () => {
    const raw = rawDevConfig();
    raw.network.vpcCidr = "8.8.0.0/16";
    expect(failure(raw).message).toContain(
      'search-backbone:network.vpcCidr: given "8.8.0.0/16"; expected a private range',
    );
  });

  it("fewer zones than the environment needs", () => {
    const dev = rawDevConfig();
    dev.network.vswitches[1].zone = "cn-hangzhou-h";
    expect(failure(dev).message).toContain(
      "expected vSwitches in at least 2 distinct zones for a dev stack, got 1 (cn-hangzhou-h)",
    );
    // The dev layout (two zones) is not enough for production.
    const prod = rawDevConfig();
    prod.environment = "prod";
    const { message } = failure(prod, "prod");
    expect(message).toContain("search-backbone:network.vswitches: given [");
    expect(message).toContain(
      "expected vSwitches in at least 3 distinct zones for a prod stack, got 2 (cn-hangzhou-h, cn-hangzhou-i)",
    );
  });

  it("zones of another region", () => {
    const raw = rawDevConfig();
    raw.network.vswitches[1].zone = "cn-beijing-a";
    expect(failure(raw).message).toContain(
      'search-backbone:network.vswitches[1].zone: given "cn-beijing-a"; expected a zone of region cn-hangzhou',
    );
  });

  it("BM25 and vector weights that do not sum to 1", () => {
    const raw = rawDevConfig();
    raw.relevance = { bm25Weight: 0.6, vectorWeight: 0.6 };
    expect(failure(raw).message).toContain(
      "search-backbone:relevance.vectorWeight: given 0.6; expected bm25Weight + vectorWeight to sum to 1, got 0.6 + 0.6 = 1.2",
    );
  });

  it("a GPU instance type outside the gn7i family", () => {
    const raw = rawDevConfig();
    raw.serving = { gpu: { instanceType: "ecs.gn6v-c8g1.2xlarge" } };
    expect(failure(raw).message).toContain(
      'search-backbone:serving.gpu.instanceType: given "ecs.gn6v-c8g1.2xlarge"; expected a gn7i GPU type like ecs.gn7i-c8g1.2xlarge',
    );
  });

  it("an embedding dimension the chosen model endpoint does not support", () => {
    const raw = rawDevConfig();
    raw.relevance = { embedding: { endpoint: "bailian", model: "text-embedding-v4", dims: 1000 } };
    const { message } = failure(raw);
    expect(message).toContain(
      "search-backbone:relevance.embedding.dims: given 1000; expected a dimension that text-embedding-v4 on bailian supports: 2048, 1536, 1024, 768, 512, 256, 128, 64",
    );
  });

  it("a model on an endpoint that does not serve it, or that serving does not deploy", () => {
    const raw = rawDevConfig();
    raw.relevance = { rerank: { endpoint: "bailian", model: "bge-reranker-base" } };
    raw.serving = { backend: "torchserve" };
    const { message } = failure(raw);
    expect(message).toContain(
      'search-backbone:relevance.rerank.endpoint: given "bailian"; expected "torchserve", the endpoint that serves',
    );
    expect(message).toContain('expected an endpoint that serving.backend "torchserve" deploys');
  });

  it("a Bailian-served role without a contract gateway for the search jobs, and accepts one with it", () => {
    const raw = rawDevConfig();
    raw.relevance = { embedding: { endpoint: "bailian", model: "text-embedding-v4", dims: 1024 } };
    expect(failure(raw).message).toContain(
      'search-backbone:search.modelEndpoints.embeddingUrl: not set; required while relevance.embedding.endpoint is "bailian": the search jobs and OpenSearch\'s connectors speak the model-endpoint contract',
    );
    raw.search = { modelEndpoints: { embeddingUrl: "http://gateway.internal:8080/v1/embeddings" } };
    raw.serving = { bailian: { apiKey: "sk-test-key-123456" } };
    expect(loadConfig(raw, context).search.modelEndpoints).toEqual({
      embeddingUrl: "http://gateway.internal:8080/v1/embeddings",
    });
  });

  it("forceDestroy outside ephemeral stacks", () => {
    const raw = rawProdConfig();
    raw.storage = { forceDestroy: true };
    expect(failure(raw, "prod").message).toContain(
      "search-backbone:storage.forceDestroy: given true; only ephemeral stacks may empty buckets on destroy",
    );
  });

  it("a bucket name too long for OSS rules", () => {
    const raw = rawDevConfig();
    raw.namePrefix = "acme-search-platform";
    const stack = "feature-branch-with-a-very-long-descriptive-name";
    expect(failure(raw, stack).message).toContain(
      'search-backbone:namePrefix: given "acme-search-platform"; expected a prefix that, with stack "feature-branch-with-a-very-long-descriptive-name", makes a valid bucket name',
    );
  });

  it("an invalid environment kind still reports every other problem", () => {
    const raw = rawDevConfig();
    raw.environment = "staging";
    raw.relevance = { bm25Weight: 0.9 };
    const { message, problems } = failure(raw);
    expect(problems).toHaveLength(2);
    expect(message).toContain(
      'search-backbone:environment: given "staging"; expected one of "dev", "prod", "ephemeral"',
    );
    expect(message).toContain("expected bm25Weight + vectorWeight to sum to 1");
  });

  it("lists every problem in one message with a count and a way to fix it", () => {
    const raw = rawDevConfig();
    raw.netwrok = {};
    raw.relevance = { bm25Weight: 2 };
    raw.serving = { gpu: { instanceType: "ecs.g7.xlarge" } };
    const { message } = failure(raw);
    expect(message.split("\n")[0]).toBe('Configuration of stack "dev" has 4 problems; nothing was created:');
    expect(message).toContain("pulumi config set --path");
  });
});

describe("tags", () => {
  it("rejects keys the stack sets itself and prefixes Alibaba Cloud reserves", () => {
    const raw = rawDevConfig();
    raw.tags = { owner: "someone-else", "aliyun-team": "x", "cost-center": "rd" };
    const { message, problems } = failure(raw);
    expect(problems.map((p) => p.path.join("."))).toEqual(["tags.owner", "tags.aliyun-team"]);
    expect(message).toContain("expected a key other than project, stack, environment, owner, expires-at");
    expect(message).toContain("expected a key not starting with aliyun, acs: or http(s)://");
  });
});

describe("recommendations.airec", () => {
  const airec = (settings: Record<string, unknown>, raw = rawDevConfig()) => {
    raw.recommendations = { airec: settings };
    return raw;
  };
  const paths = (error: ConfigError) => error.problems.map((p) => p.path.join("."));

  it("is off by default everywhere, with a one-month prepaid purchase described but not confirmed", () => {
    for (const cfg of [loadConfig(rawDevConfig(), context), loadConfig(rawEphemeralConfig(), context)]) {
      expect(cfg.recommendations.airec).toMatchObject({ mode: "off", confirmPurchase: false, scenes: ["docs"] });
    }
  });

  it("adopts by id, and buys only with confirmPurchase", () => {
    expect(
      loadConfig(airec({ mode: "adopt", instanceId: "airec-cn-o400whm78004" }), context).recommendations.airec,
    ).toMatchObject({ mode: "adopt", instanceId: "airec-cn-o400whm78004" });
    expect(loadConfig(airec({ mode: "create", confirmPurchase: true }), context).recommendations.airec.mode).toBe(
      "create",
    );
  });

  it("ephemeral stacks must run with AIRec off", () => {
    const error = failure(airec({ mode: "adopt", instanceId: "airec-cn-o400whm78004" }, rawEphemeralConfig()), "pr-42");
    expect(paths(error)).toEqual(["recommendations.airec.mode"]);
    expect(error.message).toContain(
      'search-backbone:recommendations.airec.mode: given "adopt"; expected "off" in an ephemeral stack',
    );
  });

  it("adopt requires instanceId, and an id only applies to adopt", () => {
    const missing = failure(airec({ mode: "adopt" }));
    expect(missing.message).toContain(
      'search-backbone:recommendations.airec.instanceId: not set; required when mode is "adopt"',
    );
    const stray = failure(airec({ mode: "off", instanceId: "airec-cn-o400whm78004" }));
    expect(stray.message).toContain('given "airec-cn-o400whm78004"; only applies with mode "adopt", not "off"');
  });

  it("create without the explicit opt-in is refused, naming confirmPurchase", () => {
    const error = failure(airec({ mode: "create" }));
    expect(paths(error)).toEqual(["recommendations.airec.confirmPurchase"]);
    expect(error.message).toContain(
      'search-backbone:recommendations.airec.confirmPurchase: given false; expected true with mode "create"',
    );
  });

  it("bad values name key, value and expectation", () => {
    const error = failure(
      airec({
        mode: "adopt",
        instanceId: "i-123",
        scenes: [],
        purchase: { payment: { duration: 11, pricingCycle: "Week" } },
      }),
    );
    expect(paths(error).sort()).toEqual([
      "recommendations.airec.instanceId",
      "recommendations.airec.purchase.payment.duration",
      "recommendations.airec.purchase.payment.pricingCycle",
      "recommendations.airec.scenes",
    ]);
    expect(error.message).toContain('instanceId: given "i-123"; expected an AIRec instance id like airec-cn-');
    expect(error.message).toContain("duration: given 11; expected one of 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12");
    expect(error.message).toContain('pricingCycle: given "Week"; expected one of "Month", "Year"');
  });

  it("AIRec needs a region with a VPC endpoint", () => {
    const raw = airec({ mode: "adopt", instanceId: "airec-cn-o400whm78004" }, rawProdConfig());
    raw.region = "cn-shanghai";
    raw.network.vswitches = ["l", "m", "n"].map((z, i) => ({ zone: `cn-shanghai-${z}`, cidr: `10.20.${i * 16}.0/20` }));
    const error = failure(raw, "prod");
    expect(paths(error)).toEqual(["recommendations.airec.mode"]);
    expect(error.message).toContain('expected "off" in region cn-shanghai: AIRec has VPC endpoints only in cn-beijing');
  });
});
