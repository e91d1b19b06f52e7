import { defineConfig } from "vitest/config";

/** The end-to-end test: the real local stack (engines, TorchServe, backbone jobs, orchestrator) on a small corpus. */
export default defineConfig({
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["test/e2e.test.ts"],
    // One stack for the whole file; its start (engines, archives, ingestion) takes minutes on 2 cores.
    hookTimeout: 900_000,
    testTimeout: 120_000,
    pool: "forks",
  },
});
