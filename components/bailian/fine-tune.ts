import * as pulumi from "@pulumi/pulumi";
import { changedKeys, checkResult } from "../alibaba-api/checks";
import { type ProviderContext, resolveContext } from "../alibaba-api/context";
import { partialCreateFailure } from "../alibaba-api/failure";
import { accessKeyFromEnv, endpointFromEnv, type RoaCaller, roaClient } from "../alibaba-api/openapi";
import { type PollSettings, pollStatus } from "../alibaba-api/poll";

/**
 * A Model Studio (Bailian) fine-tune of one of its Qwen models on the chat data `prepare-chat` wrote
 * to OSS: upload the SFT file, create the job, poll until it succeeds; `finetunedOutput` is the model
 * id BailianDeployment then deploys. Each fact is marked [V] verified (page) or [I] inferred:
 *
 * - [V] POST {base}/api/v1/files, multipart/form-data with `files` (the file), `purpose` "fine-tune" and
 *   `descriptions`; at most 300 MB per fine-tune file (https://help.aliyun.com/en/model-studio/upload-file-api).
 * - [I] its answer is {request_id, data:{uploaded_files:[{file_id, name}], failed_uploads:[{name, code,
 *   message}]}}: from a third-party client's types (docs.rs async-dashscope, operation/file/output.rs),
 *   not from the page.
 * - [V] POST {base}/api/v1/fine-tunes {model, training_file_ids[], validation_file_ids?, hyper_parameters?
 *   {n_epochs, batch_size, learning_rate, …}, training_type "sft"|"efficient_sft"|"dpo_full"|"dpo_lora"|"cpt",
 *   finetuned_output_suffix?} (https://www.alibabacloud.com/help/en/model-studio/create-fine-tuning-job-api).
 * - [V] GET {base}/api/v1/fine-tunes/{job_id} → {request_id, output:{job_id ("ft-…"), status,
 *   finetuned_output (the model id, once SUCCEEDED), model, base_model, …}}
 *   (https://www.alibabacloud.com/help/en/model-studio/get-fine-tuning-job-api).
 * - [I] statuses besides SUCCEEDED (PENDING, RUNNING, FAILED, CANCELED, SUSPENDED) come from the DashScope
 *   Python SDK's TaskStatus; the page shows SUCCEEDED only. The failure reason's field name is a guess.
 * - [V] the SFT file is ChatML JSONL {"messages": [system, user, assistant, …]}; OpenAI's `name` and
 *   `weight` are not supported and every assistant turn is trained
 *   (https://www.alibabacloud.com/help/en/model-studio/fine-tuning-api-guide). So a multi-turn row's
 *   earlier answers are trained too, unlike train-llm, which trains on the last answer only [I: consequence].
 * - [I] API jobs are billed per training token (the guide: "Training jobs created using the API support
 *   only token-based billing"); regions: the reference notes disagree (Beijing vs Singapore).
 * - Destroy deletes nothing here: the fine-tuned model stays in Model Studio (BailianDeployment deletes
 *   its deployment). A DELETE for fine-tune jobs was not looked up [I].
 * Auth: `Authorization: Bearer` with DASHSCOPE_API_KEY from the environment of `pulumi up`, never an input;
 * the data is read from OSS with the deployer's own credentials (ALIBABA_CLOUD_ACCESS_KEY_ID/…).
 */

export const FINE_TUNE_SUCCEEDED = "SUCCEEDED";
export const FINE_TUNE_FAILED = ["FAILED", "CANCELED"] as const;

export interface FineTuneData {
  readonly bucket: string;
  /** The OSS region id of the bucket, e.g. oss-cn-hangzhou. */
  readonly region: string;
  /** prepare-chat's sft/train.jsonl (and valid.jsonl when it has rows). */
  readonly trainKey: string;
  readonly validKey?: string;
}

export interface BailianFineTuneSpec {
  readonly baseUrl: string;
  /** The Model Studio model to fine-tune, e.g. qwen3-8b. */
  readonly model: string;
  readonly trainingType: "efficient_sft" | "sft";
  readonly nEpochs: number;
  /** Readable part of finetuned_output (the run's version). */
  readonly suffix: string;
  readonly data: FineTuneData;
}

