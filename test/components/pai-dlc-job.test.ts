import { describe, expect, it } from "vitest";
import {
  checkSpec,
  createJob,
  createJobBody,
  deleteJob,
  type PaiDlcJobSpec,
  replacedProperties,
} from "../../components/training/pai-dlc-job";
import { FAKE_AK } from "../helpers/fakes/acs3";
import { fakeAlibabaEnv, PaiDlcFake } from "../helpers/fakes/pai-dlc";
import { useApiFake } from "../helpers/fakes/setup";

const spec: PaiDlcJobSpec = {
  region: "cn-hangzhou",
  workspaceId: "ws-123",
  displayName: "acme-dev-embed-v1",
  image: "dsw-registry-vpc.cn-hangzhou.cr.aliyuncs.com/pai/pytorch-training:2.5-gpu-py311-cu124-ubuntu22.04",
  instanceType: "ecs.gn7i-c8g1.2xlarge",
  podCount: 1,
  userCommand: "python -m backbone_models.cli train-embedder",
  dataSources: [{ uri: "oss://acme-dev-docs.oss-cn-hangzhou-internal.aliyuncs.com/training/", mountPath: "/mnt/data" }],
  envs: { BACKBONE_DIMS: "768" },
  maxRunningMinutes: 240,
  roleArn: "acs:ram::1234567890123456:role/acme-dev-training",
  codeHash: "abc123",
  dataVersion: "2026-11-01",
  artifactUri: "oss://acme-dev-artifacts/models/embed/v1-abc123/",
};
const wait = { enabled: true, timeoutMinutes: 5, pollSeconds: 30 };

const run = useApiFake(() => new PaiDlcFake(), fakeAlibabaEnv);

