import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  DEFAULT_PROFILE,
  type ModelEndpoints,
  ORCHESTRATOR_REQUIRED_ENV,
  type RelevanceProfile,
} from "@search-backbone/relevance";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config";
import { cloudCredential, credentialSource } from "../src/credentials";
import type { TelemetryEvent } from "../src/events";
import { condenseQuery } from "../src/generation";
import { isIndexNotFound } from "../src/indices";
import { createMetrics } from "../src/metrics";
import { hashKey } from "../src/plugins/auth";
import { mergeEngines, subResponses } from "../src/retrieval";
import { type Sink, SinkQueue, Telemetry } from "../src/telemetry";

const dir = mkdtempSync(path.join(tmpdir(), "orch-units-"));
const file = (name: string, value: unknown) => {
  const p = path.join(dir, name);
  writeFileSync(p, JSON.stringify(value));
  return p;
};
const profile: RelevanceProfile = {
  ...DEFAULT_PROFILE,
  embedding: { model: "m", dims: 8 },
  rerank: { model: "r" },
  candidateDepth: 20,
  rerankWindow: 10,
  topK: 5,
};
const endpoints: ModelEndpoints = {
  embedding: { url: "http://m/e", model: "m", protocol: "contract", dims: 8, authSecret: null },
  rerank: { url: "http://m/r", model: "r", protocol: "contract", dims: null, authSecret: null },
};
const validEnv = () => ({
  PROFILE_FILE: file("p.json", profile),
  ENDPOINTS_FILE: file("e.json", endpoints),
  API_KEYS_FILE: file("k.json", [{ id: "a", sha256: hashKey("secret-key") }]),
  INDEX_ALIAS: "chunks",
  ELASTICSEARCH_URL: "http://es:9200",
  OPENSEARCH_URL: "https://os:9200",
  DASHSCOPE_BASE_URL: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
  DASHSCOPE_API_KEY: "sk-123",
  CHAT_MODEL: "qwen-plus",
  EVENT_LOG_FOLDER: dir,
});