export function fineTuneProblems(spec: Partial<BailianFineTuneSpec>): string[] {
  const problems: string[] = [];
  if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d+)?\/?$/.test(String(spec.baseUrl)))
    problems.push(`baseUrl: expected https://host, got ${JSON.stringify(spec.baseUrl)}`);
  if (typeof spec.model !== "string" || !/^[a-z0-9][a-z0-9._-]{1,63}$/.test(spec.model))
    problems.push(`model: expected a Model Studio model id like qwen3-8b, got ${JSON.stringify(spec.model)}`);
  if (spec.trainingType !== "efficient_sft" && spec.trainingType !== "sft")
    problems.push(`trainingType: expected "efficient_sft" or "sft", got ${JSON.stringify(spec.trainingType)}`);
  if (!Number.isInteger(spec.nEpochs) || (spec.nEpochs as number) < 1)
    problems.push(`nEpochs: expected a whole number >= 1, got ${JSON.stringify(spec.nEpochs)}`);
  if (typeof spec.suffix !== "string" || !/^[a-z0-9-]{1,32}$/.test(spec.suffix))
    problems.push(`suffix: expected 1-32 lowercase letters, digits or hyphens, got ${JSON.stringify(spec.suffix)}`);
  if (!spec.data?.bucket || !spec.data?.trainKey?.endsWith(".jsonl"))
    problems.push(
      `data: expected an OSS bucket and the key of prepare-chat's sft/train.jsonl, got ${JSON.stringify(spec.data)}`,
    );
  return problems;
}

/**
 * prepare-chat's SFT rows as Model Studio's ChatML file: `messages` only (its queryId is ours), each
 * row checked to end with the assistant's answer. Throws naming the line for anything else.
 */
export function bailianSftFile(jsonl: string, source: string): { text: string; rows: number } {
  const lines = jsonl.split("\n").filter((line) => line.trim() !== "");
  const out = lines.map((line, i) => {
    let row: { messages?: { role?: unknown; content?: unknown }[] };
    try {
      row = JSON.parse(line);
    } catch {
      throw new Error(`${source}:${i + 1}: not valid JSON`);
    }
    const messages = row.messages;
    const valid =
      Array.isArray(messages) &&
      messages.length >= 2 &&
      messages.every((m) => typeof m?.role === "string" && typeof m?.content === "string") &&
      messages.at(-1)?.role === "assistant";
    if (!valid) throw new Error(`${source}:${i + 1}: 'messages' must be chat turns ending with the assistant's answer`);
    return JSON.stringify({ messages: messages.map((m) => ({ role: m.role, content: m.content })) });
  });
  return { text: out.length ? `${out.join("\n")}\n` : "", rows: out.length };
}

/** The CreateFineTune body (snake_case on the wire, as the page names the fields). */
export function fineTuneBody(spec: BailianFineTuneSpec, training: string[], validation: string[]) {
  return {
    model: spec.model,
    training_file_ids: training,
    ...(validation.length ? { validation_file_ids: validation } : {}),
    hyper_parameters: { n_epochs: spec.nEpochs },
    training_type: spec.trainingType,
    finetuned_output_suffix: spec.suffix,
  };
}

function dashscopeKey(env: Record<string, string | undefined>): string {
  const key = env.DASHSCOPE_API_KEY;
  if (!key) {
    throw new Error(
      "no DashScope API key: set DASHSCOPE_API_KEY in the environment of `pulumi up` (the key of the Model Studio workspace that fine-tunes the model)",
    );
  }
  return key;
}

function dashscope(baseUrl: string, env: Record<string, string | undefined>): RoaCaller {
  return roaClient({
    endpoint: endpointFromEnv(env, "BACKBONE_DASHSCOPE_BASE_URL", baseUrl),
    version: "v1",
    auth: { type: "Anonymous" },
    headers: { Authorization: `Bearer ${dashscopeKey(env)}` },
  });
}

/** One multipart upload (the generic ROA client speaks JSON only); answers the file id. */
export async function uploadFile(
  baseUrl: string,
  name: string,
  text: string,
  env: Record<string, string | undefined>,
): Promise<string> {
  const endpoint = endpointFromEnv(env, "BACKBONE_DASHSCOPE_BASE_URL", baseUrl);
  const form = new FormData();
  form.append("files", new Blob([text], { type: "application/jsonl" }), name);
  form.append("purpose", "fine-tune");
  form.append("descriptions", `prepare-chat ${name}`);
  const response = await fetch(`${endpoint.protocol}://${endpoint.host}/api/v1/files`, {
    method: "POST",
    headers: { Authorization: `Bearer ${dashscopeKey(env)}` },
    body: form,
  });
  const answer = (await response.json().catch(() => ({}))) as Record<string, any>;
  const uploaded = answer.data?.uploaded_files?.[0]?.file_id;
  if (!response.ok || typeof uploaded !== "string") {
    const failed = answer.data?.failed_uploads?.[0];
    const reason = failed ? `${failed.code}: ${failed.message}` : `${answer.code ?? ""} ${answer.message ?? ""}`.trim();
    throw new Error(`UploadFile ${name} failed (HTTP ${response.status}): ${reason || "no file id in the answer"}`);
  }
  return uploaded;
}

/** Reads one object with the deployer's credentials (ali-oss; loaded at call time, see openapi.ts). */
export async function readOssObject(data: FineTuneData, key: string, env: Record<string, string | undefined>) {
  const OSS = require("ali-oss");
  const credentials = accessKeyFromEnv(env);
  const client = new OSS({
    region: data.region,
    bucket: data.bucket,
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    ...(credentials.securityToken ? { stsToken: credentials.securityToken } : {}),
    secure: true,
  });
  const result = await client.get(key);
  return Buffer.from(result.content).toString("utf8");
}

