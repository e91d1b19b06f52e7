import { beforeEach, describe, expect, it } from "vitest";
import {
  type BailianFineTuneSpec,
  bailianSftFile,
  createFineTune,
  fineTuneBody,
  fineTuneProblems,
} from "../../components/bailian/fine-tune";
import { DashScopeFake, dashscopeFakeEnv } from "../helpers/fakes/dashscope";
import { useApiFake } from "../helpers/fakes/setup";

/**
 * The Model Studio fine-tune against a local DashScope fake that checks the documented request shapes
 * (upload, create, poll). The OSS read is replaced by a reader of prepare-chat-shaped rows: the real
 * one (ali-oss with the deployer's credentials) is not exercised here.
 */
const row = (question: string, answer: string) =>
  JSON.stringify({
    messages: [
      { role: "system", content: "Answer ... Sources:\n[1] json\nThe json module." },
      { role: "user", content: question },
      { role: "assistant", content: answer },
    ],
    queryId: `q-${question.length}`,
  });
const TRAIN = `${row("What does json do?", "It encodes [1].")}\n${row("And pathlib?", "Paths [1].")}\n`;
const objects: Record<string, string> = {
  "models/chat/v1-abc/chat-data/sft/train.jsonl": TRAIN,
  "models/chat/v1-abc/chat-data/sft/valid.jsonl": "",
};
const read = async (key: string) => {
  const text = objects[key];
  if (text === undefined) throw new Error(`no object ${key}`);
  return text;
};

const wait = { timeoutMinutes: 600, pollSeconds: 60 };
const run = useApiFake(() => new DashScopeFake(), dashscopeFakeEnv);
let spec: BailianFineTuneSpec;
beforeEach(() => {
  spec = {
    baseUrl: run.url,
    model: "qwen3-8b",
    trainingType: "efficient_sft",
    nEpochs: 3,
    suffix: "v1-abc",
    data: {
      bucket: "acme-search-dev-artifacts",
      region: "oss-cn-hangzhou",
      trainKey: "models/chat/v1-abc/chat-data/sft/train.jsonl",
      validKey: "models/chat/v1-abc/chat-data/sft/valid.jsonl",
    },
  };
});

describe("BailianFineTune against a local DashScope fake", () => {
  it("uploads the rows as ChatML, creates the job, polls until SUCCEEDED and answers the fine-tuned model", async () => {
    const result = await createFineTune(spec, wait, run.ctx(), read);
    expect(result).toEqual({
      jobId: "ft-202612071900-0001",
      status: "SUCCEEDED",
      finetunedOutput: "qwen3-8b-v1-abc-ft-202612071900-0001",
    });
    expect(run.fake.http.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /api/v1/files",
      "POST /api/v1/fine-tunes",
      "GET /api/v1/fine-tunes/ft-202612071900-0001",
      "GET /api/v1/fine-tunes/ft-202612071900-0001",
      "GET /api/v1/fine-tunes/ft-202612071900-0001",
    ]);
    // The empty validation split is not uploaded; the training file holds messages only.
    expect(run.fake.http.requests[1]!.body).toEqual({
      model: "qwen3-8b",
      training_file_ids: ["file-1"],
      hyper_parameters: { n_epochs: 3 },
      training_type: "efficient_sft",
      finetuned_output_suffix: "v1-abc",
    });
    expect(run.fake.files.get("file-1")).toContain('"content":"What does json do?"');
    expect(run.fake.files.get("file-1")).not.toContain("queryId");
    expect(run.lines).toEqual([
      "Bailian fine-tune: uploading 2 rows of models/chat/v1-abc/chat-data/sft/train.jsonl",
      "Bailian fine-tune ft-202612071900-0001 (qwen3-8b, efficient_sft): created",
      "Bailian fine-tune ft-202612071900-0001: PENDING",
      "Bailian fine-tune ft-202612071900-0001: RUNNING",
      "Bailian fine-tune ft-202612071900-0001: SUCCEEDED",
    ]);
    expect(run.clock.sleeps).toEqual([60_000, 60_000]);
    expect(run.fake.http.violations).toEqual([]);
  });

  it("fails with Model Studio's reason and keeps the job id", async () => {
    run.fake.options.fineTuneScript = ["RUNNING", "FAILED"];
    run.fake.options.failureMessage = "training data has fewer than 40 rows";
    const error = await createFineTune(spec, wait, run.ctx(), read).catch((e) => e);
    expect(error.message).toBe(
      "Bailian fine-tune ft-202612071900-0001 (qwen3-8b) is FAILED: training data has fewer than 40 rows",
    );
    expect(error.id).toBe("ft-202612071900-0001");
  });

  it("refuses to start without rows or without a key, before any job exists", async () => {
    objects.empty = "";
    await expect(
      createFineTune({ ...spec, data: { ...spec.data, trainKey: "empty" } }, wait, run.ctx(), read),
    ).rejects.toThrow(/has no rows to train on/);
    run.env = {};
    await expect(createFineTune(spec, wait, run.ctx(), read)).rejects.toThrow(/DASHSCOPE_API_KEY/);
    expect(run.fake.fineTunes.size).toBe(0);
  });
});

describe("the fine-tune's pure parts", () => {
  it("keeps only messages, and names a bad line", () => {
    expect(bailianSftFile(TRAIN, "x").rows).toBe(2);
    expect(JSON.parse(bailianSftFile(TRAIN, "x").text.split("\n")[0]!)).toEqual({
      messages: JSON.parse(TRAIN.split("\n")[0]!).messages,
    });
    expect(() => bailianSftFile('{"messages":[{"role":"user","content":"q"}]}', "f.jsonl")).toThrow(
      /f\.jsonl:1: 'messages' must be chat turns ending with the assistant's answer/,
    );
    expect(() => bailianSftFile("{oops", "f.jsonl")).toThrow(/f\.jsonl:1: not valid JSON/);
  });

  it("sends validation files only when there are some, and checks its inputs", () => {
    expect(fineTuneBody(spec, ["a"], ["b"]).validation_file_ids).toEqual(["b"]);
    expect(fineTuneProblems(spec)).toEqual([]);
    expect(fineTuneProblems({ ...spec, model: "Qwen/Qwen3-8B", nEpochs: 0, trainingType: "dpo" as never })).toEqual([
      'model: expected a Model Studio model id like qwen3-8b, got "Qwen/Qwen3-8B"',
      'trainingType: expected "efficient_sft" or "sft", got "dpo"',
      "nEpochs: expected a whole number >= 1, got 0",
    ]);
  });
});