describe("configuration", () => {
  it("accepts the documented environment and applies defaults", () => {
    const config = loadConfig(validEnv());
    expect(config).toMatchObject({
      PORT: 8080,
      AIREC_ENABLED: false,
      REQUEST_BUDGET_MS: 4000,
      EVENT_LOG_PREFIX: "logs/events/",
      ENGINE_MAX_IN_FLIGHT: 32,
      MODEL_MAX_IN_FLIGHT: 32,
      DEPENDENCY_QUEUE_LENGTH: 64,
      UPSTREAM_IDLE_TIMEOUT_MS: 15_000,
      CHAT_LOG_ENABLED: true,
      CHAT_LOG_PREFIX: "logs/chat/",
    });
    expect(config.profile.embedding.dims).toBe(8);
  });

  it("switches the chat log off by CHAT_LOG_ENABLED and takes a folder as its prefix", () => {
    expect(loadConfig({ ...validEnv(), CHAT_LOG_ENABLED: "false" }).CHAT_LOG_ENABLED).toBe(false);
    expect(loadConfig({ ...validEnv(), CHAT_LOG_PREFIX: "logs/transcripts/" }).CHAT_LOG_PREFIX).toBe(
      "logs/transcripts/",
    );
    expect(() => loadConfig({ ...validEnv(), CHAT_LOG_PREFIX: "/logs/chat" })).toThrow(
      'CHAT_LOG_PREFIX: expected a folder inside the bucket like logs/chat/ (no leading /, a trailing /) (given "/logs/chat")',
    );
    expect(() => loadConfig({ ...validEnv(), CHAT_LOG_ENABLED: "no" })).toThrow(/CHAT_LOG_ENABLED: .* \(given "no"\)/);
  });

  it("names every bad variable, its value and what was expected, and hides secrets", () => {
    const error = (() => {
      try {
        loadConfig({
          ...validEnv(),
          ELASTICSEARCH_URL: "es:9200",
          PORT: "http",
          AIREC_ENABLED: "yes",
          DASHSCOPE_BASE_URL: "dashscope.aliyuncs.com",
        });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.message).toContain('ELASTICSEARCH_URL: Invalid URL (given "es:9200")');
    expect(error!.message).toContain('PORT: Invalid input: expected number, received NaN (given "http")');
    expect(error!.message).toMatch(/AIREC_ENABLED: .*"true".*"false".* \(given "yes"\)/);
    expect(error!.message).toContain('DASHSCOPE_BASE_URL: Invalid URL (given "dashscope.aliyuncs.com")');
  });

  it("needs no DashScope settings: without the key, chat answers are extractive", () => {
    const config = loadConfig({ ...validEnv(), DASHSCOPE_API_KEY: "", DASHSCOPE_BASE_URL: "", CHAT_MODEL: "" });
    expect(config.DASHSCOPE_API_KEY).toBeUndefined();
    expect(config.DASHSCOPE_BASE_URL).toBe("https://dashscope.aliyuncs.com/compatible-mode/v1");
    expect(config.CHAT_MODEL).toBe("qwen-plus");
  });

  it("requires AIRec's settings when AIRec is on, and never prints a secret", () => {
    expect(() =>
      loadConfig({ ...validEnv(), AIREC_ENABLED: "true", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "very-secret" }),
    ).toThrow(/AIREC_ENDPOINT: required when AIREC_ENABLED=true \(given unset\)/);
    expect(() =>
      loadConfig({ ...validEnv(), ELASTICSEARCH_PASSWORD: "", OPENSEARCH_PASSWORD: "x".repeat(0) }),
    ).not.toThrow();
  });

  it("takes RRSA's variables or an AccessKey pair for AIRec and OSS, each set complete", () => {
    const oss = { ...validEnv(), EVENT_LOG_FOLDER: "", OSS_BUCKET: "events", OSS_REGION: "oss-cn-hangzhou" };
    const rrsa = {
      ALIBABA_CLOUD_ROLE_ARN: "acs:ram::1234567890123456:role/orchestrator",
      ALIBABA_CLOUD_OIDC_PROVIDER_ARN: "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1234",
      ALIBABA_CLOUD_OIDC_TOKEN_FILE: "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token",
    };
    expect(() => loadConfig(oss)).toThrow(/ALIBABA_CLOUD_ROLE_ARN: AIRec and the OSS event log need credentials/);
    const inCluster = loadConfig({ ...oss, ...rrsa });
    expect(credentialSource(inCluster)).toBe("oidc_role_arn");
    expect(cloudCredential(inCluster).getType()).toBe("oidc_role_arn");
    expect(() => loadConfig({ ...oss, ...rrsa, ALIBABA_CLOUD_OIDC_TOKEN_FILE: "" })).toThrow(
      /ALIBABA_CLOUD_OIDC_TOKEN_FILE: RRSA needs ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE together/,
    );
    const local = loadConfig({
      ...oss,
      ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAI-id",
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: "s3cret",
    });
    expect(cloudCredential(local).getType()).toBe("access_key");
    expect(() => loadConfig({ ...oss, ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAI-id" })).toThrow(
      /ALIBABA_CLOUD_ACCESS_KEY_SECRET: required with ALIBABA_CLOUD_ACCESS_KEY_ID \(given unset\)/,
    );
    const airec = {
      AIREC_ENABLED: "true",
      AIREC_ENDPOINT: "airec-vpc.cn-hangzhou.aliyuncs.com",
      AIREC_INSTANCE_ID: "i",
      AIREC_SCENE_ID: "s",
    };
    expect(() => loadConfig({ ...validEnv(), ...airec })).toThrow(
      /ALIBABA_CLOUD_ROLE_ARN: AIRec and the OSS event log/,
    );
    expect(() => loadConfig({ ...validEnv(), ...airec, ...rrsa })).not.toThrow();
  });

  it("checks the mounted files: profile dims against the endpoint, the API key hashes", () => {
    const env = {
      ...validEnv(),
      ENDPOINTS_FILE: file("e2.json", { ...endpoints, embedding: { ...endpoints.embedding, dims: 16 } }),
      API_KEYS_FILE: file("k2.json", [{ id: "a", sha256: "plaintext-key" }]),
    };
    expect(() => loadConfig(env)).toThrow(/PROFILE_FILE embedding.dims: given 8; expected the endpoint's dims \(16\)/);
    expect(() => loadConfig(env)).toThrow(/API_KEYS_FILE \(.*\) 0.sha256: Invalid string/);
  });

  it("reads the stack's one ModelEndpoints shape; an endpoint without declared dims serves the profile's", () => {
    const undeclared = { ...endpoints, embedding: { ...endpoints.embedding, dims: null } };
    const config = loadConfig({ ...validEnv(), ENDPOINTS_FILE: file("e3.json", undeclared) });
    expect(config.endpoints.embedding).toEqual({ ...endpoints.embedding, dims: 8 });
    const partial = { embedding: { url: "http://m/e", model: "m", dims: 8 }, rerank: endpoints.rerank };
    expect(() => loadConfig({ ...validEnv(), ENDPOINTS_FILE: file("e4.json", partial) })).toThrow(
      /ENDPOINTS_FILE \(.*\) embedding.protocol: /,
    );
  });

  it("cannot start without any of the variables the component must set", () => {
    for (const name of ORCHESTRATOR_REQUIRED_ENV) {
      const env: Record<string, string> = { ...validEnv() };
      delete env[name];
      expect(() => loadConfig(env), name).toThrow(new RegExp(`${name}: .*\\(given unset\\)`));
    }
  });
});

describe("retrieval query of a conversation", () => {
  it("keeps a self-contained question and carries the subject into a follow-up", () => {
    expect(condenseQuery([{ role: "user", content: "reset my password" }])).toBe("reset my password");
    expect(
      condenseQuery([
        { role: "user", content: "How do refunds work for invoices?" },
        { role: "assistant", content: "They are issued ..." },
        { role: "user", content: "and how long do they take?" },
      ]),
    ).toBe("and how long do they take? refunds work invoices");
  });
});

describe("merge across engines", () => {
  it("dedups by id, keeps the best fused score and both engines", () => {
    const chunk = (id: string) => ({ id, docId: id, sourceKey: `raw/${id}`, title: id, content: id, chunkNo: 0 });
    const merged = mergeEngines(
      new Map([
        [
          "elasticsearch",
          {
            fused: [
              { id: "a", score: 0.9, parts: [] },
              { id: "b", score: 0.5, parts: [] },
            ],
            chunks: new Map([
              ["a", chunk("a")],
              ["b", chunk("b")],
            ]),
          },
        ],
        [
          "opensearch",
          {
            fused: [
              { id: "b", score: 0.95, parts: [] },
              { id: "c", score: 0.1, parts: [] },
            ],
            chunks: new Map([
              ["b", chunk("b")],
              ["c", chunk("c")],
            ]),
          },
        ],
      ] as any),
    );
    expect(merged.map((h) => [h.id, h.score, h.engines.join("+")])).toEqual([
      ["b", 0.95, "elasticsearch+opensearch"],
      ["a", 0.9, "elasticsearch"],
      ["c", 0.1, "opensearch"],
    ]);
  });
});

describe("multi-search answers", () => {
  it("returns the sub-responses in order and fails the engine on a sub-search error, as a search would", () => {
    const page = (id: string) => ({ hits: { hits: [{ _id: id, _score: 1 }] }, status: 200 });
    expect(subResponses({ responses: [page("a"), page("b")] }, 2).map((r) => r.hits.hits[0]._id)).toEqual(["a", "b"]);
    expect(() => subResponses({ responses: [page("a")] }, 2)).toThrow(/answered 1 of 2/);
    const gone = { error: { type: "index_not_found_exception", reason: "no such index [chunks-v1]" }, status: 404 };
    let error: unknown;
    try {
      subResponses({ responses: [page("a"), gone] }, 2);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/404.*index_not_found_exception/);
    // The index pinning re-resolves the alias on this error, as it does for a plain search's.
    expect(isIndexNotFound(error)).toBe(true);
  });
});

describe("telemetry buffer", () => {
  const event = (i: number, type: TelemetryEvent["type"] = "expose", pad = 0): TelemetryEvent => ({
    type,
    ts: new Date(0).toISOString(),
    userId: `u${"x".repeat(pad)}`,
    queryId: `q${i}`,
    query: "q",
    docId: `d${i}`,
  });
  const collecting = (fail: () => boolean) => {
    const batches: { rows: number; bytes: number }[] = [];
    const sink: Sink<Record<string, unknown>> = {
      name: "airec",
      maxRows: 800,
      maxBytes: 1_000_000,
      encode: (e) => ({ ...e }),
      async send(rows) {
        if (fail()) throw new Error("down");
        batches.push({ rows: rows.length, bytes: Buffer.byteLength(JSON.stringify(rows.map((r) => r.row))) });
      },
    };
    return { sink, batches };
  };

  it("sends batches of at most 800 rows and 1 MB, in order, and counts drops beyond the buffer", async () => {
    const metrics = createMetrics();
    const { sink, batches } = collecting(() => false);
    const queue = new SinkQueue(sink, { capacity: 3000, flushMs: 60_000, metrics });
    const telemetry = new Telemetry([queue]);
    for (let i = 0; i < 2000; i++) telemetry.record(event(i));
    for (let i = 0; i < 1000; i++) telemetry.record(event(10_000 + i, "expose", 2000));
    for (let i = 0; i < 5; i++) telemetry.record(event(20_000 + i));
    expect(await queue.close(5000)).toBe(0);
    expect(batches.every((b) => b.rows <= 800 && b.bytes <= 1024 * 1024)).toBe(true);
    expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(3000);
    const text = await metrics.registry.metrics();
    expect(text).toContain('orchestrator_telemetry_events_total{sink="airec",outcome="dropped"} 5');
  });

  it("keeps events through an outage shorter than the buffer and never forwards an engagement without its exposure", async () => {
    const metrics = createMetrics();
    let down = true;
    const { sink, batches } = collecting(() => down);
    const queue = new SinkQueue(sink, {
      capacity: 10,
      flushMs: 20,
      metrics,
      backoff: { startingDelay: 5, maxDelay: 10, attempts: 2 },
    });
    const telemetry = new Telemetry([queue]);
    for (let i = 0; i < 10; i++) telemetry.record(event(i));
    // Buffer full: this exposure is dropped, so its click must not reach the sink either.
    expect(telemetry.record(event(99))).toEqual({ accepted: true });
    telemetry.record(event(99, "click"));
    expect(telemetry.record(event(12345, "click")).accepted).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect(batches).toEqual([]);
    down = false;
    await new Promise((r) => setTimeout(r, 200));
    expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(10);
    const text = await metrics.registry.metrics();
    expect(text).toContain('orchestrator_telemetry_events_total{sink="airec",outcome="refused"} 1');
    await queue.close(100);
  });
});
