"""The reranker: a cross-encoder fine-tuned with binary cross-entropy on (query, document, label).

Evaluation ranks, for each held-out query, its judged documents plus documents of other held-out
queries as extra negatives, and reports MRR@10 and NDCG@10 beside the untrained base's.
"""

import json
import random
import time
from pathlib import Path

from .metrics import mean_metrics
from .progress import Progress
from .training import batches, loss_summary, pick_device, planned_steps, read_split, warmup_linear, write_json

SETTINGS_FILE = "backbone-serving.json"
K = 10


def candidates(rows: list[dict], extra_negatives: int, seed: int) -> list[tuple[str, list[str], set[str]]]:
    """(query, candidate documents, relevant documents) per held-out query with a positive."""
    judged: dict[str, dict[str, int]] = {}
    for row in rows:
        judged.setdefault(row["query"], {})[row["document"]] = max(int(row["label"]), judged.get(row["query"], {}).get(row["document"], 0))
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


def probe_loss(loss_fn, rows: list[dict], device: str) -> float:
    """Loss over fixed training rows in eval mode: a steadier signal than the noisy per-batch loss."""
    import torch

    was_training = loss_fn.model.training
    loss_fn.model.eval()
    with torch.no_grad():
        labels = torch.tensor([float(r["label"] > 0) for r in rows], device=device)
        value = loss_fn([[r["query"] for r in rows], [r["document"] for r in rows]], labels).item()
    loss_fn.model.train(was_training)
    return value


def evaluate(model, rows: list[dict], extra_negatives: int = 20, seed: int = 0, k: int = K) -> dict:
    runs = []
    for query, docs, relevant in candidates(rows, extra_negatives, seed):
        scores = model.predict([(query, d) for d in docs], convert_to_numpy=True, show_progress_bar=False)
        ranked = [docs[i] for i in sorted(range(len(docs)), key=lambda i: -float(scores[i]))]
        runs.append((ranked, relevant))
    return mean_metrics(runs, ["mrr", "ndcg"], k)


def train(data: Path, out: Path, base: str, epochs: int = 1, batch_size: int = 32, lr: float = 2e-5,
          max_steps: int | None = None, seed: int = 0, device: str = "auto", max_length: int = 512,
          extra_negatives: int = 20) -> dict:
    import torch
    from sentence_transformers import CrossEncoder
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    say = Progress("train-reranker")
    torch.manual_seed(seed)
    device = pick_device(device)
    train_rows = read_split(data / "reranker", "train", ("query", "document", "label"))
    eval_rows = read_split(data / "reranker", "eval", ("query", "document", "label"))
    positives = sum(1 for r in train_rows if int(r["label"]) > 0)
    if positives == 0 or positives == len(train_rows):
        raise ValueError(f"training rows need both labels; {positives} of {len(train_rows)} are positive")
    say(f"{len(train_rows)} training rows ({positives} positive), {len(eval_rows)} held-out rows; base {base}; device {device}")
    model = CrossEncoder(base, num_labels=1, device=device, max_length=max_length)
    base_metrics = evaluate(model, eval_rows, extra_negatives, seed)
    say(f"base model: {fmt(base_metrics)}")

    # weigh positives up to the negatives' count so the rarer label is not drowned out
    pos_weight = torch.tensor((len(train_rows) - positives) / positives, device=device)
    loss_fn = BinaryCrossEntropyLoss(model, pos_weight=pos_weight)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    total = planned_steps(len(train_rows), batch_size, epochs, max_steps)
    scheduler = warmup_linear(optimizer, total)
    probe = train_rows[: min(len(train_rows), 256)]
    probe_before = probe_loss(loss_fn, probe, device)
    losses: list[float] = []
    started = time.monotonic()
    model.train()
    for step, batch in enumerate(batches(train_rows, batch_size, epochs, seed, max_steps), start=1):
        labels = torch.tensor([float(r["label"] > 0) for r in batch], device=device)
        loss = loss_fn([[r["query"] for r in batch], [r["document"] for r in batch]], labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        say.every(step, total, f"steps, loss {losses[-1]:.4f}")
    model.eval()
    seconds = time.monotonic() - started
    probe_after = probe_loss(loss_fn, probe, device)
    say(f"loss on {len(probe)} training rows: {probe_before:.4f} before, {probe_after:.4f} after")
    trained_metrics = evaluate(model, eval_rows, extra_negatives, seed)
    say(f"trained model: {fmt(trained_metrics)}")

    model_dir = save(model, out / "model", base)
    metrics = {"base": base_metrics, "trained": trained_metrics,
               "train": {**loss_summary(losses), "probe_loss_before": probe_before, "probe_loss_after": probe_after, "rows": len(train_rows), "seconds": round(seconds, 2),
                         "batch_size": batch_size, "lr": lr, "epochs": epochs}}
    write_json(out / "metrics.json", metrics)
    say(f"wrote {model_dir} and {out / 'metrics.json'}")
    return metrics


def save(model, model_dir: Path, base: str) -> Path:
    model.save(str(model_dir))
    (model_dir / SETTINGS_FILE).write_text(json.dumps({"kind": "rerank", "base": base}, indent=2) + "\n", encoding="utf-8")
    return model_dir


def load(model_dir: Path):
    from sentence_transformers import CrossEncoder

    return CrossEncoder(str(model_dir), device="cpu")


def fmt(metrics: dict) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if k != "queries") + f" over {metrics['queries']} queries"
