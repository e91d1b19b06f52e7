import { defineConfig } from "vitest/config";

export default defineConfig({
  // The workspace packages' TypeScript sources (their exports' "source" condition), not their builds.
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    root: __dirname,
    include: ["**/*.engines.test.ts"],
    globalSetup: ["./global-setup.ts"],
    pool: "forks",
    fileParallelism: false,
    // Starting the nodes (first run: fetching them from Maven Central) happens in the global setup.
    hookTimeout: 900_000,
    testTimeout: 300_000,
  },
});
