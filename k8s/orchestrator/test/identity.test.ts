import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Principal } from "@search-backbone/relevance";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { RetrieveOptions } from "../src/answers";
import { logLine } from "../src/event-log";
import type { TelemetryEvent } from "../src/events";
import { JwtVerifier } from "../src/identity";
import { hit, injectApp, KEYS } from "./inject-harness";

/**
 * Who is asking, through the real auth plugin: API keys with and without groups, a trusted back end
 * acting for a user, and JWTs signed with real keys and verified by jose against a JWKS served over
 * HTTP on a local port (the identity provider's stand-in: what it serves is a real key set).
 */

const ISSUER = "https://idp.example.com/";
const AUDIENCE = "search-backbone";
let jwksServer: Server;
let jwksUrl: string;
let serveKeys = true;
let keyFetches = 0;
let privateKey: CryptoKey;
let otherKey: CryptoKey;
let publicJwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair("ES256");
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair("ES256")).privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  jwksServer = createServer((_req, res) => {
    keyFetches++;
    if (!serveKeys) {
      res.writeHead(503).end("down");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(() => new Promise<void>((resolve) => jwksServer.close(() => resolve())));
afterEach(() => {
  serveKeys = true;
});

const settings = () => ({ issuer: ISSUER, audience: AUDIENCE, jwksUrl, userClaim: "sub", groupsClaim: "groups" });

async function token(
  claims: Record<string, unknown> = {},
  options: { key?: CryptoKey; issuer?: string; audience?: string; expires?: string | number; kid?: string } = {},
) {
  return new SignJWT({ groups: ["finance", "hr"], ...claims })
    .setProtectedHeader({ alg: "ES256", kid: options.kid ?? "k1" })
    .setSubject("alice")
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expires ?? "5m")
    .sign(options.key ?? privateKey);
}

/** The principal the search route handed to retrieval, for a request with these headers. */
async function principalOf(app: Awaited<ReturnType<typeof injectApp>>, headers: Record<string, string>) {
  let seen: Principal | undefined;
  app.script.retrieve = async (_text, options?: RetrieveOptions) => {
    seen = options?.principal;
    return { hits: [], vector: undefined, degraded: false, warnings: [], rerank: "skipped" };
  };
  const res = await app.app.inject({ method: "POST", url: "/v1/search", headers, payload: { query: "q" } });
  return { res, principal: seen };
}

describe("API keys as principals", () => {
  it("a key without groups (files written before groups) is its id alone; a key with groups carries them", async () => {
    const t = await injectApp();
    try {
      expect((await principalOf(t, { authorization: `Bearer ${KEYS.main}` })).principal).toEqual({
        id: "main",
        groups: [],
      });
      expect((await principalOf(t, { "x-api-key": KEYS.finance })).principal).toEqual({
        id: "finance-app",
        groups: ["finance"],
      });
    } finally {
      await t.app.close();
    }
  });

  it("only a key marked onBehalfOf may name an end user; the user's identity then applies", async () => {
    const t = await injectApp();
    try {
      const forUser = await principalOf(t, {
        "x-api-key": KEYS.backend,
        "x-on-behalf-of": "bob",
        "x-on-behalf-of-groups": "eng, finance",
      });
      expect(forUser.principal).toEqual({ id: "bob", groups: ["eng", "finance"] });
      const refused = await principalOf(t, { "x-api-key": KEYS.main, "x-on-behalf-of": "bob" });
      expect(refused.res.statusCode).toBe(403);
      expect(refused.res.headers["content-type"]).toContain("application/problem+json");
      expect(refused.res.json().errors).toEqual([
        {
          field: "header.x-on-behalf-of",
          message: 'API key main may not act on behalf of a user (its entry lacks "onBehalfOf": true)',
        },
      ]);
      expect(refused.principal).toBeUndefined();
      const badGroup = await principalOf(t, {
        "x-api-key": KEYS.backend,
        "x-on-behalf-of": "bob",
        "x-on-behalf-of-groups": "eng,fin*",
      });
      expect(badGroup.res.statusCode).toBe(400);
      expect(badGroup.res.json().title).toBe("Invalid request");
      expect(refused.res.json().title).toBe("Forbidden");
      expect(badGroup.res.json().errors[0].field).toBe("header.x-on-behalf-of-groups");
    } finally {
      await t.app.close();
    }
  });
});

describe("JWTs from the identity provider", () => {
  it("a valid token is its subject with the groups claim; the events it causes carry the subject, not groups", async () => {
    const t = await injectApp({ jwt: new JwtVerifier(settings()) });
    try {
      const { res, principal } = await principalOf(t, { authorization: `Bearer ${await token()}` });
      expect(res.statusCode).toBe(200);
      expect(principal).toEqual({ id: "alice", groups: ["finance", "hr"] });
      const recorded = vi.spyOn(t.telemetry, "record");
      t.script.retrieve = async () => ({
        hits: [hit(1)],
        vector: undefined,
        degraded: false,
        warnings: [],
        rerank: "skipped",
      });
      const headers = { authorization: `Bearer ${await token()}` };
      await t.app.inject({ method: "POST", url: "/v1/search", headers, payload: { query: "q", userId: "u1" } });
      const exposure = recorded.mock.calls[0]?.[0];
      expect(exposure).toMatchObject({ type: "expose", userId: "u1", principalId: "alice" });
      const line = logLine(exposure as TelemetryEvent);
      expect(line.principalId).toBe("alice");
      expect(JSON.stringify(line)).not.toContain("finance");
      // API keys still work beside JWTs.
      expect((await principalOf(t, { authorization: `Bearer ${KEYS.main}` })).principal?.id).toBe("main");
    } finally {
      await t.app.close();
    }
  });

  const unsigned = () => {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    return `${part({ alg: "none" })}.${part({ sub: "alice", iss: ISSUER, aud: AUDIENCE, exp: now + 300 })}.`;
  };

  it.each([
    ["expired", () => token({}, { expires: Math.floor(Date.now() / 1000) - 120 }), "token.exp"],
    ["from another issuer", () => token({}, { issuer: "https://evil.example.com/" }), "token.iss"],
    ["for another audience", () => token({}, { audience: "someone-else" }), "token.aud"],
    ["signed with another key", () => token({}, { key: otherKey }), "token.signature"],
    ["unsigned (alg none)", async () => unsigned(), "token.alg"],
    ["with groups that are not names", () => token({ groups: "finance,hr" }), "token.groups"],
  ])("refuses a token %s with 401 problem+json naming %s", async (_what, make, field) => {
    const t = await injectApp({ jwt: new JwtVerifier(settings()) });
    try {
      const { res, principal } = await principalOf(t, { authorization: `Bearer ${await make()}` });
      expect(res.statusCode).toBe(401);
      expect(res.headers["content-type"]).toContain("application/problem+json");
      expect(res.json().errors[0].field).toBe(field);
      expect(principal).toBeUndefined();
    } finally {
      await t.app.close();
    }
  });

  it("fails closed with 503 when the JWKS is down, and honours keys it already holds", async () => {
    const verifier = new JwtVerifier(settings());
    const t = await injectApp({ jwt: verifier });
    const cold = await injectApp({ jwt: new JwtVerifier(settings()) });
    try {
      expect((await principalOf(t, { authorization: `Bearer ${await token()}` })).res.statusCode).toBe(200);
      serveKeys = false;
      const before = keyFetches;
      // Cached key: still verified, no fetch.
      const cached = await principalOf(t, { authorization: `Bearer ${await token({ groups: ["eng"] })}` });
      expect(cached.res.statusCode).toBe(200);
      expect(cached.principal).toEqual({ id: "alice", groups: ["eng"] });
      expect(keyFetches).toBe(before);
      // A verifier without the key must fetch it: the provider is down, so 503, never a pass.
      const down = await principalOf(cold, { authorization: `Bearer ${await token()}` });
      expect(down.res.statusCode).toBe(503);
      expect(down.res.headers["content-type"]).toContain("application/problem+json");
      expect(down.principal).toBeUndefined();
    } finally {
      await t.app.close();
      await cold.app.close();
    }
  });
});
