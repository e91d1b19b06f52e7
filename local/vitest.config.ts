import { defineConfig } from "vitest/config";

export default defineConfig({
  // The workspace packages' TypeScript sources (their exports' "source" condition), not their builds.
  ssr: { resolve: { conditions: ["source"] } },
  test: { include: ["test/**/*.test.ts"], exclude: ["test/e2e*", "node_modules/**"], testTimeout: 20_000 },
});
