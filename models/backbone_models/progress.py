"""Progress lines on stderr, flushed at once so PAI DLC's log view and CI show them live."""

import sys
import time


class Progress:
    def __init__(self, step: str):
        self.step = step
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{self.step} {elapsed:7.1f}s] {message}", file=sys.stderr, flush=True)

    def every(self, i: int, total: int, message: str, times: int = 10) -> None:
        """Report about `times` times over a loop of `total` iterations, and always at the end."""
        stride = max(1, total // times)
        if i % stride == 0 or i == total:
            elapsed = time.monotonic() - self.started
            eta = elapsed / max(i, 1) * (total - i)
            self(f"{i}/{total} {message} (eta {eta:.0f}s)")


class Stages:
    """Times named steps of a run, reports each as it ends, and keeps the seconds for the run's summary."""

    def __init__(self, say: Progress):
        self.say = say
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str, fn):
        started = time.monotonic()
        value = fn()
        self.seconds[name] = time.monotonic() - started
        self.say(f"{name}: {self.seconds[name]:.0f} s")
        return value
