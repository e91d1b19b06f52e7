import { defineConfig } from "vitest/config";

export default defineConfig({
  // The workspace packages' TypeScript sources (their exports' "source" condition), not their builds.
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    root: import.meta.dirname,
    include: ["**/*.engine.test.ts"],
    pool: "forks",
    // Engine runs spawn the CLI, the language host and provider processes.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