describe("PaiDlcJob against a local PAI DLC fake", () => {
  it("creates the job with a signed CreateJob and waits through each status, one progress line per change", async () => {
    run.fake.options.script = ["Queuing", "Queuing", "Running", "Running", "Succeeded"];
    const result = await createJob(spec, wait, run.ctx());
    expect(result).toEqual({ jobId: "dlc-fake1", status: "Succeeded" });
    expect(run.fake.http.violations).toEqual([]);
    expect(run.fake.http.actions()).toEqual(["CreateJob", "GetJob", "GetJob", "GetJob", "GetJob", "GetJob"]);
    // A read right away, then one every pollSeconds until Succeeded.
    expect(run.clock.sleeps).toEqual([30_000, 30_000, 30_000, 30_000]);
    expect(run.lines).toEqual([
      "PAI DLC job dlc-fake1 (acme-dev-embed-v1): submitted",
      "PAI DLC job dlc-fake1 (acme-dev-embed-v1): Queuing",
      "PAI DLC job dlc-fake1 (acme-dev-embed-v1): Running",
      "PAI DLC job dlc-fake1 (acme-dev-embed-v1): Succeeded",
    ]);
    const sent = run.fake.jobs.get("dlc-fake1")!.body;
    expect(sent).toMatchObject({
      DisplayName: "acme-dev-embed-v1",
      JobType: "PyTorchJob",
      WorkspaceId: "ws-123",
      JobSpecs: [{ Type: "Worker", PodCount: 1, EcsSpec: "ecs.gn7i-c8g1.2xlarge" }],
      DataSources: [{ Uri: spec.dataSources[0]!.uri, MountPath: "/mnt/data" }],
      Envs: { BACKBONE_ARTIFACT_URI: spec.artifactUri, BACKBONE_CODE_HASH: "abc123", BACKBONE_DIMS: "768" },
    });
    // No credential ever travels in the job: the role is injected by PAI.
    expect(JSON.stringify(sent)).not.toContain("fake-ak");
  });

  it("returns right after submitting when waiting is off", async () => {
    expect(await createJob(spec, { ...wait, enabled: false }, run.ctx())).toEqual({
      jobId: "dlc-fake1",
      status: "Submitted",
    });
    expect(run.fake.http.actions()).toEqual(["CreateJob"]);
  });

  it("fails with PAI's reason when the job ends Failed, and still reports the job id", async () => {
    run.fake.options.script = ["Running", "Failed"];
    run.fake.options.reason = {
      ReasonCode: "JobFailed",
      ReasonMessage: "worker-0 exited with code 1: CUDA out of memory",
    };
    const error = await createJob(spec, wait, run.ctx()).catch((e) => e);
    expect(error.message).toBe(
      "PAI DLC job dlc-fake1 (acme-dev-embed-v1) ended Failed: JobFailed: worker-0 exited with code 1: CUDA out of memory",
    );
    // The engine records a resource whose create threw with an id, so destroy can delete the job.
    expect(error.id).toBe("dlc-fake1");
    expect(run.lines.at(-1)).toContain("Failed");
  });

  it("gives up at the timeout with the last status, keeping the job id", async () => {
    run.fake.options.script = ["Queuing"];
    const error = await createJob(spec, { ...wait, timeoutMinutes: 2 }, run.ctx()).catch((e) => e);
    expect(error.message).toBe(
      "PAI DLC job dlc-fake1 (acme-dev-embed-v1) is still Queuing after 2 min; it keeps running (see the PAI console), and the next update will check it again",
    );
    expect(error.id).toBe("dlc-fake1");
    expect(error.properties).toEqual({ jobId: "dlc-fake1", status: "Queuing" });
    // Reads at 0, 30, 60, 90 and 120 s; the one at the deadline is the last.
    expect(run.fake.http.actions()).toEqual(["CreateJob", ...Array(5).fill("GetJob")]);
    expect(run.clock.now()).toBe(120_000);
  });

  it.each([
    [
      { status: 400, Code: "QuotaExceeded.GPU", Message: "The GPU quota of the resource group is insufficient." },
      /CreateJob failed \(HTTP 400, QuotaExceeded.GPU\): The GPU quota/,
    ],
    [
      { status: 403, Code: "Forbidden.RAM", Message: "User not authorized to operate on the specified resource." },
      /CreateJob failed \(HTTP 403, Forbidden.RAM\): User not authorized/,
    ],
  ])("passes a quota or permission error through with its code (%o)", async (createError, expected) => {
    run.fake.options.createError = createError;
    await expect(createJob(spec, wait, run.ctx())).rejects.toThrow(expected);
    expect(run.fake.http.violations).toEqual([]);
  });

  it("refuses to call without credentials in the environment", async () => {
    run.env = { BACKBONE_PAI_DLC_ENDPOINT: run.url };
    await expect(createJob(spec, wait, run.ctx())).rejects.toThrow(/ALIBABA_CLOUD_ACCESS_KEY_ID/);
    expect(run.fake.http.requests).toHaveLength(0);
  });

  it("also accepts the provider's ALICLOUD_* variable names", async () => {
    run.env = {
      BACKBONE_PAI_DLC_ENDPOINT: run.url,
      ALICLOUD_ACCESS_KEY: FAKE_AK.id,
      ALICLOUD_SECRET_KEY: FAKE_AK.secret,
    };
    await createJob(spec, { ...wait, enabled: false }, run.ctx());
    expect(run.fake.http.violations).toEqual([]);
  });

  it("signs with the secret from the environment: another secret is refused by the fake", async () => {
    run.env = { ...run.env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: "wrong-secret" };
    await expect(createJob(spec, wait, run.ctx())).rejects.toThrow(
      /CreateJob failed \(HTTP 403, SignatureDoesNotMatch\): the signature does not match/,
    );
    expect(run.fake.jobs.size).toBe(0);
  });

  it("stops a running job before deleting it, and deletes a finished one directly", async () => {
    run.fake.options.script = ["Running"];
    await createJob(spec, { ...wait, enabled: false }, run.ctx());
    await deleteJob(spec, "dlc-fake1", run.ctx());
    expect(run.fake.http.actions()).toEqual(["CreateJob", "GetJob", "StopJob", "DeleteJob"]);
    expect(run.fake.jobs.get("dlc-fake1")!.deleted).toBe(true);

    run.fake.options.script = ["Succeeded"];
    await createJob(spec, { ...wait, enabled: false }, run.ctx());
    await deleteJob(spec, "dlc-fake2", run.ctx());
    expect(run.fake.http.actions().slice(4)).toEqual(["CreateJob", "GetJob", "DeleteJob"]);
    expect(run.fake.http.violations).toEqual([]);
  });

  it("treats a job that is already gone as deleted", async () => {
    await deleteJob(spec, "dlc-missing", run.ctx());
    expect(run.fake.http.actions()).toEqual(["GetJob"]);
  });
});

describe("PaiDlcJob diff and checks", () => {
  const olds = { ...spec, wait } as Record<string, unknown>;
  it("replaces on a change of spec, code hash or data version", () => {
    expect(replacedProperties(olds, { ...olds, codeHash: "def456" })).toEqual(["codeHash"]);
    expect(replacedProperties(olds, { ...olds, dataVersion: "2026-12-01" })).toEqual(["dataVersion"]);
    expect(replacedProperties(olds, { ...olds, instanceType: "ecs.gn7i-c16g1.4xlarge" })).toEqual(["instanceType"]);
  });
  it("leaves an unchanged run, or one whose wait settings alone changed, untouched", () => {
    expect(replacedProperties(olds, { ...olds })).toEqual([]);
    expect(replacedProperties(olds, { ...olds, wait: { ...wait, timeoutMinutes: 600 } })).toEqual([]);
  });
  it("names each bad field", () => {
    expect(checkSpec({ ...spec, displayName: "has space", podCount: 0, artifactUri: "oss://b/raw/x/" })).toEqual([
      'displayName: expected 1-256 of [0-9A-Za-z_.-], got "has space"',
      "podCount: expected a whole number >= 1, got 0",
      'artifactUri: expected oss://<bucket>/models/<name>/<version>/, got "oss://b/raw/x/"',
    ]);
    expect(checkSpec(spec)).toEqual([]);
  });
  it("leaves the credential config out without a role", () => {
    const { roleArn: _, ...noRole } = spec;
    expect(createJobBody(noRole)).not.toHaveProperty("CredentialConfig");
    expect(createJobBody(spec)).toHaveProperty("CredentialConfig.EnableCredentialInject", true);
  });
});
