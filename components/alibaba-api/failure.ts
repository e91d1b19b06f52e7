/**
 * The error for a create that made something in the cloud and then failed (a job that ended Failed,
 * a deployment still pending at the timeout, a bought instance whose scenes could not be set up).
 * Thrown from a dynamic provider's create, an error carrying `id`, `properties` and `reasons` makes
 * the engine record the resource (ResourceInitError in @pulumi/pulumi's dynamic provider server)
 * yet report the create as failed: the next update checks it again and destroy deletes it, so
 * nothing made is ever lost from the state.
 */
export interface PartialCreateError extends Error {
  readonly id: string;
  readonly properties: Record<string, unknown>;
  readonly reasons: string[];
}

export function partialCreateFailure(
  message: string,
  id: string,
  properties: Record<string, unknown>,
): PartialCreateError {
  return Object.assign(new Error(message), { id, properties, reasons: [message] });
}

/** A 404 from the API: what delete and read treat as "already gone". */
export function isNotFound(err: unknown, ...codes: string[]): boolean {
  const { statusCode, code } = (err ?? {}) as { statusCode?: number; code?: string };
  return statusCode === 404 || (code !== undefined && codes.includes(code));
}
