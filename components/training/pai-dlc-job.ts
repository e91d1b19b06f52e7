import * as pulumi from "@pulumi/pulumi";
import { changedKeys, checkResult } from "../alibaba-api/checks";
import { type ProviderContext, resolveContext } from "../alibaba-api/context";
import { isNotFound, partialCreateFailure } from "../alibaba-api/failure";
import { accessKeyFromEnv, endpointFromEnv, type RoaCaller, roaClient } from "../alibaba-api/openapi";
import { type PollSettings, pollStatus } from "../alibaba-api/poll";

/**
 * A PAI DLC training run as a resource: create submits the job (and optionally waits for it),
 * delete stops it if it still runs and then deletes it. A run is immutable: a change of its spec,
 * its code hash or its data version replaces it (a new run, created before the old one is
 * deleted); the wait settings alone never touch it.
 *
 * API (PAI DLC 2020-12-03, ROA, JSON), as the official generated client calls it
 * (aliyun/alibabacloud-typescript-sdk pai-dlc-20201203/src/client.ts):
 *   CreateJob  POST   /api/v1/jobs                  body {DisplayName, JobType, JobSpecs, UserCommand, WorkspaceId, DataSources, …} → {JobId, RequestId}
 *   GetJob     GET    /api/v1/jobs/{JobId}          → {JobId, Status, ReasonCode, ReasonMessage, …}
 *   StopJob    POST   /api/v1/jobs/{JobId}/stop
 *   DeleteJob  DELETE /api/v1/jobs/{JobId}          ("Deletes a completed or stopped job")
 * Endpoint pai-dlc.<region>.aliyuncs.com (PAI DLC endpoint page,
 * https://www.alibabacloud.com/help/en/pai/developer-reference/api-pai-dlc-2020-12-03-endpoint).
 * Set BACKBONE_PAI_DLC_ENDPOINT (e.g. http://127.0.0.1:8080) to talk to a local fake instead.
 */

export const PAI_DLC_VERSION = "2020-12-03";

/** Job statuses (GetJobResponseBody.Status). Only these three end a job [I: the SDK does not mark them]. */
export const TERMINAL_STATUSES = ["Succeeded", "Failed", "Stopped"] as const;

export interface DataSource {
  /** oss://<bucket>.<intranet endpoint>/<prefix>/, the form CreateJob's DataSources[].Uri takes. */
  readonly uri: string;
  readonly mountPath: string;
}

export interface WaitSettings extends PollSettings {
  readonly enabled: boolean;
}

export interface PaiDlcJobSpec {
  readonly region: string;
  readonly workspaceId: string;
  readonly displayName: string;
  readonly image: string;
  /** ECS spec of the public pay-as-you-go pool, e.g. ecs.gn7i-c8g1.2xlarge. */
  readonly instanceType: string;
  readonly podCount: number;
  readonly userCommand: string;
  readonly dataSources: readonly DataSource[];
  readonly envs: Record<string, string>;
  readonly maxRunningMinutes: number;
  /** The RAM role the job's containers assume (CredentialConfig); see components/identity. */
  readonly roleArn?: string;
  /** Content hash of the training code; part of the run's identity. */
  readonly codeHash: string;
  /** Version label of the training data; part of the run's identity. */
  readonly dataVersion: string;
  /** Where the run writes its model: oss://<bucket>/models/<name>/<version>/. */
  readonly artifactUri: string;
}

export interface PaiDlcJobState extends PaiDlcJobSpec {
  readonly wait: WaitSettings;
  readonly jobId: string;
  readonly status: string;
}

/**
 * Inputs that never change what runs; a change to them alone is not a diff. An array, not a Set:
 * the closure serializer copies a Set's methods onto a plain object, which then fails at runtime.
 */
const NOT_IDENTITY: readonly string[] = ["wait", "jobId", "status", "__provider"];

/** Properties whose change means a new training run. */
export function replacedProperties(olds: Record<string, unknown>, news: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((key) => !NOT_IDENTITY.includes(key));
  return changedKeys(olds, news, keys).sort();
}