export type ObjectReader = (key: string) => Promise<string>;

export async function createFineTune(
  spec: BailianFineTuneSpec,
  wait: PollSettings,
  context: ProviderContext = {},
  read: ObjectReader = (key) => readOssObject(spec.data, key, resolveContext(context).env),
): Promise<{ jobId: string; finetunedOutput: string; status: string }> {
  const ctx = resolveContext(context);
  const call = dashscope(spec.baseUrl, ctx.env);
  const upload = async (key: string | undefined) => {
    if (!key) return [];
    const { text, rows } = bailianSftFile(await read(key), `oss://${spec.data.bucket}/${key}`);
    if (rows === 0) return [];
    ctx.progress(`Bailian fine-tune: uploading ${rows} rows of ${key}`);
    return [await uploadFile(spec.baseUrl, key.split("/").slice(-1)[0] as string, text, ctx.env)];
  };
  const training = await upload(spec.data.trainKey);
  if (training.length === 0) throw new Error(`oss://${spec.data.bucket}/${spec.data.trainKey} has no rows to train on`);
  const validation = await upload(spec.data.validKey);
  const created = await call("CreateFineTune", "POST", "/api/v1/fine-tunes", {
    body: fineTuneBody(spec, training, validation),
  });
  const jobId = created.output?.job_id;
  if (typeof jobId !== "string" || jobId === "") {
    throw new Error(`CreateFineTune answered without output.job_id: ${JSON.stringify(created).slice(0, 300)}`);
  }
  ctx.progress(`Bailian fine-tune ${jobId} (${spec.model}, ${spec.trainingType}): created`);
  const failed = (message: string, status: string) =>
    partialCreateFailure(message, jobId, { ...spec, jobId, status, finetunedOutput: "" });
  const { status, answer } = await pollStatus({
    read: async () =>
      (await call("GetFineTune", "GET", `/api/v1/fine-tunes/${encodeURIComponent(jobId)}`)).output ?? {},
    statusOf: (output) => String(output.status ?? "UNKNOWN"),
    describe: (status) => `Bailian fine-tune ${jobId}: ${status}`,
    succeeded: [FINE_TUNE_SUCCEEDED],
    failure: (status, output) =>
      (FINE_TUNE_FAILED as readonly string[]).includes(status)
        ? failed(
            `Bailian fine-tune ${jobId} (${spec.model}) is ${status}: ${output.message ?? output.error_message ?? "Model Studio gave no reason"}`,
            status,
          )
        : undefined,
    timedOut: (status) =>
      failed(`Bailian fine-tune ${jobId} is still ${status} after ${wait.timeoutMinutes} min`, status),
    settings: wait,
    clock: ctx,
    progress: ctx.progress,
  });
  const finetunedOutput = answer.finetuned_output;
  if (typeof finetunedOutput !== "string" || finetunedOutput === "") {
    throw failed(`Bailian fine-tune ${jobId} SUCCEEDED without output.finetuned_output`, status);
  }
  return { jobId, finetunedOutput, status };
}

type Inputs = BailianFineTuneSpec & { wait: PollSettings };
const IDENTITY: readonly string[] = ["baseUrl", "model", "trainingType", "nEpochs", "suffix", "data"];

const bailianFineTuneProvider: pulumi.dynamic.ResourceProvider<Inputs> = {
  async check(_olds, news) {
    return checkResult(news, fineTuneProblems(news));
  },
  async diff(_id, olds, news) {
    const replaces = changedKeys(olds, news, IDENTITY);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
  async create(inputs) {
    const result = await createFineTune(inputs, inputs.wait);
    return { id: result.jobId, outs: { ...inputs, ...result } };
  },
  async update(_id, olds, news) {
    return { outs: { ...olds, wait: news.wait } };
  },
  async delete() {
    // The fine-tuned model stays in Model Studio; see the module comment.
  },
};

export interface BailianFineTuneArgs {
  readonly baseUrl: pulumi.Input<string>;
  readonly model: pulumi.Input<string>;
  readonly trainingType: pulumi.Input<"efficient_sft" | "sft">;
  readonly nEpochs: pulumi.Input<number>;
  readonly suffix: pulumi.Input<string>;
  readonly data: pulumi.Input<FineTuneData>;
  readonly wait: pulumi.Input<PollSettings>;
}

export class BailianFineTune extends pulumi.dynamic.Resource {
  /** The fine-tuned model's id, what a deployment takes as model_name. */
  declare readonly finetunedOutput: pulumi.Output<string>;
  declare readonly jobId: pulumi.Output<string>;

  constructor(name: string, args: BailianFineTuneArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      bailianFineTuneProvider,
      name,
      { ...args, finetunedOutput: undefined, jobId: undefined, status: undefined },
      opts,
      "backbone-bailian",
      "FineTune",
    );
  }
}
