import { describe, expect, it } from "vitest";
import { crossFieldProblems } from "../../stacks/config/rules";

/** models.training.llm and chat.fineTune: the rules that relate them to the rest of the stack. */
const stack = (environment: string, llm: object, chat: object = { fineTune: "pai" }, training: object = {}) => ({
  environment,
  models: { training: { enabled: true, wait: true, ...training, llm: { enabled: true, ...llm } } },
  chat,
});
const llmProblems = (cfg: unknown) =>
  crossFieldProblems(cfg).filter((p) => p.path.join(".").startsWith("models.training"));

describe("the chat model's fine-tuning settings", () => {
  it("a dev stack with a base in OSS is fine; without one it names the key", () => {
    expect(llmProblems(stack("dev", { base: "oss://acme/base-models/qwen/" }))).toEqual([]);
    expect(llmProblems(stack("dev", {}))).toEqual([
      {
        path: ["models", "training", "llm", "base"],
        message: 'expected oss://<bucket>/<prefix> of the chat model to fine-tune (or chat.fineTune "bailian")',
      },
    ]);
  });

  it("is refused in an ephemeral stack and without the training workspace", () => {
    const messages = llmProblems(stack("ephemeral", { base: "oss://a/b/" }, undefined, { enabled: false })).map(
      (p) => p.message,
    );
    expect(messages).toEqual([
      "expected false in an ephemeral stack: fine-tuning the chat model costs GPU hours and reads real chat logs",
      "expected models.training.enabled to be true as well: the job runs in the training workspace",
    ]);
  });

  it("the Model Studio path needs no base, but needs pulumi up to wait for the rows", () => {
    expect(llmProblems(stack("dev", {}, { fineTune: "bailian" }))).toEqual([]);
    expect(llmProblems(stack("dev", {}, { fineTune: "bailian" }, { wait: false }))).toEqual([
      {
        path: ["models", "training", "wait"],
        message:
          'expected true with chat.fineTune "bailian": Model Studio reads the rows the DLC job writes, once it has finished',
      },
    ]);
  });

  it("says nothing while the job is off", () => {
    expect(llmProblems({ environment: "ephemeral", models: { training: { llm: { enabled: false } } } })).toEqual([]);
  });
});
