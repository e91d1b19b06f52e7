import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DEFAULT_PROFILE, ENGAGEMENT_FIELDS, engagementIndex, isVersionedIndex } from "@search-backbone/relevance";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { bulkFailure, engagementDoc, isPositive, popularBody, recentBody } from "../src/engagement";
import type { TelemetryEvent } from "../src/events";
import { createMetrics } from "../src/metrics";
import { hashKey } from "../src/plugins/auth";
import { type Sink, SinkQueue, Telemetry } from "../src/telemetry";

const eventArb: fc.Arbitrary<TelemetryEvent> = fc.record(
  {
    type: fc.constantFrom("expose", "click", "citation_open", "feedback"),
    ts: fc.constant("2026-12-07T10:00:00.000Z"),
    userId: fc.string({ minLength: 1 }),
    principalId: fc.string({ minLength: 1 }),
    queryId: fc.uuid(),
    query: fc.string(),
    docId: fc.string({ minLength: 1 }),
    position: fc.nat(),
    channel: fc.constantFrom("search", "chat", "recs"),
    value: fc.constantFrom("up", "down"),
    traceId: fc.string(),
  },
  { requiredKeys: ["type", "ts", "userId", "queryId"] },
) as fc.Arbitrary<TelemetryEvent>;

describe("engagement documents", () => {
  it("are written for positive engagements only, with only the index's strict fields (no query, no groups)", () => {
    const allowed = new Set<string>(Object.values(ENGAGEMENT_FIELDS));
    fc.assert(
      fc.property(eventArb, (event) => {
        const doc = engagementDoc(event);
        const positive =
          event.docId !== undefined &&
          (event.type === "click" ||
            event.type === "citation_open" ||
            (event.type === "feedback" && event.value === "up"));
        expect(isPositive(event)).toBe(positive);
        expect(doc !== undefined).toBe(positive);
        if (!doc) return;
        for (const key of Object.keys(doc)) expect(allowed.has(key), key).toBe(true);
        expect(doc).toMatchObject({ ts: event.ts, userId: event.userId, docId: event.docId, type: event.type });
      }),
    );
  });

  it("ask for a user's last documents once each, and for popularity within the window only", () => {
    expect(recentBody("u1", 20)).toEqual({
      size: 20,
      _source: ["docId"],
      query: { bool: { filter: [{ term: { userId: "u1" } }] } },
      sort: [{ ts: "desc" }],
      collapse: { field: "docId" },
    });
    const popular = popularBody("7d", 9);
    expect(popular.query.bool.filter).toEqual([{ range: { ts: { gte: "now-7d", lte: "now+5m" } } }]);
    expect(popular.aggs.popular.terms).toMatchObject({ field: "docId", size: 9 });
  });

  it("turn a partly failed bulk answer into an error naming the reason", () => {
    expect(bulkFailure({ errors: false, items: [] })).toBeUndefined();
    const failure = bulkFailure({
      errors: true,
      items: [
        { index: { status: 201 } },
        {
          index: { status: 400, error: { type: "strict_dynamic_mapping_exception", reason: "mapping set to strict" } },
        },
      ],
    });
    expect(failure?.message).toBe(
      "engagement index write failed (400): strict_dynamic_mapping_exception: mapping set to strict",
    );
  });

  it("live in an index the setup never retires as an old generation", () => {
    expect(engagementIndex("chunks")).toBe("chunks-engagement");
    expect(isVersionedIndex("chunks", engagementIndex("chunks"))).toBe(false);
  });
});

describe("the engagement sink", () => {
  it("receives clicks although it keeps no exposures, and never an engagement telemetry refused", async () => {
    const rows: unknown[] = [];
    const sink: Sink<Record<string, string>> = {
      name: "engagement",
      maxRows: 100,
      maxBytes: 1_000_000,
      keepsExposures: false,
      encode: engagementDoc,
      send: async (batch) => {
        rows.push(...batch.map((r) => r.row));
      },
    };
    const queue = new SinkQueue(sink, { capacity: 100, flushMs: 60_000, metrics: createMetrics() });
    const telemetry = new Telemetry([queue]);
    const base = { ts: "2026-12-07T10:00:00.000Z", userId: "u1", principalId: "key-1", queryId: "q1" };
    telemetry.record({ ...base, type: "expose", docId: "a.md", query: "x", channel: "search" });
    telemetry.record({ ...base, type: "click", docId: "a.md" });
    expect(telemetry.record({ ...base, type: "click", docId: "never-shown.md" }).accepted).toBe(false);
    await queue.close(1000);
    expect(rows).toEqual([
      { ts: base.ts, userId: "u1", principalId: "key-1", docId: "a.md", type: "click", channel: "search" },
    ]);
  });
});

describe("engagement settings", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "orch-engagement-"));
  const file = (name: string, value: unknown) => {
    const p = path.join(dir, name);
    writeFileSync(p, JSON.stringify(value));
    return p;
  };
  const profile = { ...DEFAULT_PROFILE, embedding: { model: "m", dims: 8 }, rerank: { model: "r" } };
  const env = {
    PROFILE_FILE: file("p.json", profile),
    ENDPOINTS_FILE: file("e.json", {
      embedding: { url: "http://m/e", model: "m", protocol: "contract", dims: 8, authSecret: null },
      rerank: { url: "http://m/r", model: "r", protocol: "contract", dims: null, authSecret: null },
    }),
    API_KEYS_FILE: file("k.json", [{ id: "a", sha256: hashKey("secret-key") }]),
    INDEX_ALIAS: "chunks",
    ELASTICSEARCH_URL: "http://es:9200",
    OPENSEARCH_URL: "https://os:9200",
    EVENT_LOG_FOLDER: dir,
  };

  it("default to a 7-day popularity window and 90 days of retention", () => {
    expect(loadConfig(env)).toMatchObject({ ENGAGEMENT_POPULAR_WINDOW: "7d", ENGAGEMENT_RETENTION_DAYS: 90 });
    expect(loadConfig({ ...env, ENGAGEMENT_POPULAR_WINDOW: "12h" }).ENGAGEMENT_POPULAR_WINDOW).toBe("12h");
  });

  it("refuse a window that is not date math, naming it", () => {
    expect(() => loadConfig({ ...env, ENGAGEMENT_POPULAR_WINDOW: "7 days" })).toThrow(
      /ENGAGEMENT_POPULAR_WINDOW: a window like 7d, 12h or 30m .* \(given "7 days"\)/,
    );
    expect(() => loadConfig({ ...env, ENGAGEMENT_RETENTION_DAYS: "0" })).toThrow(/ENGAGEMENT_RETENTION_DAYS: .*"0"/);
  });
});
