// `npm start`: the whole search backbone on this machine (see local/README.md). Prints progress lines,
// then one line `ready <url>`; Ctrl-C (SIGINT) or SIGTERM stops everything it started.
import * as path from "node:path";
import { ArgsError, parseArgs, USAGE } from "./args.ts";
import { DEFAULT_PORTS } from "./layout.ts";
import { progress } from "./progress.ts";
import { type RunningStack, startStack } from "./stack.ts";

const root = path.resolve(import.meta.dirname, "..", "..");
const log = progress();

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof ArgsError) {
      console.error(`npm start: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }

  let stack: RunningStack | undefined;
  let interrupted = false;
  let stopped: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log("stop", `${signal}: stopping`);
    // While starting, startStack's own failure path stops what it started once its current step is cut short.
    stopped = stack ? stack.stop() : import("./processes.ts").then((p) => p.stopAllGroups());
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // A parent that went away without passing its signal on (a killed npm) leaves us with init as parent.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && onSignal("SIGHUP"), 1000).unref();

  try {
    stack = await startStack({
      root,
      work: path.join(root, ".local"),
      docs: args.docs,
      ports: { ...DEFAULT_PORTS, orchestrator: args.port },
      alias: "local-docs",
      log,
      userEnv: process.env,
      setup: true,
      rerank: args.rerank,
    });
  } catch (error) {
    if (interrupted) {
      await stopped;
      return 130;
    }
    console.error(`npm start: ${(error as Error).message}`);
    return 1;
  }
  if (interrupted) {
    await stack.stop();
    return 130;
  }
  const t = stack.timings;
  const total = Object.values(t).reduce((a, b) => a + b, 0);
  log(
    "start",
    `answers ${process.env.DASHSCOPE_API_KEY ? "from DashScope" : "extractive (no DASHSCOPE_API_KEY)"}; API key in ${stack.description.orchestrator.apiKeyFile}; ${total.toFixed(1)} s of steps`,
  );
  // The page reads a key from the URL fragment, which browsers never send to the server, and drops it from
  // the address bar (Jupyter's token URL, for the same reason): one click signs the page in.
  log("start", `signed-in page: ${stack.pageUrl}#key=${stack.apiKey}`);
  // How it ranks, on the line just before `ready <url>` (which stays exactly that: the contract scripts wait for).
  log("start", `reranking ${stack.rerank.reason}`);
  console.log(`ready ${stack.pageUrl}`);
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (stopped) {
        clearInterval(check);
        resolve();
      }
    }, 200);
  });
  await stopped;
  return 0;
}

process.exitCode = await main();
