"""The domain embedder: a sentence-transformers bi-encoder fine-tuned with
MultipleNegativesRankingLoss on (query, positive[, negative]) rows.

The output dimension is part of the contract (the engines' vector fields are sized from it), so it
is enforced here, by one of two documented methods:
- projection: a Dense layer maps the base model's width to `dims` (trained with the rest); any
  base width works;
- truncate: Matryoshka training (MatryoshkaLoss over the full width and `dims`) and truncation of
  the output to the first `dims` values; only for bases at least `dims` wide.
"""

import json
import time
from pathlib import Path

from .metrics import mean_metrics
from .progress import Progress
from .training import batches, loss_summary, pick_device, planned_steps, read_split, warmup_linear, write_json

SETTINGS_FILE = "backbone-serving.json"
DIM_METHODS = ("projection", "truncate")
K = 10


def build(base: str, dims: int, dim_method: str, device: str, max_seq_length: int):
    """The untrained bi-encoder that outputs exactly `dims` values."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Dense

    if dim_method not in DIM_METHODS:
        raise ValueError(f"--dim-method is {dim_method!r}; expected one of {list(DIM_METHODS)}")
    if dims < 1:
        raise ValueError(f"--dims is {dims}; expected a positive integer")
    model = SentenceTransformer(base, device=device)
    model.max_seq_length = max_seq_length
    native = model.get_embedding_dimension()
    if dim_method == "projection" and native != dims:
        dense = Dense(in_features=native, out_features=dims, activation_function=torch.nn.Identity())
        model = SentenceTransformer(modules=[*model, dense], device=device)
    elif dim_method == "truncate":
        if native < dims:
            raise ValueError(
                f"base model {base} produces {native} dimensions; Matryoshka truncation can only shorten "
                f"vectors, so it cannot give {dims}. Use --dim-method projection or a wider base."
            )
        model.truncate_dim = dims
    check_dims(model, dims, base)
    return model


def check_dims(model, dims: int, where: str) -> None:
    produced = model.encode(["dimension probe"], convert_to_numpy=True, show_progress_bar=False).shape[1]
    if produced != dims:
        raise ValueError(f"model {where} produces {produced} dimensions; the configured dimension is {dims}")


def make_loss(model, dims: int, dim_method: str):
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss

    loss = MultipleNegativesRankingLoss(model)
    if dim_method == "truncate":
        model.truncate_dim, truncate = None, model.truncate_dim
        full = model.get_embedding_dimension()
        model.truncate_dim = truncate
        return MatryoshkaLoss(model, loss, matryoshka_dims=sorted({full, dims}, reverse=True))
    return loss


def evaluate(model, rows: list[dict], k: int = K) -> dict:
    """Retrieval over the eval split's own documents: each query against every positive and
    negative text of the split, its positives relevant. recall@k, MRR@k and NDCG@k."""
    import numpy as np

    relevant: dict[str, set[str]] = {}
    corpus: list[str] = []
    seen = set()
    for row in rows:
        relevant.setdefault(row["query"], set()).add(row["positive"])
        for text in (row["positive"], row.get("negative")):
            if text is not None and text not in seen:
                seen.add(text)
                corpus.append(text)
    queries = list(relevant)
    enc = dict(convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False, batch_size=64)
    q = model.encode(queries, **enc)
    d = model.encode(corpus, **enc)
    top = np.argsort(-(q @ d.T), axis=1)[:, :k]
    runs = [([corpus[j] for j in top[i]], relevant[query]) for i, query in enumerate(queries)]
    return mean_metrics(runs, ["recall", "mrr", "ndcg"], k)


def train(data: Path, out: Path, base: str, dims: int = 768, dim_method: str = "projection", epochs: int = 1,
          batch_size: int = 32, lr: float = 2e-5, max_steps: int | None = None, seed: int = 0,
          device: str = "auto", max_seq_length: int = 256) -> dict:
    import torch
    from sentence_transformers.util import batch_to_device

    say = Progress("train-embedder")
    torch.manual_seed(seed)
    device = pick_device(device)
    train_rows = read_split(data / "embedder", "train", ("query", "positive"))
    eval_rows = read_split(data / "embedder", "eval", ("query", "positive"))
    say(f"{len(train_rows)} training rows, {len(eval_rows)} held-out rows; base {base}; device {device}")
    model = build(base, dims, dim_method, device, max_seq_length)
    say(f"model outputs {dims} dimensions by {dim_method}")
    base_metrics = evaluate(model, eval_rows)
    say(f"base model: {fmt(base_metrics)}")

    loss_fn = make_loss(model, dims, dim_method)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    total = planned_steps(len(train_rows), batch_size, epochs, max_steps)
    scheduler = warmup_linear(optimizer, total)
    losses: list[float] = []
    started = time.monotonic()
    model.train()
    for step, batch in enumerate(batches(train_rows, batch_size, epochs, seed, max_steps), start=1):
        columns = [[r["query"] for r in batch], [r["positive"] for r in batch]]
        if all("negative" in r for r in batch):  # a column must be full, so mixed batches use pairs
            columns.append([r["negative"] for r in batch])
        features = [batch_to_device(model.preprocess(col), device) for col in columns]
        loss = loss_fn(features, None)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        say.every(step, total, f"steps, loss {losses[-1]:.4f}")
    model.eval()
    seconds = time.monotonic() - started
    trained_metrics = evaluate(model, eval_rows)
    say(f"trained model: {fmt(trained_metrics)}")

    model_dir = save(model, out / "model", dims, dim_method, base)
    metrics = {"base": base_metrics, "trained": trained_metrics, "dimensions": dims, "dim_method": dim_method,
               "train": {**loss_summary(losses), "rows": len(train_rows), "seconds": round(seconds, 2),
                         "batch_size": batch_size, "lr": lr, "epochs": epochs}}
    write_json(out / "metrics.json", metrics)
    say(f"wrote {model_dir} and {out / 'metrics.json'}")
    return metrics


def save(model, model_dir: Path, dims: int, dim_method: str, base: str) -> Path:
    """The model plus the settings the handler and `package` read (backbone-serving.json)."""
    model.save(str(model_dir))
    settings = {"kind": "embed", "dimensions": dims, "dim_method": dim_method,
                "truncate_dim": dims if dim_method == "truncate" else None, "base": base}
    (model_dir / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return model_dir


def load(model_dir: Path):
    from sentence_transformers import SentenceTransformer

    settings = json.loads((model_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    model = SentenceTransformer(str(model_dir), device="cpu", truncate_dim=settings.get("truncate_dim"))
    check_dims(model, settings["dimensions"], str(model_dir))
    return model


def fmt(metrics: dict) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if k != "queries") + f" over {metrics['queries']} queries"
