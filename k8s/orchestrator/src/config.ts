import { readFileSync } from "node:fs";
import {
  type ModelEndpoints,
  NAME_PATTERN,
  ORCHESTRATOR_WRITE_PREFIX_DEFAULTS,
  type OrchestratorEnvName,
  type RelevanceProfile,
} from "@search-backbone/relevance";
import { z } from "zod";

/**
 * Configuration, from environment variables only (the Deployment sets them from stack outputs and
 * Secrets). Checked once at start-up: a bad or missing variable stops the process with a message
 * naming the variable, the value (never for secrets) and what was expected.
 */

const SECRET_VARIABLES = new Set([
  "ELASTICSEARCH_PASSWORD",
  "OPENSEARCH_PASSWORD",
  "MODEL_API_KEY",
  "DASHSCOPE_API_KEY",
  "EAS_CHAT_TOKEN",
  "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
  "ALIBABA_CLOUD_SECURITY_TOKEN",
]);

const ms = (fallback: number) => z.coerce.number().int().min(1).max(600_000).default(fallback);
const positive = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(["true", "false"])
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true");
const url = z.url({ protocol: /^https?$/ });
const optionalText = z.string().min(1).optional();

/** Exactly the variables of the relevance package's ORCHESTRATOR_ENV, the component's contract. */
const envShape = {
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default("0.0.0.0"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  PROFILE_FILE: z.string().min(1),
  ENDPOINTS_FILE: z.string().min(1),
  INDEX_ALIAS: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
  INDEX_PIN_TTL_MS: ms(5000),
  RAW_PREFIX: z.string().default("raw/"),
  DOC_URI_PREFIX: z.string().default(""),
  ELASTICSEARCH_URL: url,
  ELASTICSEARCH_USERNAME: optionalText,
  ELASTICSEARCH_PASSWORD: optionalText,
  OPENSEARCH_URL: url,
  OPENSEARCH_USERNAME: optionalText,
  OPENSEARCH_PASSWORD: optionalText,
  OPENSEARCH_CA_FILE: optionalText,
  MODEL_API_KEY: optionalText,
  // Chat answers come from DashScope when its key is set, else they are extractive (src/extractive.ts).
  DASHSCOPE_BASE_URL: url.default("https://dashscope.aliyuncs.com/compatible-mode/v1"),
  DASHSCOPE_API_KEY: optionalText,
  CHAT_MODEL: z.string().min(1).default("qwen-plus"),
  CHAT_MAX_TOKENS: positive(800),
  // CHAT_BACKEND=eas takes answers from the fine-tuned model on PAI-EAS (vLLM's
  // OpenAI-compatible server) at EAS_CHAT_BASE_URL (…/api/predict/<service>/v1) with its service token.
  CHAT_BACKEND: z.enum(["dashscope", "eas"]).default("dashscope"),
  EAS_CHAT_BASE_URL: url.optional(),
  EAS_CHAT_TOKEN: optionalText,
  AIREC_ENABLED: flag(false),
  AIREC_ENDPOINT: optionalText,
  AIREC_PROTOCOL: z.enum(["https", "http"]).default("https"),
  AIREC_INSTANCE_ID: optionalText,
  AIREC_SCENE_ID: optionalText,
  AIREC_ITEM_TYPE: z.enum(["article", "item", "image", "video", "shortvideo", "recipe", "audio"]).default("article"),
  ALIBABA_CLOUD_ACCESS_KEY_ID: optionalText,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: optionalText,
  ALIBABA_CLOUD_SECURITY_TOKEN: optionalText,
  // RRSA (ACK's pod-identity webhook sets the first three); see credentials.ts.
  ALIBABA_CLOUD_ROLE_ARN: optionalText,
  ALIBABA_CLOUD_OIDC_PROVIDER_ARN: optionalText,
  ALIBABA_CLOUD_OIDC_TOKEN_FILE: optionalText,
  ALIBABA_CLOUD_ROLE_SESSION_NAME: optionalText,
  EVENT_LOG_FOLDER: optionalText,
  OSS_BUCKET: optionalText,
  OSS_REGION: optionalText,
  OSS_ENDPOINT: optionalText,
  EVENT_LOG_PREFIX: z.string().default(ORCHESTRATOR_WRITE_PREFIX_DEFAULTS.EVENT_LOG_PREFIX),
  EVENT_LOG_RECS_PREFIX: z.string().default(ORCHESTRATOR_WRITE_PREFIX_DEFAULTS.EVENT_LOG_RECS_PREFIX),
  API_KEYS_FILE: z.string().min(1),
  // Bearer JWTs from the company's identity provider (src/identity.ts): all three or none.
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  JWT_JWKS_URL: url.optional(),
  JWT_USER_CLAIM: z.string().min(1).default("sub"),
  JWT_GROUPS_CLAIM: z.string().min(1).default("groups"),
  RATE_LIMIT_PER_MINUTE: positive(600),
  BODY_LIMIT_BYTES: positive(65_536),
  REQUEST_BUDGET_MS: ms(4000),
  EMBED_TIMEOUT_MS: ms(1000),
  ENGINE_TIMEOUT_MS: ms(1500),
  // Off: results keep the fused order and say `rerank: "off"` (not degraded), e.g. where the only
  // reranker at hand is known to make the ranking worse (the local stack's docs-trained one).
  RERANK_ENABLED: flag(true),
  RERANK_TIMEOUT_MS: ms(1000),
  LLM_TIMEOUT_MS: ms(60_000),
  AIREC_TIMEOUT_MS: ms(800),
  // Backpressure (src/limits.ts): calls in flight per engine and per model endpoint, and how many more wait.
  ENGINE_MAX_IN_FLIGHT: positive(32),
  MODEL_MAX_IN_FLIGHT: positive(32),
  DEPENDENCY_QUEUE_LENGTH: z.coerce.number().int().min(0).default(64),
  // Outbound keep-alive connections (engines, model endpoints, DashScope) idle this long are closed.
  UPSTREAM_IDLE_TIMEOUT_MS: ms(15_000),
  TELEMETRY_BUFFER_EVENTS: positive(20_000),
  TELEMETRY_FLUSH_MS: ms(1000),
  SHUTDOWN_GRACE_MS: ms(10_000),
  // The engagement index (src/engagement.ts): popularity over this window (Elasticsearch date math:
  // minutes, hours or days), and engagements older than the retention deleted once an hour.
  ENGAGEMENT_POPULAR_WINDOW: z
    .string()
    .regex(/^[1-9][0-9]{0,4}[mhd]$/, "a window like 7d, 12h or 30m (a positive number, then m, h or d)")
    .default("7d"),
  ENGAGEMENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  // Each answered chat turn, as training data for the chat model (src/chat-log.ts); personal data.
  CHAT_LOG_ENABLED: flag(true),
  CHAT_LOG_PREFIX: z
    .string()
    .regex(/^[^/].*\/$/, "expected a folder inside the bucket like logs/chat/ (no leading /, a trailing /)")
    .default(ORCHESTRATOR_WRITE_PREFIX_DEFAULTS.CHAT_LOG_PREFIX),
} satisfies Record<OrchestratorEnvName, z.ZodType>;

const envSchema = z.object(envShape).superRefine((env, ctx) => {
  if (env.CHAT_BACKEND === "eas") {
    for (const key of ["EAS_CHAT_BASE_URL", "EAS_CHAT_TOKEN"] as const) {
      if (!env[key]) ctx.addIssue({ code: "custom", path: [key], message: "required when CHAT_BACKEND=eas" });
    }
  }
  if (env.AIREC_ENABLED) {
    for (const key of ["AIREC_ENDPOINT", "AIREC_INSTANCE_ID", "AIREC_SCENE_ID"] as const) {
      if (!env[key]) ctx.addIssue({ code: "custom", path: [key], message: "required when AIREC_ENABLED=true" });
    }
  }
  // Credentials: an AccessKey pair (local runs) or RRSA's three variables (ACK), each set complete.
  if (env.ALIBABA_CLOUD_ACCESS_KEY_ID && !env.ALIBABA_CLOUD_ACCESS_KEY_SECRET)
    ctx.addIssue({
      code: "custom",
      path: ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
      message: "required with ALIBABA_CLOUD_ACCESS_KEY_ID",
    });
  if (env.ALIBABA_CLOUD_ACCESS_KEY_SECRET && !env.ALIBABA_CLOUD_ACCESS_KEY_ID)
    ctx.addIssue({
      code: "custom",
      path: ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
      message: "required with ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    });
  const rrsa = ["ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE"] as const;
  if (rrsa.some((key) => env[key]))
    for (const key of rrsa)
      if (!env[key])
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `RRSA needs ${rrsa.join(", ")} together (ack-pod-identity-webhook sets them)`,
        });
  const cloud = env.AIREC_ENABLED || !env.EVENT_LOG_FOLDER;
  if (cloud && !env.ALIBABA_CLOUD_ACCESS_KEY_ID && !env.ALIBABA_CLOUD_ROLE_ARN)
    ctx.addIssue({
      code: "custom",
      path: ["ALIBABA_CLOUD_ROLE_ARN"],
      message:
        "AIRec and the OSS event log need credentials: RRSA (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE) or ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    });
  const jwt = ["JWT_ISSUER", "JWT_AUDIENCE", "JWT_JWKS_URL"] as const;
  if (jwt.some((key) => env[key]))
    for (const key of jwt)
      if (!env[key]) ctx.addIssue({ code: "custom", path: [key], message: `JWTs need ${jwt.join(", ")} together` });
  if (!env.EVENT_LOG_FOLDER && !(env.OSS_BUCKET && env.OSS_REGION)) {
    ctx.addIssue({
      code: "custom",
      path: ["OSS_BUCKET"],
      message: "the event log needs OSS_BUCKET and OSS_REGION (or EVENT_LOG_FOLDER for a local folder)",
    });
  }
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  readonly profile: RelevanceProfile;
  readonly endpoints: ModelEndpoints;
  readonly apiKeys: readonly ApiKeyEntry[];
}

export interface ApiKeyEntry {
  readonly id: string;
  /** Hex SHA-256 of the key. Keys are random 32-byte tokens, so a fast hash is enough. */
  readonly sha256: string;
  readonly ratePerMinute?: number | undefined;
  /** The groups its principal belongs to; none (files written before groups existed): public documents only. */
  readonly groups?: readonly string[] | undefined;
  /** A trusted back end: may name an end user (x-on-behalf-of) whose permissions then apply. */
  readonly onBehalfOf?: boolean | undefined;
}

const apiKeysSchema = z
  .array(
    z.object({
      id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      ratePerMinute: z.number().int().min(1).optional(),
      groups: z.array(z.string().regex(NAME_PATTERN, "a group name: letters, digits, . _ @ + : = / -")).optional(),
      onBehalfOf: z.boolean().optional(),
    }),
  )
  .min(1);

const profileSchema = z.object({
  embedding: z.object({ model: z.string().min(1), dims: z.number().int().min(1) }),
  rerank: z.object({ model: z.string().min(1) }),
  similarity: z.enum(["cosine", "dot_product", "l2_norm"]),
  bm25Weight: z.number().min(0).max(1),
  vectorWeight: z.number().min(0).max(1),
  candidateDepth: z.number().int().min(1),
  rerankWindow: z.number().int().min(1),
  topK: z.number().int().min(1),
  analyzer: z.string().min(1),
});

const endpointSchema = <D extends z.ZodType<number | null>>(dims: D) =>
  z.object({
    url,
    model: z.string().min(1),
    protocol: z.enum(["contract", "dashscope"]),
    dims,
    authSecret: z.string().min(1).nullable(),
  });

/** The stack's `modelEndpoints` (the relevance package's `ModelEndpoints`), as the component writes it. */
const endpointsSchema = z.object({
  embedding: endpointSchema(z.number().int().min(1).nullable()),
  rerank: endpointSchema(z.null()),
}) satisfies z.ZodType<ModelEndpoints>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`orchestrator configuration is invalid:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

function describe(issue: z.core.$ZodIssue, source: Record<string, unknown>, prefix = ""): string {
  const field = `${prefix}${issue.path.join(".")}`;
  const key = String(issue.path[0] ?? "");
  const raw = prefix ? undefined : source[key];
  const shown = raw === undefined ? "unset" : SECRET_VARIABLES.has(key) ? "(secret, not shown)" : JSON.stringify(raw);
  return `${field}: ${issue.message} (given ${shown})`;
}

function readJsonFile(variable: string, file: string, problems: string[]): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    problems.push(`${variable}: cannot read JSON from ${file}: ${(error as Error).message}`);
    return undefined;
  }
}

function checkFile<T>(variable: string, file: string, schema: z.ZodType<T>, problems: string[]): T | undefined {
  const value = readJsonFile(variable, file, problems);
  if (value === undefined) return undefined;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) problems.push(describe(issue, {}, `${variable} (${file}) `));
  return undefined;
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as Kubernetes renders an absent optional value.
  const env = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => describe(issue, env)));
  const problems: string[] = [];
  const models = modelFiles(parsed.data.PROFILE_FILE, parsed.data.ENDPOINTS_FILE, problems);
  const apiKeys = checkFile("API_KEYS_FILE", parsed.data.API_KEYS_FILE, apiKeysSchema, problems);
  if (problems.length > 0 || !models || !apiKeys) throw new ConfigError(problems);
  return { ...parsed.data, ...models, apiKeys };
}

function modelFiles(
  profileFile: string,
  endpointsFile: string,
  problems: string[],
): { profile: RelevanceProfile; endpoints: ModelEndpoints } | undefined {
  const profile = checkFile("PROFILE_FILE", profileFile, profileSchema, problems);
  const declared = checkFile("ENDPOINTS_FILE", endpointsFile, endpointsSchema, problems);
  const dims = declared?.embedding.dims;
  if (profile && dims != null && profile.embedding.dims !== dims) {
    problems.push(
      `PROFILE_FILE embedding.dims: given ${profile.embedding.dims}; expected the endpoint's dims (${dims})`,
    );
  }
  if (!profile || !declared) return undefined;
  // An endpoint that does not declare its dims serves the profile's (the search jobs' files say so too).
  return {
    profile,
    endpoints: { ...declared, embedding: { ...declared.embedding, dims: dims ?? profile.embedding.dims } },
  };
}

/** The profile and endpoints files alone, checked as at start-up (for a reload: see reload.ts). */
export function loadModelFiles(
  profileFile: string,
  endpointsFile: string,
): { profile: RelevanceProfile; endpoints: ModelEndpoints } {
  const problems: string[] = [];
  const models = modelFiles(profileFile, endpointsFile, problems);
  if (problems.length > 0 || !models) throw new ConfigError(problems);
  return models;
}