/** The CreateJob body for a spec (PascalCase on the wire, as CreateJobRequest names them). */
export function createJobBody(spec: PaiDlcJobSpec): Record<string, unknown> {
  return {
    DisplayName: spec.displayName,
    JobType: "PyTorchJob",
    WorkspaceId: spec.workspaceId,
    JobSpecs: [{ Type: "Worker", Image: spec.image, PodCount: spec.podCount, EcsSpec: spec.instanceType }],
    UserCommand: spec.userCommand,
    DataSources: spec.dataSources.map((source) => ({ Uri: source.uri, MountPath: source.mountPath })),
    Envs: { ...spec.envs, BACKBONE_ARTIFACT_URI: spec.artifactUri, BACKBONE_CODE_HASH: spec.codeHash },
    JobMaxRunningTimeMinutes: spec.maxRunningMinutes,
    // Containers get the training role's temporary credentials, never a key in Envs [I: field shape
    // from CreateJobRequest.CredentialConfig in the generated client; not exercised against PAI].
    ...(spec.roleArn
      ? {
          CredentialConfig: {
            EnableCredentialInject: true,
            CredentialConfigItems: [{ Type: "Role", Roles: [{ AssumeRoleFor: "Worker", RoleArn: spec.roleArn }] }],
          },
        }
      : {}),
  };
}

export function checkSpec(spec: Partial<PaiDlcJobSpec> & { wait?: Partial<WaitSettings> }): string[] {
  const problems: string[] = [];
  const need = (key: keyof PaiDlcJobSpec, ok: boolean, expected: string) => {
    if (!ok) problems.push(`${key}: expected ${expected}, got ${JSON.stringify(spec[key])}`);
  };
  need("displayName", /^[0-9A-Za-z_.-]{1,256}$/.test(String(spec.displayName)), "1-256 of [0-9A-Za-z_.-]");
  need("workspaceId", typeof spec.workspaceId === "string" && spec.workspaceId.length > 0, "a workspace id");
  need("instanceType", /^ecs\.[a-z0-9-]+\.[a-z0-9]+$/.test(String(spec.instanceType)), "an ECS spec");
  need("podCount", Number.isInteger(spec.podCount) && (spec.podCount as number) >= 1, "a whole number >= 1");
  need("userCommand", typeof spec.userCommand === "string" && spec.userCommand.length > 0, "a command");
  need(
    "artifactUri",
    /^oss:\/\/[a-z0-9-]+\/models\/[^/]+\/[^/]+\/$/.test(String(spec.artifactUri)),
    "oss://<bucket>/models/<name>/<version>/",
  );
  const bytes = Buffer.byteLength(JSON.stringify(createJobBody(spec as PaiDlcJobSpec)));
  // CreateJob rejects requests over 64 KiB (help.aliyun.com/document_detail/203111.html).
  if (bytes > 65_536) problems.push(`the CreateJob request would be ${bytes} bytes; PAI accepts at most 65536`);
  return problems;
}

function dlcCall(spec: { region: string }, env: Record<string, string | undefined>): RoaCaller {
  return roaClient({
    endpoint: endpointFromEnv(env, "BACKBONE_PAI_DLC_ENDPOINT", `https://pai-dlc.${spec.region}.aliyuncs.com`),
    version: PAI_DLC_VERSION,
    auth: { type: "AK", credentials: accessKeyFromEnv(env) },
  });
}

const jobPath = (jobId: string) => `/api/v1/jobs/${encodeURIComponent(jobId)}`;

/** Submits the job and, with waiting enabled, follows it to a terminal status. */
export async function createJob(
  spec: PaiDlcJobSpec,
  wait: WaitSettings,
  context: ProviderContext = {},
): Promise<{ jobId: string; status: string }> {
  const ctx = resolveContext(context);
  const call = dlcCall(spec, ctx.env);
  const created = await call("CreateJob", "POST", "/api/v1/jobs", { body: createJobBody(spec) });
  const jobId = created.JobId;
  if (typeof jobId !== "string" || jobId === "") {
    throw new Error(`CreateJob answered without a JobId: ${JSON.stringify(created).slice(0, 300)}`);
  }
  const job = `PAI DLC job ${jobId} (${spec.displayName})`;
  ctx.progress(`${job}: submitted`);
  if (!wait.enabled) return { jobId, status: "Submitted" };

  // The engine records the job even when the wait fails, so destroy can delete it.
  const failed = (message: string, status: string) => partialCreateFailure(message, jobId, { jobId, status });
  const { status } = await pollStatus({
    read: () => call("GetJob", "GET", jobPath(jobId)),
    statusOf: (answer) => String(answer.Status ?? "Unknown"),
    describe: (status, answer) => `${job}: ${status}${answer.SubStatus ? ` (${answer.SubStatus})` : ""}`,
    succeeded: ["Succeeded"],
    failure: (status, answer) => {
      if (status !== "Failed" && status !== "Stopped") return undefined;
      const reason = [answer.ReasonCode, answer.ReasonMessage].filter(Boolean).join(": ") || "PAI gave no reason";
      return failed(`${job} ended ${status}: ${reason}`, status);
    },
    timedOut: (status) =>
      failed(
        `${job} is still ${status} after ${wait.timeoutMinutes} min; it keeps running (see the PAI console), and the next update will check it again`,
        status,
      ),
    settings: wait,
    clock: ctx,
    progress: ctx.progress,
  });
  return { jobId, status };
}

