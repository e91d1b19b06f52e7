import type { FastifyReply } from "fastify";
import type { z } from "zod";

/** RFC 9457 problem details; `errors` names each field at fault. */
export interface Problem {
  readonly type?: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly errors?: readonly { readonly field: string; readonly message: string }[];
  readonly [extra: string]: unknown;
}

export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.status)
    .type("application/problem+json")
    .send({ type: "about:blank", ...problem });
}

/** Parses with zod; failure is a 400 naming every field (`body.messages.0.content`) and what was expected. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, where: "body" | "query"): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((issue) => ({
    field: [where, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  throw new ProblemError({
    title: "Invalid request",
    status: 400,
    detail: errors.map((e) => `${e.field}: ${e.message}`).join("; "),
    errors,
  });
}
