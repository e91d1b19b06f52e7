import type { Clock, Progress } from "./context";

/** How long to follow a long-running operation, and how often to ask. */
export interface PollSettings {
  readonly timeoutMinutes: number;
  readonly pollSeconds: number;
}

export interface StatusPoll<T> {
  /** One read of the operation (GetJob, GetDeployment, …). */
  readonly read: () => Promise<T>;
  readonly statusOf: (answer: T) => string;
  /** The progress line for a status seen for the first time in a row. */
  readonly describe: (status: string, answer: T) => string;
  /** Statuses that end the wait successfully. */
  readonly succeeded: readonly string[];
  /** The error for a status that ends the wait unsuccessfully; undefined for any other status. */
  readonly failure: (status: string, answer: T) => Error | undefined;
  /** The error once the timeout has passed with the operation still in `status`. */
  readonly timedOut: (status: string) => Error;
  readonly settings: PollSettings;
  readonly clock: Clock;
  readonly progress: Progress;
}

/**
 * Reads the operation until it reaches a final status or the timeout passes: one progress line per
 * change of status, a read right away and then one every `pollSeconds`. The deadline starts when
 * polling starts; a read that sees the final status at the deadline still counts.
 */
export async function pollStatus<T>(poll: StatusPoll<T>): Promise<{ status: string; answer: T }> {
  const deadline = poll.clock.now() + poll.settings.timeoutMinutes * 60_000;
  let last = "";
  for (;;) {
    const answer = await poll.read();
    const status = poll.statusOf(answer);
    if (status !== last) {
      poll.progress(poll.describe(status, answer));
      last = status;
    }
    if (poll.succeeded.includes(status)) return { status, answer };
    const failure = poll.failure(status, answer);
    if (failure) throw failure;
    if (poll.clock.now() >= deadline) throw poll.timedOut(status);
    await poll.clock.sleep(poll.settings.pollSeconds * 1000);
  }
}
