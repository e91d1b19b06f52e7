import type { FastifyError, FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import { type Problem, ProblemError, sendProblem, validationProblem } from "../problem";
import { message } from "../retrieval";
import { RequestValidationError } from "./schemas";

/**
 * Every error leaves as application/problem+json (RFC 9457): the service's own ProblemErrors as they
 * are, zod's validation issues as a 400 naming each field, Fastify's body errors (size, media type,
 * JSON) and the rate limiter's 429 with their status, anything else as a 500 that shows nothing of
 * the error (the log has its message). A ProblemError that carries `retryAfterSeconds` (a dependency
 * refusing work under load) also sets Retry-After.
 */
export interface ProblemsOptions {
  readonly bodyLimit: number;
}

/** Fastify's name for the request part a validator checked, as the errors' field prefix. */
const PART: Record<string, string> = { querystring: "query", body: "body", params: "params", headers: "header" };

export function problemOf(error: FastifyError, bodyLimit: number): Problem | undefined {
  if (error instanceof ProblemError) return error.problem;
  if (error instanceof RequestValidationError)
    return validationProblem(error.issues, PART[error.validationContext ?? "body"] ?? "body");
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE")
    return {
      title: "Payload too large",
      status: 413,
      detail: `the body exceeds ${bodyLimit} bytes`,
      errors: [{ field: "body", message: `at most ${bodyLimit} bytes` }],
    };
  if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE")
    return {
      title: "Unsupported media type",
      status: 415,
      detail: "send application/json",
      errors: [{ field: "header.content-type", message: "expected application/json" }],
    };
  if (error.statusCode === 429) return { title: "Too many requests", status: 429, detail: error.message };
  if (error.statusCode && error.statusCode < 500)
    return {
      title: "Invalid request",
      status: error.statusCode,
      detail: error.message,
      errors: [{ field: "body", message: error.message }],
    };
  return undefined;
}

/** Whole seconds, rounded up (RFC 9110 delay-seconds); undefined unless the error names a usable delay. */
export function retryAfterOf(error: unknown): string | undefined {
  const seconds = (error as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  if (!(error instanceof ProblemError) || typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0)
    return undefined;
  return String(Math.ceil(seconds));
}

const problems: FastifyPluginAsync<ProblemsOptions> = async (app, options) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = problemOf(error, options.bodyLimit);
    if (problem) {
      const retryAfter = retryAfterOf(error);
      if (retryAfter !== undefined) reply.header("retry-after", retryAfter);
      return sendProblem(reply, problem);
    }
    request.log.error({ err: { message: message(error), code: error.code } }, "unhandled error");
    return sendProblem(reply, {
      title: "Internal error",
      status: 500,
      detail: "the request failed; see the service log",
    });
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      title: "Not found",
      status: 404,
      detail: `no route ${request.method} ${request.url.split("?")[0]}`,
    }),
  );
};

export default fp(problems, { name: "problems", fastify: "5.x" });
