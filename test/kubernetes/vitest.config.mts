import { defineConfig } from "vitest/config";

export default defineConfig({
  // The workspace packages' TypeScript sources (their exports' "source" condition), not their builds.
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    root: __dirname,
    include: ["**/*.kubernetes.test.ts"],
    // Pulumi's runtime keeps global state per process; one API server serves the whole file.
    pool: "forks",
    fileParallelism: false,
    // scripts/test-kubernetes.sh builds the binaries first; starting the server takes seconds.
    hookTimeout: 120_000,
    testTimeout: 120_000,
  },
});
