import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { sha256Hex } from "../../components/orchestrator";
import { ConfigError } from "../../stacks/config";
import { resolved } from "../helpers/mocks";
import { runProgram } from "../helpers/program";
import { readRepoFile } from "../helpers/stack-files";

const SERVICE = "alicloud:pai/service:Service";

function devWith(change: (config: Record<string, any>) => void): string {
  const stack = parse(readRepoFile("Pulumi.dev.yaml"));
  change(stack.config);
  return stringify(stack);
}

describe("chat.backend eas under mocks", () => {
  it("dev registers the chat LLM on EAS, VPC-only, serving its own fine-tuning run read-only", async () => {
    const { recorder, error } = await runProgram("dev", readRepoFile("Pulumi.dev.yaml"));
    if (error) throw error;
    const service = recorder.one(SERVICE);
    const config = JSON.parse(service.inputs.serviceConfig);
    // The merged weights train-llm --merge writes under the LLM job's output (models/chat/<version>/model/).
    const llmJob = recorder.resources.find((r) => String(r.inputs.userCommand ?? "").includes("train-llm"));
    expect(llmJob?.inputs.artifactUri).toMatch(/^oss:\/\/acme-search-dev-artifacts\/models\/chat\/v1-[0-9a-f]+\/$/);
    expect(config.storage[0].oss).toEqual({ path: `${llmJob?.inputs.artifactUri}model/`, readOnly: true });
    expect(config.metadata.name).toBe("acme_search_dev_chat");
    expect(config.networking.disable_internet_endpoint).toBe(true);
    expect(config.cloud.networking.vswitch_id).toMatch(/^network-vsw-cn-hangzhou-j-id-/);
    expect(config.cloud.networking.security_group_id).toMatch(/gpu/);
    expect(config.containers[0].script).toContain("--served-model-name backbone-chat");
    expect(service.inputs.workspaceId).toBe("123456");
    expect(service.inputs.tags).toMatchObject({ project: "search-backbone", stack: "dev" });
  });

  it("gives the orchestrator the EAS base URL in its ConfigMap and the token in its Secret", async () => {
    const text = devWith((config) => {
      config["search-backbone:orchestrator"] = {
        enabled: true,
        dashscopeApiKey: "sk-orchestrator-chat-key",
        apiKeys: [{ id: "web", sha256: sha256Hex("caller-key") }],
        image: { username: "acme-pusher", password: "Registry-Pa55word" },
      };
    });
    const { recorder, error } = await runProgram("dev", text);
    if (error) throw error;
    const data = recorder.one("kubernetes:core/v1:ConfigMap", "orchestrator-config").inputs.data;
    expect(data.CHAT_BACKEND).toBe("eas");
    expect(data.CHAT_MODEL).toBe("backbone-chat");
    expect(data.EAS_CHAT_BASE_URL).toBe(
      "http://1234567890123456.vpc.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/acme_search_dev_chat/v1",
    );
    expect(JSON.stringify(data)).not.toContain("eas-test-token");
    const secret = recorder.one("kubernetes:core/v1:Secret", "orchestrator-secrets").inputs.stringData;
    expect(secret[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);
    expect(secret.value.EAS_CHAT_TOKEN).toBe("eas-test-token-0123456789");
  });

  it("registers no EAS service with chat.backend dashscope and the project file's empty eas block", async () => {
    const { recorder, error } = await runProgram(
      "dev",
      devWith((config) => {
        config["search-backbone:chat"] = { backend: "dashscope" };
        config["search-backbone:eas"] = {};
      }),
    );
    if (error) throw error;
    expect(recorder.ofType(SERVICE)).toEqual([]);
  });

  it("serves a named prefix instead, and refuses neither a prefix nor a merged run of its own", async () => {
    const named = await runProgram(
      "dev",
      devWith((config) => {
        config["search-backbone:eas"].llm.modelPrefix = "models/llm/v1/";
      }),
    );
    if (named.error) throw named.error;
    const config = JSON.parse(named.recorder.one(SERVICE).inputs.serviceConfig);
    expect(config.storage[0].oss.path).toBe("oss://acme-search-dev-artifacts/models/llm/v1/");
    const { recorder, error } = await runProgram(
      "dev",
      devWith((config) => {
        config["search-backbone:models"].training.llm.merge = false;
      }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toContain("eas.llm.modelPrefix");
    expect(recorder.resources).toEqual([]);
  });

  it("refuses chat.backend eas without an eas block, before registering anything", async () => {
    const { recorder, error } = await runProgram(
      "dev",
      devWith((config) => {
        delete config["search-backbone:eas"];
      }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toContain('expected an eas block because chat.backend is "eas"');
    expect(recorder.resources).toEqual([]);
  });
});

describe("serving.backend eas under mocks", () => {
  const servedOnEas = devWith((config) => {
    config["search-backbone:serving"].backend = "eas";
    config["search-backbone:orchestrator"] = {
      enabled: true,
      dashscopeApiKey: "sk-orchestrator-chat-key",
      apiKeys: [{ id: "web", sha256: sha256Hex("caller-key") }],
      image: { username: "acme-pusher", password: "Registry-Pa55word" },
    };
  });

  it("registers an EAS service for embed and rerank instead of gn7i hosts, and points modelEndpoints at it", async () => {
    const { recorder, outputs, error } = await runProgram("dev", servedOnEas);
    if (error) throw error;
    const services = recorder.ofType(SERVICE).map((r) => JSON.parse(r.inputs.serviceConfig));
    expect(services.map((c) => c.metadata.name).sort()).toEqual(["acme_search_dev_chat", "acme_search_dev_models"]);
    const models = services.find((c) => c.metadata.name === "acme_search_dev_models");
    expect(models.containers[0].script).toContain("--models embed=embed/v1/embed.mar rerank=rerank/v1/rerank.mar");
    expect(models.storage[0].oss).toEqual({ path: "oss://acme-search-dev-artifacts/models/", readOnly: true });
    expect(recorder.resources.filter((r) => r.custom && r.name.startsWith("models-serving-"))).toEqual([]);

    const base = "http://1234567890123456.vpc.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/acme_search_dev_models";
    const endpoints = await resolved(outputs.modelEndpoints);
    expect(endpoints.embedding).toMatchObject({
      url: `${base}/predictions/embed`,
      protocol: "contract",
      authSecret: "eas-models-token",
    });
    expect(endpoints.rerank).toMatchObject({ url: `${base}/predictions/rerank`, protocol: "contract" });
    // Search jobs and orchestrator read the same endpoints, and the EAS token as their bearer key.
    const jobs = recorder.one("kubernetes:core/v1:ConfigMap", "search-jobs-settings").inputs.data;
    const orchestrator = recorder.one("kubernetes:core/v1:ConfigMap", "orchestrator-config").inputs.data;
    for (const data of [jobs, orchestrator]) {
      expect(JSON.parse(data["endpoints.json"]).embedding.url).toBe(`${base}/predictions/embed`);
      expect(JSON.parse(data["endpoints.json"]).rerank.url).toBe(`${base}/predictions/rerank`);
    }
    const secret = recorder.one("kubernetes:core/v1:Secret", "orchestrator-secrets").inputs.stringData;
    expect(secret.value.MODEL_API_KEY).toBe("eas-test-token-0123456789");
    const jobsKey = recorder.one("kubernetes:core/v1:Secret", "search-jobs-model-key").inputs.stringData;
    expect(jobsKey[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);
    expect(jobsKey.value).toEqual({ key: "eas-test-token-0123456789" });
    const setup = recorder.one("kubernetes:batch/v1:Job").inputs.spec.template.spec.containers[0].env;
    expect(setup.find((e: { name: string }) => e.name === "MODEL_API_KEY").valueFrom.secretKeyRef.key).toBe("key");
  });
});
