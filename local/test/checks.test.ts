import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { archiveProblem, chatLogProblem, docsProblem, javaMajor, portFree, portProblems } from "../src/checks.ts";
import { progressLine } from "../src/progress.ts";
import { probeQuery } from "../src/stack.ts";

describe("checks before anything starts", () => {
  it("reads Java's major version in both numbering schemes", () => {
    expect(javaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(javaMajor('java version "1.8.0_402"')).toBe(8);
    expect(javaMajor('openjdk version "25" 2025-09-16')).toBe(25);
    expect(javaMajor("nothing")).toBeUndefined();
  });

  it("names a port in use and what the stack wanted it for", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    expect(await portFree(port)).toBe(false);
    const problems = await portProblems({
      orchestrator: port,
      opensearch: 0,
      opensearchTransport: 0,
      elasticsearch: 0,
      elasticsearchTransport: 0,
      inference: 0,
      management: 0,
      metrics: 0,
    });
    expect(problems).toEqual([
      `port ${port} on 127.0.0.1 (the orchestrator (the page)) is in use by another process; stop it or pass --port <n>`,
    ]);
    expect(await portProblems({ orchestrator: port } as any, new Set([port]))).toEqual([]);
    await new Promise((r) => server.close(r));
  });

  it("names a documents folder that is missing, a file, or empty", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "docs-"));
    expect(docsProblem(path.join(dir, "nope"))).toBe(`--docs: ${path.join(dir, "nope")} does not exist`);
    writeFileSync(path.join(dir, "f.txt"), "x");
    expect(docsProblem(path.join(dir, "f.txt"))).toMatch(/is not a folder$/);
    mkdirSync(path.join(dir, "empty"));
    expect(docsProblem(path.join(dir, "empty"))).toMatch(/holds no documents$/);
    expect(docsProblem(dir)).toBeUndefined();
  });

  it("takes CHAT_LOG_ENABLED unset, true or false, and names any other value", () => {
    for (const value of [undefined, "", "true", "false"])
      expect(chatLogProblem({ CHAT_LOG_ENABLED: value })).toBeUndefined();
    expect(chatLogProblem({ CHAT_LOG_ENABLED: "no" })).toBe(
      'CHAT_LOG_ENABLED: given "no"; expected true or false (false: no chat log in .local/logs/chat)',
    );
  });

  it("names a model archive that is missing or not a zip", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "mar-"));
    expect(archiveProblem(path.join(dir, "embed.mar"))).toBe(`model archive ${path.join(dir, "embed.mar")} is missing`);
    writeFileSync(path.join(dir, "embed.mar"), "truncated");
    expect(archiveProblem(path.join(dir, "embed.mar"))).toMatch(/embed\.mar is corrupt \(not a zip\); delete it/);
    writeFileSync(path.join(dir, "ok.mar"), Buffer.from([0x50, 0x4b, 0x03, 0x04, 0]));
    expect(archiveProblem(path.join(dir, "ok.mar"))).toBeUndefined();
  });

  it("probes with the first line of words of the first document", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "docs-"));
    writeFileSync(path.join(dir, "b.txt"), "second");
    writeFileSync(path.join(dir, "a.rst.txt"), "\n====\n:mod:`argparse` --- Parser for command-line options\n");
    expect(probeQuery(dir)).toBe("mod argparse Parser for command line options");
  });

  it("prints the elapsed time on every progress line", () => {
    expect(progressLine("engines", "green", 12_345)).toBe("[  12.3 s] engines: green");
  });
});
