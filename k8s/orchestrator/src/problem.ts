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

/** A 400 naming every field at fault (`body.messages.0.content`, `query.count`) and what was expected. */
export function validationProblem(issues: readonly z.core.$ZodIssue[], where: string): Problem {
  const errors = issues.map((issue) => ({
    field: [where, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  return {
    title: "Invalid request",
    status: 400,
    detail: errors.map((e) => `${e.field}: ${e.message}`).join("; "),
    errors,
  };
}
