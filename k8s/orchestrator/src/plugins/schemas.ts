import fastJson from "fast-json-stringify";
import type {
  FastifyPluginAsync,
  FastifySchemaCompiler,
  FastifySerializerCompiler,
  FastifyTypeProvider,
} from "fastify";
import fp from "fastify-plugin";
import { type ZodType, z } from "zod";

/**
 * Route schemas are zod schemas. Requests are parsed by zod itself (the same strict schemas, messages
 * and defaults the handlers used to call), responses are serialised by fast-json-stringify from the
 * schema's JSON Schema (zod's `toJSONSchema`), so only declared fields leave the service and the hot
 * path pays no second validation. The type provider gives handlers the parsed request types and checks
 * what they return against the response schemas at compile time.
 *
 * Written here rather than taken from fastify-type-provider-zod (7.0.0 supports zod 4 and Fastify 5)
 * because that package requires @fastify/swagger and openapi-types as peers, which npm would install
 * into the image for a service that serves no OpenAPI document.
 */

export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this["schema"] extends ZodType ? z.output<this["schema"]> : unknown;
  serializer: this["schema"] extends ZodType ? z.input<this["schema"]> : unknown;
}

/** zod's issues for one part of a request; Fastify adds `validationContext` ("body", "querystring"). */
export class RequestValidationError extends Error {
  validationContext?: string;

  constructor(readonly issues: readonly z.core.$ZodIssue[]) {
    super(issues.map((i) => i.message).join("; "));
  }
}

/** Fastify hands a validator `null` for a request without a body; zod sees `undefined`, as the handlers did. */
const NO_BODY = Symbol("no body");

export const zodValidatorCompiler: FastifySchemaCompiler<ZodType> =
  ({ schema }) =>
  (data) => {
    const parsed = schema.safeParse(data === NO_BODY ? undefined : data);
    return parsed.success ? { value: parsed.data } : { error: new RequestValidationError(parsed.error.issues) };
  };

export const zodSerializerCompiler: FastifySerializerCompiler<ZodType> = ({ schema }) => {
  const { $schema: _draft, ...json } = z.toJSONSchema(schema, { target: "draft-7", io: "input" });
  return fastJson(json as Parameters<typeof fastJson>[0]);
};

const schemas: FastifyPluginAsync = async (app) => {
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(zodSerializerCompiler);
  app.addHook("preValidation", async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body) request.body = NO_BODY;
  });
};

export default fp(schemas, { name: "schemas", fastify: "5.x" });