export async function readJob(spec: { region: string }, jobId: string, context: ProviderContext = {}) {
  const job = await dlcCall(spec, resolveContext(context).env)("GetJob", "GET", jobPath(jobId));
  return { status: String(job.Status ?? "Unknown") };
}

/** Stops a job that still runs, then deletes it. A job that is already gone is fine. */
export async function deleteJob(spec: { region: string }, jobId: string, context: ProviderContext = {}): Promise<void> {
  const call = dlcCall(spec, resolveContext(context).env);
  let status: string;
  try {
    status = String((await call("GetJob", "GET", jobPath(jobId))).Status ?? "Unknown");
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  if (!(TERMINAL_STATUSES as readonly string[]).includes(status) && status !== "Stopping") {
    await call("StopJob", "POST", `${jobPath(jobId)}/stop`);
  }
  await call("DeleteJob", "DELETE", jobPath(jobId));
}

type Inputs = PaiDlcJobSpec & { wait: WaitSettings };

// One provider object at module level (the SDK caches its serialization per object).
const paiDlcJobProvider: pulumi.dynamic.ResourceProvider<Inputs, PaiDlcJobState> = {
  async check(_olds, news) {
    return checkResult(news, checkSpec(news));
  },
  async diff(_id, olds, news) {
    const replaces = replacedProperties(olds as any, news as any);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
  async create(inputs) {
    const { jobId, status } = await createJob(inputs, inputs.wait);
    return { id: jobId, outs: { ...inputs, jobId, status } };
  },
  async read(id, props) {
    const { status } = await readJob(props as PaiDlcJobState, id);
    return { id, props: { ...(props as PaiDlcJobState), status } };
  },
  async update(_id, olds, news) {
    // Only the wait settings can change without a replacement.
    return { outs: { ...olds, wait: news.wait } };
  },
  async delete(id, props) {
    await deleteJob(props, id);
  },
};

export interface PaiDlcJobArgs {
  readonly region: pulumi.Input<string>;
  readonly workspaceId: pulumi.Input<string>;
  readonly displayName: pulumi.Input<string>;
  readonly image: pulumi.Input<string>;
  readonly instanceType: pulumi.Input<string>;
  readonly podCount: pulumi.Input<number>;
  readonly userCommand: pulumi.Input<string>;
  readonly dataSources: pulumi.Input<pulumi.Input<{ uri: pulumi.Input<string>; mountPath: string }>[]>;
  readonly envs: pulumi.Input<Record<string, pulumi.Input<string>>>;
  readonly maxRunningMinutes: pulumi.Input<number>;
  readonly roleArn?: pulumi.Input<string>;
  readonly codeHash: pulumi.Input<string>;
  readonly dataVersion: pulumi.Input<string>;
  readonly artifactUri: pulumi.Input<string>;
  readonly wait: pulumi.Input<WaitSettings>;
}

export class PaiDlcJob extends pulumi.dynamic.Resource {
  declare readonly jobId: pulumi.Output<string>;
  declare readonly status: pulumi.Output<string>;
  declare readonly artifactUri: pulumi.Output<string>;

  constructor(name: string, args: PaiDlcJobArgs, opts?: pulumi.CustomResourceOptions) {
    super(paiDlcJobProvider, name, { ...args, jobId: undefined, status: undefined }, opts, "backbone-pai", "DlcJob");
  }
}
