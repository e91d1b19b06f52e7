/** Progress lines: every step of the start says what it does and how long the start has taken so far. */

export type Log = (step: string, message: string) => void;

export function progressLine(step: string, message: string, elapsedMs: number): string {
  return `[${(elapsedMs / 1000).toFixed(1).padStart(6)} s] ${step}: ${message}`;
}

export function progress(write: (line: string) => void = (l) => console.log(l), started = performance.now()): Log {
  return (step, message) => write(progressLine(step, message, performance.now() - started));
}
