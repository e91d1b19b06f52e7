"""The reranker: a cross-encoder (one logit) fine-tuned by CrossEncoderTrainer with binary
cross-entropy on (query, document, label), evaluated by CrossEncoderRerankingEvaluator.

The base is an encoder (for example the MiniLM bi-encoder) loaded as a cross-encoder: its
transformer weights with a fresh, seeded one-label classification head.

Evaluation ranks, for each held-out query, its judged documents plus documents of other held-out
queries as extra negatives, and reports MRR@10 and NDCG@10 beside the untrained base's.
"""

import random
import tempfile
import time
from pathlib import Path

from serving.model_settings import write_settings

from .base import resolve
from .progress import Progress
from .training import (
    check_hyperparameters,
    fmt,
    loss_summary,
    pick_device,
    progress_callback,
    read_split,
    run_trainer,
    trainer_arguments,
    write_json,
)

K = 10


def candidates(rows: list[dict], extra_negatives: int, seed: int) -> list[tuple[str, list[str], set[str]]]:
    """(query, candidate documents, relevant documents) per held-out query with a positive."""
    judged: dict[str, dict[str, int]] = {}
    for row in rows:
        labels = judged.setdefault(row["query"], {})
        labels[row["document"]] = max(int(row["label"]), labels.get(row["document"], 0))
    pool = sorted({row["document"] for row in rows})
    rng = random.Random(seed)
    out = []
    for query, labels in sorted(judged.items()):
        relevant = {d for d, y in labels.items() if y > 0}
        if not relevant:
            continue
        others = [d for d in pool if d not in labels]
        docs = sorted(labels) + rng.sample(others, min(extra_negatives, len(others)))
        out.append((query, docs, relevant))
    if not out:
        raise ValueError("the held-out reranker split has no query with a positive document")
    return out


def build(base: str, device: str, max_length: int, seed: int = 0):
    """`base` (a local folder or id) as a one-label cross-encoder; a bi-encoder folder is converted
    by the library: its transformer, and a new classification head drawn from `seed`."""
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(seed)
    return CrossEncoder(base, num_labels=1, device=device, max_length=max_length)


def probe_loss(model, rows: list[dict], pos_weight: float) -> float:
    """Weighted BCE over fixed training rows in eval mode: a steadier signal than per-batch loss."""
    import torch

    logits = model.predict([(r["query"], r["document"]) for r in rows], activation_fn=torch.nn.Identity(),
                           convert_to_tensor=True, show_progress_bar=False).float().cpu()
    labels = torch.tensor([float(int(r["label"]) > 0) for r in rows])
    return torch.nn.functional.binary_cross_entropy_with_logits(logits.view(-1), labels,
                                                                pos_weight=torch.tensor(pos_weight)).item()


def evaluate(model, rows: list[dict], extra_negatives: int = 20, seed: int = 0, k: int = K) -> dict:
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderRerankingEvaluator

    samples = [{"query": q, "positive": sorted(rel), "negative": [d for d in docs if d not in rel]}
               for q, docs, rel in candidates(rows, extra_negatives, seed)]
    got = CrossEncoderRerankingEvaluator(samples, at_k=k, batch_size=64, write_csv=False)(model)
    return {f"mrr@{k}": got[f"mrr@{k}"], f"ndcg@{k}": got[f"ndcg@{k}"], "queries": len(samples)}


def fit(model, rows: list[dict], epochs: int, batch_size: int, lr: float, max_steps: int | None, seed: int,
        device: str, say: Progress) -> list[float]:
    """CrossEncoderTrainer with BinaryCrossEntropyLoss over `rows`; positives weighted up to the
    negatives' count so the rarer label is not drowned out. The per-step losses."""
    import torch
    from datasets import Dataset
    from sentence_transformers import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    positives = sum(1 for r in rows if int(r["label"]) > 0)
    dataset = Dataset.from_dict({"query": [r["query"] for r in rows], "document": [r["document"] for r in rows],
                                 "label": [float(int(r["label"]) > 0) for r in rows]})
    loss = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor((len(rows) - positives) / positives))
    losses: list[float] = []
    with tempfile.TemporaryDirectory(prefix="backbone-reranker-") as tmp:
        args = trainer_arguments(CrossEncoderTrainingArguments, Path(tmp), epochs, batch_size, lr, max_steps, seed,
                                 device)
        trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset, loss=loss,
                                      callbacks=[progress_callback(say, losses)])
        run_trainer(trainer)
    model.eval()
    return losses


def check_labels(rows: list[dict]) -> int:
    positives = sum(1 for r in rows if int(r["label"]) > 0)
    if positives == 0 or positives == len(rows):
        raise ValueError(f"training rows need both labels; {positives} of {len(rows)} are positive")
    return positives


def train(data: Path, out: Path, base: str, epochs: int = 1, batch_size: int = 32, lr: float = 2e-5,
          max_steps: int | None = None, seed: int = 0, device: str = "auto", max_length: int = 512,
          extra_negatives: int = 20, base_sha256: str | None = None) -> dict:
    say = Progress("train-reranker")
    check_hyperparameters(epochs, batch_size, lr, max_steps)
    train_rows = read_split(data / "reranker", "train", ("query", "document", "label"))
    eval_rows = read_split(data / "reranker", "eval", ("query", "document", "label"))
    positives = check_labels(train_rows)
    resolved = resolve(base, base_sha256)
    device = pick_device(device)
    say(f"{len(train_rows)} training rows ({positives} positive), {len(eval_rows)} held-out rows; "
        f"base {base} ({resolved.source}); device {device}")
    model = build(resolved.location, device, max_length, seed)
    base_metrics = evaluate(model, eval_rows, extra_negatives, seed)
    say(f"base model: {fmt(base_metrics)}")

    pos_weight = (len(train_rows) - positives) / positives
    probe = train_rows[: min(len(train_rows), 256)]
    probe_before = probe_loss(model, probe, pos_weight)
    started = time.monotonic()
    losses = fit(model, train_rows, epochs, batch_size, lr, max_steps, seed, device, say)
    seconds = time.monotonic() - started
    probe_after = probe_loss(model, probe, pos_weight)
    say(f"loss on {len(probe)} training rows: {probe_before:.4f} before, {probe_after:.4f} after")
    trained_metrics = evaluate(model, eval_rows, extra_negatives, seed)
    say(f"trained model: {fmt(trained_metrics)}")

    model_dir = save(model, out / "model", base, resolved.sha256)
    metrics = {"base": base_metrics, "trained": trained_metrics,
               "train": {**loss_summary(losses), "probe_loss_before": probe_before, "probe_loss_after": probe_after,
                         "rows": len(train_rows), "seconds": round(seconds, 2), "batch_size": batch_size, "lr": lr,
                         "epochs": epochs}}
    write_json(out / "metrics.json", metrics)
    say(f"wrote {model_dir} and {out / 'metrics.json'}")
    return metrics


def save(model, model_dir: Path, base: str, base_sha256: str | None = None) -> Path:
    model.save(str(model_dir))
    write_settings(model_dir, {"kind": "rerank", "base": base, "base_sha256": base_sha256})
    return model_dir


def load(model_dir: Path, device: str = "cpu"):
    from sentence_transformers import CrossEncoder

    return CrossEncoder(str(model_dir), device=device, local_files_only=True)
