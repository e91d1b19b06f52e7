import { STORAGE_PREFIXES } from "../storage/layout";
import { airecInstanceArn, kmsKeyArn, ossBucketArn, ossPrefixArn } from "./arns";
import { asList, assertLeastPrivilege, type PolicyDocument, type Statement } from "./policy-document";

/**
 * Permission policies for the three workload roles, rendered by pure functions from plain strings.
 * Each grants exactly what its workload does with the object layout of components/storage/layout.ts.
 *
 * OSS facts [V] (OSS API reference: InitiateMultipartUpload, UploadPart, AbortMultipartUpload):
 * InitiateMultipartUpload/UploadPart/CompleteMultipartUpload need oss:PutObject; AbortMultipartUpload
 * and ListParts have their own actions. Objects written with SSE-KMS need kms:GenerateDataKey and
 * kms:Decrypt on the key; reading them needs kms:Decrypt. ListObjects is a bucket-level action, so it
 * is limited with the `oss:Prefix` condition key.
 *
 * AIRec [I]: RAM code `airec`; AIRec's authentication-rule table names each action after its API
 * (ListInstance, DescribeInstance, …, on `acs:airec:<region>:<uid>:instance/<id>`), and the system policy
 * AliyunAIRecReadOnlyAccess grants `airec:Recommend*`; hence `airec:Recommend` (GET …/actions/recommend)
 * and `airec:PushDocument` (POST …/tables/{table}/actions/bulk). The API pages say "no authorization
 * information disclosed", so check a denied call's AccessDeniedDetail once an instance exists.
 */

export const PREFIXES = STORAGE_PREFIXES;

export const AIREC_ACTIONS = ["airec:Recommend", "airec:PushDocument"] as const;

export interface WorkloadPolicyInput {
  readonly accountId: string;
  readonly region: string;
  readonly buckets: { readonly docs: string; readonly artifacts: string };
  /** KMS key the buckets encrypt with (SSE-KMS). Omit for OSS-managed AES256. */
  readonly kmsKeyId?: string;
}

const read = (input: WorkloadPolicyInput, bucket: string, prefixes: readonly string[]): Statement[] => [
  {
    Effect: "Allow",
    Action: ["oss:ListObjects"],
    Resource: [ossBucketArn(input.accountId, bucket)],
    Condition: { StringLike: { "oss:Prefix": prefixes.map((p) => `${p}*`) } },
  },
  {
    Effect: "Allow",
    Action: ["oss:GetObject"],
    Resource: prefixes.map((p) => ossPrefixArn(input.accountId, bucket, p)),
  },
];

const kms = (input: WorkloadPolicyInput, writes: boolean): Statement[] =>
  input.kmsKeyId
    ? [
        {
          Effect: "Allow",
          Action: writes ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"],
          Resource: [kmsKeyArn(input.region, input.accountId, input.kmsKeyId)],
        },
      ]
    : [];

/** PAI DLC training jobs: read raw/ and training/ of docs, write models/ of artifacts. */
export function trainingPolicy(input: WorkloadPolicyInput): PolicyDocument {
  return workloadPolicy([
    ...read(input, input.buckets.docs, [PREFIXES.raw, PREFIXES.training]),
    {
      Effect: "Allow",
      Action: ["oss:PutObject", "oss:GetObject", "oss:AbortMultipartUpload", "oss:ListParts"],
      Resource: [ossPrefixArn(input.accountId, input.buckets.artifacts, PREFIXES.models)],
    },
    ...kms(input, true),
  ]);
}

export interface LlmTrainingPolicyInput extends WorkloadPolicyInput {
  /** The base checkpoint's bucket and prefix (models.training.llm.base), read only; none when Model Studio trains. */
  readonly base?: { readonly bucket: string; readonly prefix: string } | undefined;
  /** Where its runs write, e.g. models/chat/ of artifacts. */
  readonly outputPrefix: string;
}

/**
 * The chat model's DLC job (prepare-chat + train-llm): read raw/ and logs/ of docs (chat transcripts
 * and feedback) and the base checkpoint's prefix, write only its own folder under models/. A role of
 * its own: the embedder's and reranker's jobs never read the transcripts.
 */
