/** The orchestrator component's settings: the stack maps its validated config onto them. */

export interface ApiKey {
  readonly id: string;
  /** Hex SHA-256 of the key; the key itself never reaches Pulumi. */
  readonly sha256: string;
  readonly ratePerMinute?: number | undefined;
  /** The groups of the key's principal (document permissions); none: public documents only. */
  readonly groups?: readonly string[] | undefined;
  /** A trusted back end that may name the end user it acts for (x-on-behalf-of). */
  readonly onBehalfOf?: boolean | undefined;
}

export interface ResourceSettings {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu?: string | undefined; readonly memory: string };
}

export interface IngressSettings {
  readonly enabled: boolean;
  readonly host?: string | undefined;
  /** An existing IngressClass; unset: the component's own ALB class on an intranet-only ALB. */
  readonly className?: string | undefined;
}

export interface OrchestratorSettings {
  readonly replicas: { readonly min: number; readonly max: number };
  readonly resources: ResourceSettings;
  /** HPA target: average CPU utilisation of the requests, in percent. */
  readonly targetCpuUtilization: number;
  readonly chatModel: string;
  /** DashScope's OpenAI-compatible base URL, e.g. https://dashscope.aliyuncs.com/compatible-mode/v1. */
  readonly dashscopeBaseUrl: string;
  readonly rateLimitPerMinute: number;
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace";
  /** How long the service drains requests and telemetry after SIGTERM. */
  readonly shutdownGraceMs: number;
  /** Outbound keep-alive connections (engines, model endpoints) idle this long are closed; unset: the service's default. */
  readonly upstreamIdleTimeoutMs?: number | undefined;
  /** Backpressure per replica: calls in flight per engine and per model endpoint, and how many more may wait. */
  readonly dependencyLimits?:
    | { readonly engineInFlight: number; readonly modelInFlight: number; readonly queue: number }
    | undefined;
  readonly ingress: IngressSettings;
  /** Record each answered chat turn under the chat-log prefix (CHAT_LOG_ENABLED): personal data, training data. */
  readonly chatLog: boolean;
  /** Bearer JWTs from the identity provider (JWT_* of the service); unset: API keys only. */
  readonly jwt?: JwtSettings | undefined;
}

export interface JwtSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  readonly userClaim?: string | undefined;
  readonly groupsClaim?: string | undefined;
}
