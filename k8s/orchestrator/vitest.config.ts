import { defineConfig } from "vitest/config";

export default defineConfig({
  // The workspace packages' TypeScript sources (their exports' "source" condition), not their builds.
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    root: __dirname,
    include: ["test/**/*.test.ts"],
    pool: "forks",
    fileParallelism: false,
    // Starting the engines (first run: fetching them from Maven Central) happens in beforeAll.
    hookTimeout: 900_000,
    testTimeout: 60_000,
  },
});
