import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { Agent, request } from "undici";

/**
 * The benchmark's bare relay: the floor a search costs in Node on this machine. It makes the same
 * exchanges as the service's `/v1/search` with the same payloads (the embedding call, one
 * `_msearch` per engine with the service's rendered bodies and filter_path, one `_mget` of the rerank
 * window's text with the same `_source` and filter_path, the rerank call, a response of the same
 * shape) and nothing else: no fusion (the first distinct ids stand in for the fused top), no
 * validation, no auth, no logging, no metrics, no telemetry. Plain JavaScript, run by `node` as the
 * built service is. Config: one JSON argument from bench/run.ts.
 */

const c = JSON.parse(process.argv[2]);
const agent = new Agent({ connections: 512, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 30_000 });
const json = { "content-type": "application/json" };
const ndjson = { "content-type": "application/x-ndjson" };

async function post(url, headers, body) {
  const response = await request(url, { method: "POST", headers, body, dispatcher: agent });
  return JSON.parse(await response.body.text());
}

/** The service's rendered body with this request's vector where the template holds one. */
function withVector(value, vector) {
  if (Array.isArray(value) || value === null || typeof value !== "object") return value;
  const out = {};
  for (const [k, v] of Object.entries(value))
    out[k] = (k === "query_vector" || k === "vector") && Array.isArray(v) ? vector : withVector(v, vector);
  return out;
}

const msearchBody = (bodies, vector) =>
  `${bodies.map((b) => `{}\n${JSON.stringify(withVector(b, vector))}`).join("\n")}\n`;

async function search(query) {
  const embedded = await post(c.embeddingUrl, json, JSON.stringify({ input: [query], model: c.embeddingModel }));
  const vector = embedded.data[0].embedding;
  const [es, os] = await Promise.all([
    post(`${c.es}/${c.index}/_msearch?filter_path=${c.msearchFilter}`, ndjson, msearchBody(c.esBodies, vector)),
    post(`${c.os}/${c.index}/_msearch?filter_path=${c.msearchFilter}`, ndjson, msearchBody(c.osBodies, vector)),
  ]);
  const ids = [];
  const seen = new Set();
  for (const r of [...es.responses, ...os.responses])
    for (const h of r.hits.hits)
      if (ids.length < c.rerankWindow && !seen.has(h._id)) {
        seen.add(h._id);
        ids.push(h._id);
      }
  const docs = (
    await post(
      `${c.es}/${c.index}/_mget?_source=${c.sourceFields}&filter_path=${c.mgetFilter}`,
      json,
      JSON.stringify({ ids }),
    )
  ).docs;
  const reranked = await post(
    c.rerankUrl,
    json,
    JSON.stringify({ query, documents: docs.map((d) => d._source.content), top_n: docs.length }),
  );
  const results = reranked.results.slice(0, c.topK).map((r) => {
    const d = docs[r.index];
    return {
      id: d._id,
      docId: d._source.source_key,
      title: d._source.title,
      uri: d._source.source_key,
      snippet: d._source.content.slice(0, 300),
      score: r.relevance_score,
      engines: ["elasticsearch", "opensearch"],
      scores: { fused: r.relevance_score, rerank: r.relevance_score },
    };
  });
  return { queryId: randomUUID(), results, degraded: false, rerank: "applied", warnings: [] };
}

const server = createServer((req, res) => {
  if (req.url === "/healthz") return res.end("ok");
  const parts = [];
  req.on("data", (part) => parts.push(part));
  req.on("end", () => {
    search(JSON.parse(Buffer.concat(parts).toString("utf8")).query).then(
      (body) => {
        const text = JSON.stringify(body);
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
        res.end(text);
      },
      (error) => {
        res.writeHead(500);
        res.end(String(error));
      },
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(c.port, "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
