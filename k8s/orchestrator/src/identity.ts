import { NAME_PATTERN, type Principal } from "@search-backbone/relevance";
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import type { ApiKeyEntry } from "./config";
import { ProblemError } from "./problem";

/**
 * Who is asking, as a principal (an id and groups) that the engines filter by (the relevance
 * package's access.ts). Three ways in:
 * - an API key: its id, and the groups the API-keys file gives it (none: public documents and those
 *   naming the key's id as a user);
 * - a JWT from the company's identity provider, verified with `jose` against the provider's JWKS,
 *   issuer and audience checked, the user and groups read from configurable claims;
 * - a trusted back end's API key marked `onBehalfOf`, passing an end user's id and groups in
 *   `x-on-behalf-of` / `x-on-behalf-of-groups`; any other key sending them is refused (403).
 */

export const ON_BEHALF_USER = "x-on-behalf-of";
export const ON_BEHALF_GROUPS = "x-on-behalf-of-groups";

export const keyPrincipal = (key: ApiKeyEntry): Principal => ({ id: key.id, groups: key.groups ?? [] });

const TITLES: Record<number, string> = { 400: "Invalid request", 401: "Unauthorized", 403: "Forbidden" };

const unauthorized = (field: string, message: string, status = 401) =>
  new ProblemError({
    title: TITLES[status] ?? "Unauthorized",
    status,
    detail: `${field}: ${message}`,
    errors: [{ field, message }],
  });

/**
 * The end user a trusted back end names, or undefined when it names none. Header values are single
 * strings; groups are comma-separated names of the sidecar's syntax.
 */
export function onBehalfPrincipal(
  key: ApiKeyEntry,
  headers: Record<string, string | string[] | undefined>,
): Principal | undefined {
  const user = headers[ON_BEHALF_USER];
  const groups = headers[ON_BEHALF_GROUPS];
  if (user === undefined && groups === undefined) return undefined;
  if (!key.onBehalfOf) {
    throw unauthorized(
      `header.${user === undefined ? ON_BEHALF_GROUPS : ON_BEHALF_USER}`,
      `API key ${key.id} may not act on behalf of a user (its entry lacks "onBehalfOf": true)`,
      403,
    );
  }
  if (typeof user !== "string" || !NAME_PATTERN.test(user)) {
    throw unauthorized(`header.${ON_BEHALF_USER}`, `given ${JSON.stringify(user)}; expected one user id`, 400);
  }
  if (groups !== undefined && typeof groups !== "string") {
    throw unauthorized(`header.${ON_BEHALF_GROUPS}`, "expected one comma-separated header", 400);
  }
  const list = (groups ?? "")
    .split(",")
    .map((g) => g.trim())
    .filter((g) => g !== "");
  const bad = list.find((g) => !NAME_PATTERN.test(g));
  if (bad !== undefined) {
    throw unauthorized(`header.${ON_BEHALF_GROUPS}`, `group ${JSON.stringify(bad)} is not a valid name`, 400);
  }
  return { id: user, groups: list };
}

/** JWT settings; all three of issuer, audience and JWKS URL, or none (JWTs are then not accepted). */
export interface JwtSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  readonly userClaim: string;
  readonly groupsClaim: string;
  /** Asymmetric algorithms only: an HMAC or `none` token is refused whatever its header says. */
  readonly algorithms?: readonly string[];
}

/** A compact JWS: three base64url parts. API keys never have dots, so the two cannot be confused. */
export const looksLikeJwt = (token: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);

export const DEFAULT_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

/**
 * Verifies bearer JWTs. The key set is fetched on demand and cached by jose (createRemoteJWKSet:
 * kept for `cacheMaxAge`, refetched at most every `cooldownDuration` when a new `kid` shows up), so a
 * JWKS endpoint that is down still leaves tokens signed with cached keys verifiable; a token that
 * needs a fetch while it is down fails closed with 503.
 */
export class JwtVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(
    private readonly settings: JwtSettings,
    options: { timeoutMs?: number; cacheMaxAgeMs?: number } = {},
  ) {
    this.jwks = createRemoteJWKSet(new URL(settings.jwksUrl), {
      timeoutDuration: options.timeoutMs ?? 2000,
      cacheMaxAge: options.cacheMaxAgeMs ?? 10 * 60_000,
    });
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: [...(this.settings.algorithms ?? DEFAULT_ALGORITHMS)],
      }));
    } catch (error) {
      throw jwtProblem(error);
    }
    return principalOfClaims(payload, this.settings);
  }
}

/** The principal a verified token names: user and groups from the configured claims. */
export function principalOfClaims(payload: JWTPayload, settings: Pick<JwtSettings, "userClaim" | "groupsClaim">) {
  const user = payload[settings.userClaim];
  if (typeof user !== "string" || !NAME_PATTERN.test(user)) {
    throw unauthorized(`token.${settings.userClaim}`, `given ${JSON.stringify(user)}; expected a user id`);
  }
  const groups = payload[settings.groupsClaim] ?? [];
  if (!Array.isArray(groups) || groups.some((g) => typeof g !== "string" || !NAME_PATTERN.test(g))) {
    throw unauthorized(
      `token.${settings.groupsClaim}`,
      `given ${JSON.stringify(groups).slice(0, 200)}; expected an array of group names`,
    );
  }
  return { id: user, groups: groups as string[] };
}

/** A jose failure as a problem naming the claim (or part) at fault; a JWKS that cannot be had is a 503. */
export function jwtProblem(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof errors.JWTExpired) return unauthorized("token.exp", "the token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) return unauthorized(`token.${error.claim}`, error.message);
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return unauthorized("token.signature", "the signature does not verify against the identity provider's keys");
  if (error instanceof errors.JWKSNoMatchingKey)
    return unauthorized("token.kid", "no key of the identity provider's JWKS matches the token");
  if (error instanceof errors.JOSEAlgNotAllowed)
    return unauthorized("token.alg", "unsigned or not an allowed asymmetric algorithm");
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || isFetchFailure(error)) {
    return new ProblemError({
      title: "Identity provider unavailable",
      status: 503,
      detail: "the identity provider's JWKS could not be fetched and no cached key matches; failing closed",
      errors: [{ field: "token.kid", message: "JWKS unavailable" }],
    });
  }
  if (error instanceof errors.JOSEError) return unauthorized("token", `${error.code}: ${error.message}`);
  return unauthorized("token", "not a valid JWT");
}

const isFetchFailure = (error: unknown) =>
  error instanceof TypeError || (error instanceof errors.JOSEError && error.code === "ERR_JOSE_GENERIC");
