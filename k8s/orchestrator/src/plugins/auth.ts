import { createHash } from "node:crypto";
import type { Principal } from "@search-backbone/relevance";
import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import type { ApiKeyEntry } from "../config";
import { type JwtVerifier, keyPrincipal, looksLikeJwt, onBehalfPrincipal } from "../identity";
import { ProblemError } from "../problem";

/**
 * API keys: the Secret holds only SHA-256 hashes (keys are random 32-byte tokens, so a fast hash is
 * enough and a lookup by hash leaks nothing about the key). A key comes as `Authorization: Bearer`
 * or `x-api-key`; the request then carries the key's id, which the rate limiter counts by. With JWT
 * settings, a bearer token shaped like a JWT is verified instead (src/identity.ts). Either way the
 * request carries a principal, which every engine query filters by. Only `/v1/*` needs a key:
 * probes and /metrics stay open to the cluster.
 */

declare module "fastify" {
  interface FastifyRequest {
    apiKey?: ApiKeyEntry;
    /** Who is asking; set on every `/v1/*` request that got this far. */
    principal: Principal;
  }
}

export interface AuthOptions {
  readonly keys: readonly ApiKeyEntry[];
  readonly jwt?: JwtVerifier | undefined;
}

export const hashKey = (key: string) => createHash("sha256").update(key, "utf8").digest("hex");

const auth: FastifyPluginAsync<AuthOptions> = async (app, options) => {
  const byHash = new Map(options.keys.map((k) => [k.sha256, k]));
  app.decorateRequest("apiKey", undefined);
  // Set by the hook below on every /v1/ request; nothing outside /v1/ reads it.
  app.decorateRequest("principal", null as unknown as Principal);
  app.addHook("onRequest", async (request) => {
    if (!request.url.startsWith("/v1/")) return;
    const header = request.headers.authorization;
    const presented = header?.startsWith("Bearer ") ? header.slice(7).trim() : request.headers["x-api-key"];
    if (options.jwt && header?.startsWith("Bearer ") && typeof presented === "string" && looksLikeJwt(presented)) {
      request.principal = await options.jwt.verify(presented);
      return;
    }
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
    request.principal = onBehalfPrincipal(key, request.headers) ?? keyPrincipal(key);
  });
};

export default fp(auth, { name: "auth", fastify: "5.x" });
