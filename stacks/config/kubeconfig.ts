import { parse } from "yaml";

/**
 * What is wrong with a kubeconfig for a stack to deploy through it, or undefined when nothing is. The
 * provider deploys through the current context, so a kubeconfig without one (a merged file, a context
 * picked per shell with --context) would reach whichever cluster a default picks, or none: it is refused.
 * The text is a secret, so the problems name only its structure (context names), never its values.
 * Pure: tested directly.
 */
export function kubeconfigProblem(text: string): string | undefined {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    const line = (error as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    return `not YAML or JSON${line === undefined ? "" : ` (line ${line})`}; expected a kubeconfig file's text`;
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc) || (doc as Record<string, unknown>).kind !== "Config") {
    return "expected a kubeconfig (a YAML mapping with kind: Config), as `kubectl config view --minify --raw` prints it";
  }
  const config = doc as Record<string, unknown>;
  const named = (key: string) =>
    (Array.isArray(config[key]) ? (config[key] as unknown[]) : []).flatMap((entry) =>
      entry && typeof entry === "object" && typeof (entry as { name?: unknown }).name === "string"
        ? [entry as { name: string; [field: string]: unknown }]
        : [],
    );
  const contexts = named("contexts");
  const list = (names: string[]) => (names.length ? names.map((n) => JSON.stringify(n)).join(", ") : "none");
  const current = config["current-context"];
  if (typeof current !== "string" || current === "") {
    return `has no current-context (given ${JSON.stringify(current ?? null)}; its contexts: ${list(contexts.map((c) => c.name))}); expected current-context naming the context to deploy through ('kubectl config use-context <name>', then export it)`;
  }
  const context = contexts.find((c) => c.name === current);
  if (!context) {
    return `current-context ${JSON.stringify(current)} names no context in it (its contexts: ${list(contexts.map((c) => c.name))}); expected one of them`;
  }
  const inner = (context.context ?? {}) as Record<string, unknown>;
  for (const [field, key] of [
    ["cluster", "clusters"],
    ["user", "users"],
  ] as const) {
    const name = inner[field];
    const known = named(key).map((entry) => entry.name);
    if (typeof name !== "string" || !known.includes(name)) {
      return `context ${JSON.stringify(current)} names ${field} ${JSON.stringify(name ?? null)}, which is not in its ${key} (${list(known)}); expected one of them`;
    }
  }
  return undefined;
}
