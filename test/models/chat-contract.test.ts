import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chunkId, chunkText } from "search-backbone-jobs/ingest/chunk";
import { parseDocument } from "search-backbone-jobs/ingest/parse";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/stack-files";

/**
 * `prepare-chat` (models/) rebuilds the chunks a chat turn's prompt held from raw/, with a Python port
 * of the ingestion's parse and chunking (models/backbone_models/ingest_chunks.py). This fixture is the
 * ingestion's output for awkward inputs; the Python tests check the same file, so a change to the
 * chunking fails here until the fixture and the port follow it.
 */
const fixture = JSON.parse(readFileSync(join(repoRoot, "models/tests/fixtures/ingest-chunks.json"), "utf8")) as {
  cases: { key: string; body: string; title: string; chunks: { id: string; text: string }[] }[];
};

describe("the ingestion's chunks as models/ rebuilds them", () => {
  it.each(fixture.cases.map((c) => [c.key, c] as const))("%s", async (_, c) => {
    const parsed = await parseDocument(c.key, Buffer.from(c.body, "utf8"));
    expect(parsed.title).toBe(c.title);
    expect(chunkText(parsed.text).map((text, n) => ({ id: chunkId(c.key, n), text }))).toEqual(c.chunks);
  });
});
