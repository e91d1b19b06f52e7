import { createApp } from "./app";
import { ConfigError, loadConfig } from "./config";

/** Entry point: validated configuration, then the server; SIGTERM drains requests and telemetry. */
async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const { server, shutdown } = await createApp(config);
  await server.listen({ port: config.PORT, host: config.HOST });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, "shutting down");
    shutdown().then(
      () => process.exit(0),
      (error) => {
        server.log.error({ err: { message: (error as Error).message } }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error) => {
  console.error(`orchestrator failed to start: ${(error as Error).message}`);
  process.exit(1);
});
