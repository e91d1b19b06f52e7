import { createHash } from "node:crypto";
import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import type { ApiKeyEntry } from "../config";
import { ProblemError } from "../problem";

/**
 * API keys: the Secret holds only SHA-256 hashes (keys are random 32-byte tokens, so a fast hash is
 * enough and a lookup by hash leaks nothing about the key). A key comes as `Authorization: Bearer`
 * or `x-api-key`; the request then carries the key's id, which the rate limiter counts by. Only
 * `/v1/*` needs a key: probes and /metrics stay open to the cluster.
 */

declare module "fastify" {
  interface FastifyRequest {
    apiKey?: ApiKeyEntry;
  }
}

export interface AuthOptions {
  readonly keys: readonly ApiKeyEntry[];
}

export const hashKey = (key: string) => createHash("sha256").update(key, "utf8").digest("hex");

const auth: FastifyPluginAsync<AuthOptions> = async (app, options) => {
  const byHash = new Map(options.keys.map((k) => [k.sha256, k]));
  app.decorateRequest("apiKey", undefined);
  app.addHook("onRequest", async (request) => {
    if (!request.url.startsWith("/v1/")) return;
    const header = request.headers.authorization;
    const presented = header?.startsWith("Bearer ") ? header.slice(7).trim() : request.headers["x-api-key"];
    const key = typeof presented === "string" && presented ? byHash.get(hashKey(presented)) : undefined;
    if (!key) {
      throw new ProblemError({
        title: "Unauthorized",
        status: 401,
        detail: "a valid API key is required in the Authorization header (Bearer) or x-api-key",
        errors: [{ field: "header.authorization", message: presented ? "unknown API key" : "missing" }],
      });
    }
    request.apiKey = key;
  });
};

export default fp(auth, { name: "auth", fastify: "5.x" });
