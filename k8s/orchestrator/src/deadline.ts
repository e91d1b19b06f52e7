/** A request's time budget: each dependency gets its own timeout, cut to what the budget has left. */
export class Deadline {
  private readonly end: number;

  constructor(
    budgetMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.end = now() + budgetMs;
  }

  remaining(): number {
    return Math.max(0, this.end - this.now());
  }

  /** The timeout for one call: its own limit or the budget's rest, whichever is shorter (at least 1 ms). */
  timeout(ownMs: number): number {
    return Math.max(1, Math.floor(Math.min(ownMs, this.remaining())));
  }
}
