import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../stacks/config";
import { resolved } from "../helpers/mocks";
import { runProgram } from "../helpers/program";
import { ephemeralStackText, readRepoFile } from "../helpers/stack-files";

const DLC = "pulumi-nodejs:dynamic/backbone-pai:DlcJob";
const DEPLOYMENT = "pulumi-nodejs:dynamic/backbone-bailian:Deployment";

const evaluate = runProgram;

/** The dev stack file with models served by Bailian: stock v4 embeddings, a fine-tuned reranker. */
const devOnBailian = (apiKey = "\n      apiKey: sk-test-0123456789") =>
  readRepoFile("Pulumi.dev.yaml")
    .replace(
      "      deployments: {}",
      `      deployments:\n        rerank:\n          modelName: qwen3-rerank-ft-202611\n          capacity: 1${apiKey}`,
    )
    .replace(
      "      endpoint: torchserve\n      model: bge-base-zh-v1.5",
      "      endpoint: bailian\n      model: text-embedding-v4",
    )
    .replace(
      "      endpoint: torchserve\n      model: bge-reranker-base",
      "      endpoint: bailian\n      model: qwen3-rerank",
    )
    // The search jobs speak the model-endpoint contract only: a gateway in front of DashScope.
    .concat(
      "  search-backbone:search:\n    modelEndpoints:\n" +
        "      embeddingUrl: http://gateway.internal:8080/v1/embeddings\n" +
        "      rerankUrl: http://gateway.internal:8080/v1/rerank\n",
    );

describe("models in the dev stack", () => {
  it("registers the PAI workspace, datasets, the code, two DLC jobs and gn7i hosts behind an internal NLB", async () => {
    const { recorder, outputs, error } = await evaluate("dev", readRepoFile("Pulumi.dev.yaml"));
    expect(error).toBeUndefined();
    expect(recorder.ofType("alicloud:pai/workspaceWorkspace:WorkspaceWorkspace")).toHaveLength(1);
    expect(recorder.ofType("alicloud:pai/workspaceDataset:WorkspaceDataset")).toHaveLength(2);
    expect(recorder.ofType("alicloud:oss/bucketObject:BucketObject").length).toBeGreaterThan(0);
    // The third job, the chat model's, has a test of its own below.
    const jobs = recorder.ofType(DLC).filter((j) => j.name !== "models-training-llm");
    expect(jobs.map((j) => j.name).sort()).toEqual(["models-training-embedding", "models-training-rerank"]);
    for (const job of jobs) {
      expect(job.inputs.instanceType).toBe("ecs.gn7i-c8g1.2xlarge");
      expect(job.inputs.image).toContain("cn-hangzhou");
      expect(job.inputs.artifactUri).toMatch(
        /^oss:\/\/acme-search-dev-artifacts\/models\/(embed|rerank)\/v1-[0-9a-f]{10}\/$/,
      );
      expect(job.inputs.dataSources).toContainEqual({
        uri: "oss://acme-search-dev-docs.oss-cn-hangzhou-internal.aliyuncs.com/training/",
        mountPath: "/mnt/data",
      });
      // The job's inputs never carry credentials.
      const { __provider: _, ...inputs } = job.inputs;
      expect(JSON.stringify(inputs)).not.toMatch(/AccessKey|apiKey|sk-/i);
    }
    expect(recorder.ofType("alicloud:ecs/instance:Instance")).toHaveLength(1);
    expect(recorder.one("alicloud:nlb/loadBalancer:LoadBalancer").inputs.addressType).toBe("Intranet");
    expect(recorder.ofType(DEPLOYMENT)).toHaveLength(0);

    const endpoints = await resolved(outputs.modelEndpoints);
    expect(endpoints).toEqual({
      embedding: {
        url: expect.stringMatching(/^http:\/\/.+:8080\/predictions\/embed$/),
        model: "embed",
        protocol: "contract",
        dims: 768,
        authSecret: null,
      },
      rerank: {
        url: expect.stringMatching(/^http:\/\/.+:8080\/predictions\/rerank$/),
        model: "rerank",
        protocol: "contract",
        dims: null,
        authSecret: null,
      },
    });
    // The hosts serve exactly what the runs write.
    const host = recorder.one("alicloud:ecs/instance:Instance");
    const embedRun = jobs
      .find((j) => j.name === "models-training-embedding")!
      .inputs.artifactUri.replace("oss://acme-search-dev-artifacts/", "");
    expect(host.inputs.userData).toContain(`fetch ${embedRun}embed.mar`);
  });

  it("with Bailian per config: a deployment for the fine-tuned reranker, stock v4 embeddings, the key as a secret", async () => {
    const { recorder, outputs, error } = await evaluate("dev", devOnBailian());
    expect(error).toBeUndefined();
    expect(recorder.ofType(DEPLOYMENT).map((d) => d.inputs)).toEqual([
      expect.objectContaining({
        modelName: "qwen3-rerank-ft-202611",
        capacity: 1,
        baseUrl: "https://dashscope.aliyuncs.com",
      }),
    ]);
    expect(JSON.stringify(recorder.ofType(DEPLOYMENT)[0]!.inputs)).not.toContain("sk-test");
    expect(JSON.stringify(recorder.resources.map((r) => r.inputs))).not.toContain("sk-test");
    // No model on TorchServe: no GPU hosts.
    expect(recorder.ofType("alicloud:ecs/instance:Instance")).toHaveLength(0);
    const endpoints = await resolved(outputs.modelEndpoints);
    expect(endpoints.embedding).toEqual({
      url: "https://dashscope.aliyuncs.com/api/v1/services/embeddings/text-embedding/text-embedding",
      model: "text-embedding-v4",
      protocol: "dashscope",
      dims: 768,
      authSecret: "dashscope-api-key",
    });
    expect(endpoints.rerank).toMatchObject({ protocol: "dashscope", authSecret: "dashscope-api-key", dims: null });
    expect(await pulumi.isSecret(outputs.modelSecrets)).toBe(true);
  });
});

