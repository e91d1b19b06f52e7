"""The domain embedder: a sentence-transformers bi-encoder fine-tuned by SentenceTransformerTrainer
with MultipleNegativesRankingLoss on (query, positive[, hard negative]) rows, evaluated by
InformationRetrievalEvaluator.

The output dimension is part of the contract (the engines' vector fields are sized from it), so it
is enforced here, by one of two documented methods:
- projection: a Dense layer maps the base model's width to `dims` (trained with the rest); any
  base width works, and a base as wide as `dims` gets no layer at all;
- truncate: Matryoshka training (MatryoshkaLoss over the full width and `dims`) and truncation of
  the output to the first `dims` values; only for bases at least `dims` wide.
"""

import tempfile
import time
from pathlib import Path

from serving.model_settings import read_settings, write_settings

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

DIM_METHODS = ("projection", "truncate")
K = 10


def build(base: str, dims: int, dim_method: str, device: str, max_seq_length: int):
    """The untrained bi-encoder that outputs exactly `dims` values; `base` is a local folder or id."""
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


def datasets_for(rows: list[dict]):
    """Rows with a hard negative train as triplets, the rest as pairs (a column must be full); the
    trainer draws each batch from one of them, in proportion to their sizes."""
    from datasets import Dataset

    triplets = [r for r in rows if r.get("negative")]
    pairs = [r for r in rows if not r.get("negative")]
    out = {}
    if pairs:
        out["pairs"] = Dataset.from_dict({"anchor": [r["query"] for r in pairs],
                                          "positive": [r["positive"] for r in pairs]})
    if triplets:
        out["triplets"] = Dataset.from_dict({"anchor": [r["query"] for r in triplets],
                                             "positive": [r["positive"] for r in triplets],
                                             "negative": [r["negative"] for r in triplets]})
    return out


def evaluator(rows: list[dict], k: int = K):
    """Retrieval over the split's own documents: each query against every positive and negative
    text of the split, its positives relevant."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    corpus: dict[str, str] = {}
    queries: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    for row in rows:
        qid = queries.setdefault(row["query"], f"q{len(queries)}")
        for text in (row["positive"], row.get("negative")):
            if text is not None and text not in corpus:
                corpus[text] = f"d{len(corpus)}"
        relevant.setdefault(qid, set()).add(corpus[row["positive"]])
    return InformationRetrievalEvaluator(
        queries={qid: q for q, qid in queries.items()}, corpus={cid: d for d, cid in corpus.items()},
        relevant_docs=relevant, mrr_at_k=[k], ndcg_at_k=[k], accuracy_at_k=[k], precision_recall_at_k=[k],
        map_at_k=[k], batch_size=64, write_csv=False, score_functions=None, main_score_function="cosine",
    ), len(queries)


def evaluate(model, rows: list[dict], k: int = K) -> dict:
    """recall@k, MRR@k and NDCG@k (cosine) of the library's InformationRetrievalEvaluator."""
    ev, n = evaluator(rows, k)
    got = ev(model)
    return {f"recall@{k}": got[f"cosine_recall@{k}"], f"mrr@{k}": got[f"cosine_mrr@{k}"],
            f"ndcg@{k}": got[f"cosine_ndcg@{k}"], "queries": n}


def fit(model, rows: list[dict], dims: int, dim_method: str, epochs: int, batch_size: int, lr: float,
        max_steps: int | None, seed: int, device: str, say: Progress) -> list[float]:
    """SentenceTransformerTrainer over `rows`; the per-step losses."""
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers

    losses: list[float] = []
    with tempfile.TemporaryDirectory(prefix="backbone-embedder-") as tmp:
        # in-batch negatives: a duplicate text in a batch would count as a negative of itself
        args = trainer_arguments(SentenceTransformerTrainingArguments, Path(tmp), epochs, batch_size, lr, max_steps,
                                 seed, device, batch_sampler=BatchSamplers.NO_DUPLICATES)
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=datasets_for(rows),
                                             loss=make_loss(model, dims, dim_method),
                                             callbacks=[progress_callback(say, losses)])
        run_trainer(trainer)
    model.eval()
    return losses


def train(data: Path, out: Path, base: str, dims: int = 768, dim_method: str = "projection", epochs: int = 1,
          batch_size: int = 32, lr: float = 2e-5, max_steps: int | None = None, seed: int = 0,
          device: str = "auto", max_seq_length: int = 256, base_sha256: str | None = None) -> dict:
    import torch

    say = Progress("train-embedder")
    check_hyperparameters(epochs, batch_size, lr, max_steps)
    train_rows = read_split(data / "embedder", "train", ("query", "positive"))
    eval_rows = read_split(data / "embedder", "eval", ("query", "positive"))
    resolved = resolve(base, base_sha256)
    torch.manual_seed(seed)
    device = pick_device(device)
    say(f"{len(train_rows)} training rows ({sum(1 for r in train_rows if r.get('negative'))} with a hard negative), "
        f"{len(eval_rows)} held-out rows; base {base} ({resolved.source}); device {device}")
    model = build(resolved.location, dims, dim_method, device, max_seq_length)
    say(f"model outputs {dims} dimensions by {dim_method}")
    base_metrics = evaluate(model, eval_rows)
    say(f"base model: {fmt(base_metrics)}")

    started = time.monotonic()
    losses = fit(model, train_rows, dims, dim_method, epochs, batch_size, lr, max_steps, seed, device, say)
    seconds = time.monotonic() - started
    trained_metrics = evaluate(model, eval_rows)
    say(f"trained model: {fmt(trained_metrics)}")

    model_dir = save(model, out / "model", dims, dim_method, base, resolved.sha256)
    metrics = {"base": base_metrics, "trained": trained_metrics, "dimensions": dims, "dim_method": dim_method,
               "train": {**loss_summary(losses), "rows": len(train_rows), "seconds": round(seconds, 2),
                         "batch_size": batch_size, "lr": lr, "epochs": epochs}}
    write_json(out / "metrics.json", metrics)
    say(f"wrote {model_dir} and {out / 'metrics.json'}")
    return metrics


def save(model, model_dir: Path, dims: int, dim_method: str, base: str, base_sha256: str | None = None) -> Path:
    """The model plus the settings the handler and `package` read."""
    model.save(str(model_dir))
    write_settings(model_dir, {"kind": "embed", "dimensions": dims, "dim_method": dim_method,
                               "truncate_dim": dims if dim_method == "truncate" else None, "base": base,
                               "base_sha256": base_sha256})
    return model_dir


def load(model_dir: Path, device: str = "cpu"):
    from sentence_transformers import SentenceTransformer

    settings = read_settings(model_dir)
    model = SentenceTransformer(str(model_dir), device=device, truncate_dim=settings.get("truncate_dim"),
                                local_files_only=True)
    check_dims(model, settings["dimensions"], str(model_dir))
    return model
