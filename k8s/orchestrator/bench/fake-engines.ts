import { listen, readBody, sendJson } from "../test/fakes/http";

/**
 * Search engines of fixed latency for the benchmark: every `_search` answers after `latencyMs` with
 * `depth` canned hits (ids overlapping between sub-queries and engines, as real results do). The
 * Elasticsearch client insists on the product header, so the fake sends it.
 */
export async function startFakeEngine(kind: "elasticsearch" | "opensearch", latencyMs: number, depth = 50) {
  const hits = (salt: number) =>
    Array.from({ length: depth }, (_, i) => {
      const n = (i * 7 + salt) % (depth * 2);
      return {
        _id: `chunk-${n}`,
        _score: 10 - i * 0.1,
        _source: {
          content: `document ${n} ${"lorem ipsum dolor sit amet ".repeat(12)}`,
          title: `doc ${n}`,
          source_key: `raw/doc-${Math.floor(n / 3)}.md`,
          chunk_no: n % 3,
        },
      };
    });
  let calls = 0;
  const fake = await listen(async (req, res) => {
    const body = (await readBody(req)).toString("utf8");
    await new Promise((r) => setTimeout(r, latencyMs));
    calls++;
    if (kind === "elasticsearch") res.setHeader("x-elastic-product", "Elasticsearch");
    if (/_search/.test(req.url ?? "")) {
      const salt = body.includes("knn") ? 3 : 0;
      return sendJson(res, 200, {
        took: latencyMs,
        timed_out: false,
        hits: { total: { value: depth, relation: "eq" }, hits: hits(salt) },
      });
    }
    if (/_alias/.test(req.url ?? "")) return sendJson(res, 200, {});
    return sendJson(res, 200, { name: kind, version: { number: kind === "elasticsearch" ? "8.17.0" : "3.6.0" } });
  });
  return { ...fake, calls: () => calls };
}