describe("the chat model's fine-tuning job (models.training.llm)", () => {
  it("dev registers it with its own role: prepare-chat + train-llm on the mounted base, one output folder", async () => {
    const { recorder, error } = await evaluate("dev", readRepoFile("Pulumi.dev.yaml"));
    expect(error).toBeUndefined();
    const job = recorder.one(DLC, "models-training-llm");
    const base = "oss://acme-search-dev-artifacts/base-models/Qwen2.5-1.5B-Instruct/";
    expect(job.inputs.instanceType).toBe("ecs.gn7i-c8g1.2xlarge");
    expect(job.inputs.userCommand).toContain(
      "python -m backbone_models.cli prepare-chat --raw /mnt/raw --logs /mnt/logs",
    );
    expect(job.inputs.userCommand).toContain(
      `train-llm --data /mnt/output/chat-data --base ${base} --out /mnt/output --merge`,
    );
    expect(job.inputs.envs.BACKBONE_OSS_MOUNTS).toBe(`${base}=/mnt/base`);
    const internal = (bucket: string, prefix: string) =>
      `oss://${bucket}.oss-cn-hangzhou-internal.aliyuncs.com/${prefix}`;
    expect(job.inputs.dataSources).toEqual(
      expect.arrayContaining([
        { uri: internal("acme-search-dev-docs", "raw/"), mountPath: "/mnt/raw" },
        { uri: internal("acme-search-dev-docs", "logs/"), mountPath: "/mnt/logs" },
        { uri: internal("acme-search-dev-artifacts", "base-models/Qwen2.5-1.5B-Instruct/"), mountPath: "/mnt/base" },
      ]),
    );
    expect(job.inputs.artifactUri).toMatch(/^oss:\/\/acme-search-dev-artifacts\/models\/chat\/v1-[0-9a-f]{10}\/$/);
    const output = job.inputs.dataSources.find((d: { mountPath: string }) => d.mountPath === "/mnt/output");
    expect(output.uri).toBe(
      internal("acme-search-dev-artifacts", job.inputs.artifactUri.split("/").slice(3).join("/")),
    );

    const role = recorder.one("alicloud:ram/role:Role", "identity-llm-training-role");
    expect(role.inputs.roleName).toBe("acme-search-dev-llm-training");
    const policy = JSON.parse(
      recorder.one("alicloud:ram/policy:Policy", "identity-llm-training-policy").inputs.policyDocument,
    );
    const resources = policy.Statement.flatMap((s: { Resource: string[] }) => s.Resource);
    expect(resources.some((r: string) => /:acme-search-dev-artifacts\/models\/chat\/\*$/.test(r))).toBe(true);
    expect(resources.some((r: string) => /:acme-search-dev-artifacts\/models\/\*$/.test(r))).toBe(false);
    // The embedder's and reranker's role never reads the chat transcripts.
    const other = recorder.one("alicloud:ram/policy:Policy", "identity-training-policy").inputs.policyDocument;
    expect(other).not.toContain("logs/");
  });

  it("an ephemeral stack registers no LLM job and no LLM role, and refuses one turned on", async () => {
    const { recorder, error } = await evaluate("pr-42", ephemeralStackText());
    expect(error).toBeUndefined();
    expect(recorder.ofType(DLC)).toEqual([]);
    expect(recorder.resources.filter((r) => r.name.includes("llm"))).toEqual([]);

    const turnedOn = `${ephemeralStackText()}  search-backbone:models:\n    training:\n      llm:\n        enabled: true\n`;
    const refused = await evaluate("pr-42", turnedOn);
    expect(refused.error).toBeInstanceOf(ConfigError);
    const message = (refused.error as Error).message;
    expect(message).toContain("models.training.llm.enabled: given true; expected false in an ephemeral stack");
    expect(message).toContain("models.training.llm.base");
  });
});

