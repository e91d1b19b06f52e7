import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { configSchema } from "../../stacks/config";

/** Every settable key path: objects are walked; lists and maps are keys of their own. */
function keyPaths(schema: z.core.$ZodType, prefix = ""): string[] {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault) current = current.unwrap();
  if (!(current instanceof z.ZodObject)) return [prefix];
  return Object.entries(current.shape).flatMap(([key, child]) =>
    keyPaths(child as z.core.$ZodType, prefix ? `${prefix}.${key}` : key),
  );
}

const root = path.resolve(__dirname, "../..");

describe("documentation and declarations stay in step with the schema", () => {
  const keys = keyPaths(configSchema);

  it("README's config table has a row for every key", () => {
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    const missing = keys.filter((key) => !readme.includes(`| \`${key}\` |`));
    expect(missing).toEqual([]);
  });

  it("Pulumi.yaml declares every top-level key, and nothing else", () => {
    const project = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
    const declared = Object.keys(project.config).map((key) => key.replace(/^search-backbone:/, ""));
    expect(declared.sort()).toEqual(Object.keys(configSchema.shape).sort());
  });
});
