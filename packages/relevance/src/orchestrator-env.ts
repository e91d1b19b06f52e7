/**
 * The orchestrator's environment: every variable k8s/orchestrator/src/config.ts validates (its schema
 * has exactly these keys, checked by the compiler) and the only names the orchestrator component
 * (components/orchestrator) may set.
 */
export const ORCHESTRATOR_ENV = [
  "PORT",
  "HOST",
  "LOG_LEVEL",
  "PROFILE_FILE",
  "ENDPOINTS_FILE",
  "INDEX_ALIAS",
  "INDEX_PIN_TTL_MS",
  "RAW_PREFIX",
  "DOC_URI_PREFIX",
  "ELASTICSEARCH_URL",
  "ELASTICSEARCH_USERNAME",
  "ELASTICSEARCH_PASSWORD",
  "OPENSEARCH_URL",
  "OPENSEARCH_USERNAME",
  "OPENSEARCH_PASSWORD",
  "OPENSEARCH_CA_FILE",
  "MODEL_API_KEY",
  "DASHSCOPE_BASE_URL",
  "DASHSCOPE_API_KEY",
  "CHAT_MODEL",
  "CHAT_MAX_TOKENS",
  // Chat from the fine-tuned model on PAI-EAS (vLLM's OpenAI-compatible server).
  "CHAT_BACKEND",
  "EAS_CHAT_BASE_URL",
  "EAS_CHAT_TOKEN",
  "AIREC_ENABLED",
  "AIREC_ENDPOINT",
  "AIREC_PROTOCOL",
  "AIREC_INSTANCE_ID",
  "AIREC_SCENE_ID",
  "AIREC_ITEM_TYPE",
  "ALIBABA_CLOUD_ACCESS_KEY_ID",
  "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
  "ALIBABA_CLOUD_SECURITY_TOKEN",
  "ALIBABA_CLOUD_ROLE_ARN",
  "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
  "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
  "ALIBABA_CLOUD_ROLE_SESSION_NAME",
  "EVENT_LOG_FOLDER",
  "OSS_BUCKET",
  "OSS_REGION",
  "OSS_ENDPOINT",
  "EVENT_LOG_PREFIX",
  "EVENT_LOG_RECS_PREFIX",
  "API_KEYS_FILE",
  "JWT_ISSUER",
  "JWT_AUDIENCE",
  "JWT_JWKS_URL",
  "JWT_USER_CLAIM",
  "JWT_GROUPS_CLAIM",
  "RATE_LIMIT_PER_MINUTE",
  "BODY_LIMIT_BYTES",
  "REQUEST_BUDGET_MS",
  "EMBED_TIMEOUT_MS",
  "ENGINE_TIMEOUT_MS",
  "RERANK_ENABLED",
  "RERANK_TIMEOUT_MS",
  "LLM_TIMEOUT_MS",
  "AIREC_TIMEOUT_MS",
  "ENGINE_MAX_IN_FLIGHT",
  "MODEL_MAX_IN_FLIGHT",
  "DEPENDENCY_QUEUE_LENGTH",
  "UPSTREAM_IDLE_TIMEOUT_MS",
  "TELEMETRY_BUFFER_EVENTS",
  "TELEMETRY_FLUSH_MS",
  "SHUTDOWN_GRACE_MS",
  // Engagement shared by the replicas (the engagement index, see engagement.ts).
  "ENGAGEMENT_POPULAR_WINDOW",
  "ENGAGEMENT_RETENTION_DAYS",
  // The chat log (transcripts as training data; k8s/orchestrator/src/chat-log.ts).
  "CHAT_LOG_ENABLED",
  "CHAT_LOG_PREFIX",
] as const;

export type OrchestratorEnvName = (typeof ORCHESTRATOR_ENV)[number];

/**
 * Variables the service cannot start without (no default): the component must set each. Not among
 * them: DASHSCOPE_API_KEY (without it chat answers are extractive; the cloud deployment sets it) and
 * DASHSCOPE_BASE_URL and CHAT_MODEL (defaults: DashScope's compatible-mode URL, qwen-plus).
 */
export const ORCHESTRATOR_REQUIRED_ENV = [
  "PROFILE_FILE",
  "ENDPOINTS_FILE",
  "INDEX_ALIAS",
  "ELASTICSEARCH_URL",
  "OPENSEARCH_URL",
  "API_KEYS_FILE",
] as const satisfies readonly OrchestratorEnvName[];

/**
 * Defaults of the prefixes the service writes to in the docs bucket (k8s/orchestrator/src/config.ts
 * uses them). All lie under `logs/`, the only prefix the orchestrator's RAM policy lets it write
 * (components/identity/policies.ts); a test checks each against that policy.
 */
export const ORCHESTRATOR_WRITE_PREFIX_DEFAULTS = {
  EVENT_LOG_PREFIX: "logs/events/",
  EVENT_LOG_RECS_PREFIX: "logs/recs-events/",
  CHAT_LOG_PREFIX: "logs/chat/",
} as const satisfies Partial<Record<OrchestratorEnvName, string>>;
