import { describe, expect, it } from "vitest";
import { decide } from "../../scripts/stacks/lifecycle-tags.ts";

const NOW = new Date("2026-11-22T12:00:00Z");
const expired = { ephemeral: "true", environment: "ephemeral", "expires-at": "2026-11-22T11:59:59Z" };

describe("which stacks the teardown destroys", () => {
  it("destroys an expired stack with the marker", () => {
    expect(decide({ name: "pr-1", tags: expired }, NOW)).toEqual({
      action: "destroy",
      reason: "expired at 2026-11-22T11:59:59Z",
      expiresAt: "2026-11-22T11:59:59Z",
    });
    const offset = { ...expired, "expires-at": "2026-11-22T19:00:00+08:00" };
    expect(decide({ name: "pr-1", tags: offset }, NOW).action).toBe("destroy");
  });

  it.each([
    ["without the marker", { ...expired, ephemeral: "false" }, undefined, "no ephemeral=true marker"],
    ["tagged prod", { ...expired, environment: "prod" }, undefined, "environment is prod"],
    ["whose config says prod", expired, "prod", "environment is prod"],
    [
      "with another environment tag",
      { ...expired, environment: "dev" },
      undefined,
      'environment tag is "dev", not "ephemeral"',
    ],
    [
      "without an expiry",
      { ephemeral: "true", environment: "ephemeral" },
      undefined,
      "no valid expires-at tag (undefined)",
    ],
    [
      "with an unreadable expiry",
      { ...expired, "expires-at": "tomorrow" },
      undefined,
      'no valid expires-at tag ("tomorrow")',
    ],
    [
      "not yet expired",
      { ...expired, "expires-at": "2026-11-22T12:00:01Z" },
      undefined,
      "not expired (expires 2026-11-22T12:00:01Z)",
    ],
  ])("keeps a stack %s", (_, tags, configEnvironment, reason) => {
    const facts = { name: "pr-1", tags, ...(configEnvironment ? { configEnvironment } : {}) };
    expect(decide(facts, NOW)).toEqual({ action: "keep", reason });
  });
});
