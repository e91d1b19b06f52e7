"""What both trainers share: reading split files, the library trainers' arguments, a callback that
turns the trainer's logs into progress lines and a loss record, devices, and writing results."""

import json
from pathlib import Path

from .jsonl import read_jsonl
from .progress import Progress


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


def check_hyperparameters(epochs: int, batch_size: int, lr: float, max_steps: int | None) -> None:
    """Bad numbers stop the step before a model loads, naming the flag."""
    for flag, value in (("--epochs", epochs), ("--batch-size", batch_size)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{flag} is {value!r}; expected a positive integer")
    if not lr > 0:
        raise ValueError(f"--lr is {lr!r}; expected a positive number")
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"--max-steps is {max_steps!r}; expected a positive integer")


def trainer_arguments(cls, output_dir: Path, epochs: int, batch_size: int, lr: float, max_steps: int | None,
                      seed: int, device: str, **extra):
    """The library trainer's arguments: linear decay after a 10 % warm-up (AdamW, the trainer's
    default), a loss logged every step, nothing saved (the step saves the final model itself)."""
    return cls(
        output_dir=str(output_dir), num_train_epochs=epochs, per_device_train_batch_size=batch_size,
        learning_rate=lr, max_steps=max_steps if max_steps is not None else -1, seed=seed, data_seed=seed,
        warmup_steps=0.1, lr_scheduler_type="linear", logging_steps=1, save_strategy="no", eval_strategy="no",
        report_to="none", disable_tqdm=True, use_cpu=device == "cpu", dataloader_num_workers=0, **extra,
    )


def progress_callback(say: Progress, losses: list[float]):
    """A TrainerCallback: about ten progress lines per run, and every step's loss into `losses`."""
    from transformers import TrainerCallback

    class ProgressCallback(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                losses.append(float(logs["loss"]))
                say.every(state.global_step, state.max_steps, f"steps, loss {losses[-1]:.4f}")

    return ProgressCallback()


def run_trainer(trainer) -> None:
    """Train with our progress lines only: with tqdm off, transformers adds a PrinterCallback that
    prints every log dict to stdout, where the commands write their JSON result."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    trainer.train()


def pick_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"--device {requested} was asked for but no CUDA device is visible")
    return requested


def loss_summary(losses: list[float]) -> dict:
    """Mean loss over the first and the last tenth of the steps (at least one step each)."""
    if not losses:
        return {"steps": 0, "loss_first": None, "loss_last": None}
    n = max(1, len(losses) // 10)
    return {"steps": len(losses), "loss_first": sum(losses[:n]) / n, "loss_last": sum(losses[-n:]) / n}


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def fmt(metrics: dict) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if k != "queries") + f" over {metrics['queries']} queries"
