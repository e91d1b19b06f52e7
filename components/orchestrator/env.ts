import type { OrchestratorEnvName } from "@search-backbone/relevance";
import type { OrchestratorSettings } from "./settings";

/**
 * The service's environment contract: the variables and files the orchestrator component renders for
 * the service. The names are the relevance package's ORCHESTRATOR_ENV, which the service's config
 * schema has exactly (the compiler checks both sides). Pure: tested directly.
 */

/** Where the service reads its files inside the container. */
export const MOUNTS = { config: "/etc/orchestrator", secrets: "/etc/orchestrator-secrets", tmp: "/tmp" } as const;
export const FILES = {
  profile: "profile.json",
  endpoints: "endpoints.json",
  opensearchCa: "opensearch-ca.crt",
  apiKeys: "api-keys.json",
} as const;
export const HTTP_PORT = 8080;
export interface EnvInputs {
  readonly indexAlias: string;
  readonly elasticsearchUrl: string;
  readonly opensearchUrl: string;
  readonly oss: { readonly bucket: string; readonly region: string; readonly endpoint: string };
  /** Under the docs bucket's logs/ prefix: the orchestrator's RAM policy may write nothing else. */
  readonly eventLogPrefixes: { readonly events: string; readonly recs: string; readonly chat: string };
  readonly rawPrefix: string;
  readonly airec?: { readonly instanceId: string; readonly sceneId: string; readonly endpoint: string } | undefined;
  /** Chat from the fine-tuned model on EAS: its OpenAI-compatible base URL and served model name. */
  readonly easChat?: { readonly baseUrl: string; readonly model: string } | undefined;
  readonly settings: OrchestratorSettings;
}

/** Variables by the names the service validates (the relevance package's ORCHESTRATOR_ENV). */
export type OrchestratorEnv = Partial<Record<OrchestratorEnvName, string>>;

/** The ConfigMap's environment variables (non-secret). */
export function orchestratorEnv(input: EnvInputs): OrchestratorEnv {
  const { settings } = input;
  for (const [field, prefix] of Object.entries(input.eventLogPrefixes)) {
    if (!prefix.endsWith("/")) throw new Error(`eventLogPrefixes.${field}: given "${prefix}"; expected a folder/`);
  }
  return {
    PORT: String(HTTP_PORT),
    LOG_LEVEL: settings.logLevel,
    PROFILE_FILE: `${MOUNTS.config}/${FILES.profile}`,
    ENDPOINTS_FILE: `${MOUNTS.config}/${FILES.endpoints}`,
    INDEX_ALIAS: input.indexAlias,
    RAW_PREFIX: input.rawPrefix,
    ELASTICSEARCH_URL: input.elasticsearchUrl,
    OPENSEARCH_URL: input.opensearchUrl,
    OPENSEARCH_CA_FILE: `${MOUNTS.config}/${FILES.opensearchCa}`,
    DASHSCOPE_BASE_URL: settings.dashscopeBaseUrl,
    CHAT_MODEL: input.easChat ? input.easChat.model : settings.chatModel,
    CHAT_BACKEND: input.easChat ? "eas" : "dashscope",
    ...(input.easChat ? { EAS_CHAT_BASE_URL: input.easChat.baseUrl } : {}),
    AIREC_ENABLED: input.airec ? "true" : "false",
    ...(input.airec
      ? {
          AIREC_ENDPOINT: input.airec.endpoint,
          AIREC_INSTANCE_ID: input.airec.instanceId,
          AIREC_SCENE_ID: input.airec.sceneId,
        }
      : {}),
    OSS_BUCKET: input.oss.bucket,
    OSS_REGION: input.oss.region,
    OSS_ENDPOINT: input.oss.endpoint,
    EVENT_LOG_PREFIX: input.eventLogPrefixes.events,
    EVENT_LOG_RECS_PREFIX: input.eventLogPrefixes.recs,
    CHAT_LOG_ENABLED: String(settings.chatLog),
    CHAT_LOG_PREFIX: input.eventLogPrefixes.chat,
    API_KEYS_FILE: `${MOUNTS.secrets}/${FILES.apiKeys}`,
    ...(settings.jwt
      ? {
          JWT_ISSUER: settings.jwt.issuer,
          JWT_AUDIENCE: settings.jwt.audience,
          JWT_JWKS_URL: settings.jwt.jwksUrl,
          ...(settings.jwt.userClaim ? { JWT_USER_CLAIM: settings.jwt.userClaim } : {}),
          ...(settings.jwt.groupsClaim ? { JWT_GROUPS_CLAIM: settings.jwt.groupsClaim } : {}),
        }
      : {}),
    RATE_LIMIT_PER_MINUTE: String(settings.rateLimitPerMinute),
    SHUTDOWN_GRACE_MS: String(settings.shutdownGraceMs),
    ...(settings.upstreamIdleTimeoutMs === undefined
      ? {}
      : { UPSTREAM_IDLE_TIMEOUT_MS: String(settings.upstreamIdleTimeoutMs) }),
    ...(settings.dependencyLimits
      ? {
          ENGINE_MAX_IN_FLIGHT: String(settings.dependencyLimits.engineInFlight),
          MODEL_MAX_IN_FLIGHT: String(settings.dependencyLimits.modelInFlight),
          DEPENDENCY_QUEUE_LENGTH: String(settings.dependencyLimits.queue),
        }
      : {}),
  };
}

export interface SecretInputs {
  readonly dashscopeApiKey: string;
  readonly elasticsearch: { readonly username: string; readonly password: string };
  readonly opensearch: { readonly username: string; readonly password: string };
  /** The model endpoints' bearer token, when an endpoint names one (`authSecret`). */
  readonly modelApiKey?: string | undefined;
  /** The EAS chat service's access token, with CHAT_BACKEND eas. */
  readonly easChatToken?: string | undefined;
}

/** The Secret's environment variables; everything here is a credential. */
export function orchestratorSecretEnv(input: SecretInputs): OrchestratorEnv {
  return {
    DASHSCOPE_API_KEY: input.dashscopeApiKey,
    ELASTICSEARCH_USERNAME: input.elasticsearch.username,
    ELASTICSEARCH_PASSWORD: input.elasticsearch.password,
    OPENSEARCH_USERNAME: input.opensearch.username,
    OPENSEARCH_PASSWORD: input.opensearch.password,
    ...(input.modelApiKey ? { MODEL_API_KEY: input.modelApiKey } : {}),
    ...(input.easChatToken ? { EAS_CHAT_TOKEN: input.easChatToken } : {}),
  };
}
