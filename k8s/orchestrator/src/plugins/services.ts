import type { ElasticsearchClient, OpenSearchClient } from "@search-backbone/engines";
import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import type { ChatLog } from "../chat-log";
import type { ApiKeyEntry } from "../config";
import type { Generator } from "../generation";
import type { JwtVerifier } from "../identity";
import type { Recommender } from "../recommendations";
import type { Retriever } from "../retrieval";
import type { Telemetry } from "../telemetry";

/**
 * What the routes work with, on the instance: the dependencies app.ts wires (`app.services`) and the
 * settings the routes read (`app.settings`). The routes name only what they call, so tests can
 * stand in for retrieval, recommendations and generation.
 */

export interface Services {
  readonly retriever: Pick<Retriever, "retrieve">;
  readonly recommender: Pick<Recommender, "recommend">;
  /** The chat model; without one (no DASHSCOPE_API_KEY) chat answers are extractive. */
  readonly generator?: Generator | undefined;
  readonly telemetry: Pick<Telemetry, "record">;
  /** Where answered chat turns are recorded; undefined: CHAT_LOG_ENABLED=false. */
  readonly chatLog?: Pick<ChatLog, "record"> | undefined;
  readonly es: ElasticsearchClient;
  readonly os: OpenSearchClient;
}

export interface Settings {
  readonly alias: string;
  readonly docUriPrefix: string;
  readonly apiKeys: readonly ApiKeyEntry[];
  /** Bearer JWTs from the identity provider; none: API keys only. */
  readonly jwt?: JwtVerifier | undefined;
  readonly ratePerMinute: number;
  readonly bodyLimit: number;
  readonly budgetMs: number;
  readonly engineTimeoutMs: number;
  readonly logLevel: string;
  readonly chatRecommendations: number;
}

declare module "fastify" {
  interface FastifyInstance {
    services: Services;
    settings: Settings;
  }
}

export interface ServicesOptions {
  readonly services: Services;
  readonly settings: Settings;
}

const services: FastifyPluginAsync<ServicesOptions> = async (app, options) => {
  app.decorate("services", options.services);
  app.decorate("settings", options.settings);
};

export default fp(services, { name: "services", fastify: "5.x" });