describe("chat.fineTune: bailian (Model Studio fine-tunes and deploys the chat model)", () => {
  it("the orchestrator's chat calls that deployment, not the stock model", async () => {
    const text = readRepoFile("Pulumi.dev.yaml")
      .replace(
        "search-backbone:chat:\n    backend: eas\n",
        "search-backbone:chat:\n    backend: dashscope\n    fineTune: bailian\n",
      )
      .concat(
        "  search-backbone:orchestrator:\n    enabled: true\n    dashscopeApiKey: sk-orchestrator-chat-key\n",
        `    apiKeys:\n      - id: web\n        sha256: ${"ab".repeat(32)}\n`,
        "    image:\n      username: acme-pusher\n      password: Registry-Pa55word\n",
      );
    const { recorder, error } = await evaluate("dev", text, {
      [DEPLOYMENT]: () => ({ deployedModel: "qwen3-8b-ft-deployed-0001" }),
    });
    expect(error).toBeUndefined();
    const configMaps = recorder.ofType("kubernetes:core/v1:ConfigMap").map((c) => c.inputs.data ?? {});
    const env = configMaps.find((data) => "CHAT_MODEL" in data);
    expect(env?.CHAT_MODEL).toBe("qwen3-8b-ft-deployed-0001");
    expect(env?.CHAT_BACKEND).toBe("dashscope");
  });

  it("the DLC job only prepares the rows on a CPU; a fine-tune reads them and a deployment serves its model", async () => {
    // Model Studio serves the model it fine-tuned, so DashScope writes the answers, not EAS.
    const text = readRepoFile("Pulumi.dev.yaml").replace(
      "search-backbone:chat:\n    backend: eas\n",
      "search-backbone:chat:\n    backend: dashscope\n    fineTune: bailian\n",
    );
    expect(text).toContain("fineTune: bailian");
    const { recorder, error } = await evaluate("dev", text);
    expect(error).toBeUndefined();
    const job = recorder.one(DLC, "models-training-llm");
    expect(job.inputs.instanceType).toBe("ecs.g7.xlarge");
    expect(job.inputs.userCommand).toContain(
      "prepare-chat --raw /mnt/raw --logs /mnt/logs --out /mnt/output/chat-data",
    );
    expect(job.inputs.userCommand).not.toContain("train-llm");
    expect(job.inputs.dataSources.map((d: { mountPath: string }) => d.mountPath)).not.toContain("/mnt/base");

    const fineTune = recorder.one("pulumi-nodejs:dynamic/backbone-bailian:FineTune");
    const run = job.inputs.artifactUri.replace("oss://acme-search-dev-artifacts/", "");
    expect(fineTune.inputs).toMatchObject({
      model: "qwen3-8b",
      trainingType: "efficient_sft",
      nEpochs: 3,
      data: {
        bucket: "acme-search-dev-artifacts",
        region: "oss-cn-hangzhou",
        trainKey: `${run}chat-data/sft/train.jsonl`,
        validKey: `${run}chat-data/sft/valid.jsonl`,
      },
    });
    expect(recorder.ofType(DEPLOYMENT).map((d) => d.name)).toEqual(["models-chat-deployment"]);
    // Nothing on this path reads a base checkpoint.
    const policy = recorder.one("alicloud:ram/policy:Policy", "identity-llm-training-policy").inputs.policyDocument;
    expect(policy).not.toContain("base-models");
    const { __provider: _, ...inputs } = fineTune.inputs;
    expect(JSON.stringify(inputs)).not.toMatch(/sk-|AccessKey/i);
  });
});

describe("models in the prod and ephemeral stacks", () => {
  it("prod trains on its configured spec and runs two hosts", async () => {
    const { recorder, error } = await evaluate("prod", readRepoFile("Pulumi.prod.yaml"));
    expect(error).toBeUndefined();
    expect(recorder.ofType(DLC).map((j) => j.inputs.instanceType)).toEqual([
      "ecs.gn7i-c16g1.4xlarge",
      "ecs.gn7i-c16g1.4xlarge",
    ]);
    expect(recorder.ofType("alicloud:ecs/instance:Instance")).toHaveLength(2);
    for (const host of recorder.ofType("alicloud:ecs/instance:Instance"))
      expect(host.inputs.spotStrategy).toBe("NoSpot");
  });
});

describe("bad model configuration stops the program before anything is registered", () => {
  const cases: [string, string, RegExp][] = [
    [
      "an unknown GPU type",
      readRepoFile("Pulumi.dev.yaml").replace(
        "      instanceType: ecs.gn7i-c8g1.2xlarge\n      count: 1",
        "      instanceType: ecs.gn9x-c8g1.2xlarge\n      count: 1",
      ),
      /serving\.gpu\.instanceType: given "ecs\.gn9x-c8g1\.2xlarge"; expected a gn7i GPU type/,
    ],
    [
      "dims the model cannot produce",
      readRepoFile("Pulumi.dev.yaml").replace("      dims: 768", "      dims: 1024"),
      /relevance\.embedding\.dims: given 1024; expected a dimension that bge-base-zh-v1\.5 on torchserve supports: 768/,
    ],
    [
      "a missing Bailian API key",
      devOnBailian(""),
      /serving\.bailian\.apiKey: not set; expected a DashScope API key because relevance\.embedding and relevance\.rerank use Bailian/,
    ],
  ];
  it.each(cases)("%s", async (_label, text, expected) => {
    const { recorder, error } = await evaluate("dev", text);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(expected);
    expect(recorder.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
  });
});
