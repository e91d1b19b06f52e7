import { afterEach, beforeEach } from "vitest";
import type { ProviderContext } from "../../../components/alibaba-api/context";
import { FakeClock } from "./clock";
import type { HttpFake } from "./http-fake";

/** A local stand-in for an Alibaba Cloud API, and the environment that points a provider at it. */
export interface ApiFake {
  readonly http: HttpFake;
  start(): Promise<string>;
  stop(): Promise<void>;
}

/** What one test sees: a fresh fake, its URL, the environment, the progress lines and the clock. */
export interface FakeRun<F extends ApiFake> {
  fake: F;
  url: string;
  /** Reassign to test other credentials; ctx() reads it at each call. */
  env: Record<string, string | undefined>;
  lines: string[];
  clock: FakeClock;
  /** The provider context for this test: its environment, its line collector, its clock. */
  ctx(): ProviderContext;
}

/**
 * One fake set-up for every provider test file: before each test a new fake is started, the
 * environment pointed at it, the progress lines emptied and the clock reset to 0; after each test
 * the fake stops. The returned object is refilled before each test, so read it inside tests.
 */
export function useApiFake<F extends ApiFake>(
  make: () => F,
  envFor: (url: string) => Record<string, string | undefined>,
): FakeRun<F> {
  const run = {
    lines: [] as string[],
    clock: new FakeClock(),
    ctx(): ProviderContext {
      return {
        env: run.env,
        progress: (line) => run.lines.push(line),
        sleep: run.clock.sleep,
        now: run.clock.now,
      };
    },
  } as FakeRun<F>;
  beforeEach(async () => {
    run.fake = make();
    run.url = await run.fake.start();
    run.env = envFor(run.url);
    run.lines = [];
    run.clock = new FakeClock();
  });
  afterEach(() => run.fake.stop());
  return run;
}

/** Starts fakes for a test file under the real engine; returns their URLs in order. */
export async function startFakes<T extends ApiFake[]>(...fakes: T): Promise<{ [K in keyof T]: string }> {
  return (await Promise.all(fakes.map((fake) => fake.start()))) as { [K in keyof T]: string };
}

export async function stopFakes(...fakes: ApiFake[]): Promise<void> {
  await Promise.all(fakes.map((fake) => fake.stop()));
}
