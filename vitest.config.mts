import { defineConfig } from "vitest/config";

export default defineConfig({
  // The workspace packages' TypeScript sources (their exports' "source" condition), not their builds.
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: [
      "test/**/*.test.ts",
      "stacks/**/*.test.ts",
      "components/**/*.test.ts",
      "policy/**/*.test.ts",
      "local/test/**/*.test.ts",
    ],
    exclude: ["test/engine/**", "test/search-engines/**", "test/kubernetes/**", "local/test/e2e*", "node_modules/**"],
    // Pulumi's runtime keeps global state per process; separate forks keep test files apart.
    pool: "forks",
    testTimeout: 20_000,
  },
});
