import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: __dirname,
    include: ["**/*.engines.test.ts"],
    pool: "forks",
    fileParallelism: false,
    // Starting the nodes (first run: fetching them from Maven Central) happens in beforeAll.
    hookTimeout: 900_000,
    testTimeout: 300_000,
  },
});
