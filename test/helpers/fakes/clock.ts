import type { Clock } from "../../../components/alibaba-api/context";

/**
 * The clock the providers' polling runs on in tests: sleeping advances time at once, so a
 * 15-minute timeout takes no real time, and every sleep is recorded for assertions.
 */
export class FakeClock implements Clock {
  private time = 0;
  readonly sleeps: number[] = [];

  readonly now = (): number => this.time;

  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.time += ms;
  };
}