export function llmTrainingPolicy(input: LlmTrainingPolicyInput): PolicyDocument {
  const prefix = (p: string) => (p.endsWith("/") ? p : `${p}/`);
  if (!input.outputPrefix.startsWith(PREFIXES.models) || input.outputPrefix.length <= PREFIXES.models.length) {
    throw new Error(
      `llm training policy: output prefix ${JSON.stringify(input.outputPrefix)} must be a folder under ${PREFIXES.models}`,
    );
  }
  if (input.base && !input.base.prefix)
    throw new Error("llm training policy: the base must be a prefix, not a whole bucket");
  return workloadPolicy([
    ...read(input, input.buckets.docs, [PREFIXES.raw, PREFIXES.logs]),
    ...(input.base ? read(input, input.base.bucket, [prefix(input.base.prefix)]) : []),
    {
      Effect: "Allow",
      Action: ["oss:PutObject", "oss:GetObject", "oss:AbortMultipartUpload", "oss:ListParts"],
      Resource: [ossPrefixArn(input.accountId, input.buckets.artifacts, prefix(input.outputPrefix))],
    },
    ...kms(input, true),
  ]);
}

/** GPU ECS hosts running TorchServe: read models/ of artifacts. */
export function servingPolicy(input: WorkloadPolicyInput): PolicyDocument {
  return workloadPolicy([...read(input, input.buckets.artifacts, [PREFIXES.models]), ...kms(input, false)]);
}

export interface OrchestratorPolicyInput extends WorkloadPolicyInput {
  /** Without an instance (not bought yet) the AIRec statement is left out. */
  readonly airecInstanceId?: string;
}

/** The orchestrator on ACK: read raw/ of docs, write logs/ of docs, recommend from and push to one AIRec instance. */
export function orchestratorPolicy(input: OrchestratorPolicyInput): PolicyDocument {
  return workloadPolicy([
    ...read(input, input.buckets.docs, [PREFIXES.raw]),
    {
      Effect: "Allow",
      Action: ["oss:PutObject", "oss:AbortMultipartUpload"],
      Resource: [ossPrefixArn(input.accountId, input.buckets.docs, PREFIXES.logs)],
    },
    ...(input.airecInstanceId
      ? [
          {
            Effect: "Allow" as const,
            Action: [...AIREC_ACTIONS],
            Resource: [airecInstanceArn(input.region, input.accountId, input.airecInstanceId)],
          },
        ]
      : []),
    ...kms(input, true),
  ]);
}

/**
 * Stricter than assertLeastPrivilege, for workload roles: no Resource "*" at all, every OSS object
 * ARN under a named prefix (never `bucket/*`), and ListObjects only with an oss:Prefix condition.
 */
export function assertWorkloadScope<T extends PolicyDocument>(doc: T): T {
  const problems: string[] = [];
  doc.Statement.forEach((statement, i) => {
    const resources = asList(statement.Resource);
    if (resources.includes("*")) problems.push(`Statement[${i}] uses Resource "*"`);
    for (const arn of resources.filter((r) => r.startsWith("acs:oss:") && r.includes("/"))) {
      if (!/^acs:oss:[^/]+\/[^*/][^*]*\/\*$/.test(arn)) problems.push(`Statement[${i}]: ${arn} is not a prefix ARN`);
    }
    const lists = asList(statement.Action).includes("oss:ListObjects");
    const prefixes = statement.Condition?.StringLike?.["oss:Prefix"];
    if (lists && (prefixes === undefined || asList(prefixes).some((p) => p === "*" || p === ""))) {
      problems.push(`Statement[${i}] lists objects without an oss:Prefix condition`);
    }
  });
  if (problems.length > 0) throw new Error(`workload policy is wider than allowed:\n  - ${problems.join("\n  - ")}`);
  return doc;
}

const workloadPolicy = (statements: Statement[]): PolicyDocument =>
  assertWorkloadScope(assertLeastPrivilege({ Version: "1", Statement: statements }));
