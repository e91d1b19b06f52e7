// Preloaded into the service by the benchmark's memory measurement only (node --expose-gc -r):
// SIGUSR2 runs a full garbage collection, so the heap figures count what open streams hold, not garbage.
process.on("SIGUSR2", () => globalThis.gc?.());
