"""What both trainers share: reading split files, batching, a linear warm-up schedule, devices."""

import json
import random
from pathlib import Path

from .jsonl import read_jsonl


def read_split(folder: Path, split: str, required: tuple[str, ...]) -> list[dict]:
    path = folder / f"{split}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; run `prepare` first or point --data at its output")
    rows = list(read_jsonl(path))
    for i, row in enumerate(rows, start=1):
        for key in required:
            if key not in row:
                raise ValueError(f"{path}:{i}: field '{key}' is missing; rows need {list(required)}")
    if not rows:
        raise ValueError(f"{path} has no rows")
    return rows


def batches(rows: list, batch_size: int, epochs: int, seed: int, max_steps: int | None):
    """Shuffled batches over `epochs`, stopping early at `max_steps`."""
    rng = random.Random(seed)
    step = 0
    for _ in range(epochs):
        order = rows[:]
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            if max_steps is not None and step >= max_steps:
                return
            step += 1
            yield order[start : start + batch_size]


def planned_steps(n_rows: int, batch_size: int, epochs: int, max_steps: int | None) -> int:
    per_epoch = -(-n_rows // batch_size)
    total = per_epoch * epochs
    return min(total, max_steps) if max_steps is not None else total


def warmup_linear(optimizer, total_steps: int, warmup_ratio: float = 0.1):
    import torch

    warmup = max(1, int(total_steps * warmup_ratio))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def pick_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"--device {requested} was asked for but no CUDA device is visible")
    return requested


def loss_summary(losses: list[float]) -> dict:
    """Mean loss over the first and the last tenth of the steps (at least one step each)."""
    n = max(1, len(losses) // 10)
    return {"steps": len(losses), "loss_first": sum(losses[:n]) / n, "loss_last": sum(losses[-n:]) / n}


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
