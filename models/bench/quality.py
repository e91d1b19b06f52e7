"""Retrieval quality on a public corpus nobody on this project wrote (the Python 3.11 library
reference, scripts/sample-corpus.sh): the pretrained MiniLM against the MiniLM fine-tuned on the
training documents, each with and without the fine-tuned reranker, BM25 beside them as the lexical
reference. Held-out split by document (backbone_models/quality.py); recall@10, MRR@10 and nDCG@10
with bootstrap 95 % intervals over the held-out queries, and the paired difference of each change.

Runs in process on the CPU (not through the engines and TorchServe). Usage
(scripts/bench-quality.sh passes --docs):

    python bench/quality.py --docs <folder> [--max-queries 200] [--embed-epochs 1] [--rerank-steps 150] [--smoke]
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "serving")]

from backbone_models import embedder, reranker  # noqa: E402
from backbone_models.base import DEFAULT_BASE, resolve  # noqa: E402
from backbone_models.docs_pairs import pairs_from_docs, read_docs, training_rows  # noqa: E402
from backbone_models.progress import Progress, Stages  # noqa: E402
from backbone_models.quality import K, bm25_top, bootstrap_ci, dense_top, paired_ci, per_query, quality_set, rerank_top  # noqa: E402

METRICS = [f"recall@{K}", f"mrr@{K}", f"ndcg@{K}"]


def arguments(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--docs", type=Path, required=True)
    p.add_argument("--base", default=DEFAULT_BASE)
    p.add_argument("--eval-percent", type=float, default=20.0)
    p.add_argument("--seed", default="backbone")
    p.add_argument("--max-queries", type=int, default=200, help="held-out queries evaluated (a seeded sample)")
    p.add_argument("--embed-epochs", type=int, default=1)
    p.add_argument("--embed-batch", type=int, default=32)
    p.add_argument("--embed-lr", type=float, default=5e-5)
    p.add_argument("--embed-max-steps", type=int, default=None)
    p.add_argument("--rerank-steps", type=int, default=150)
    p.add_argument("--rerank-batch", type=int, default=16)
    p.add_argument("--rerank-lr", type=float, default=5e-5)
    p.add_argument("--window", type=int, default=20, help="candidates the reranker reorders per query")
    p.add_argument("--train-max-length", type=int, default=128)
    p.add_argument("--max-length", type=int, default=256, help="tokens per passage at evaluation")
    p.add_argument("--resamples", type=int, default=2000)
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--smoke", action="store_true", help="a few queries and steps: checks that every stage runs")
    a = p.parse_args(argv)
    if a.smoke:
        a.max_queries, a.embed_max_steps, a.rerank_steps, a.window, a.resamples = 20, 3, 3, 5, 200
    return a


def main(argv=None) -> int:
    import torch

    a = arguments(argv)
    say = Progress("bench-quality")
    stage = Stages(say)
    stages = stage.seconds

    resolved = resolve(a.base)
    pairs = pairs_from_docs(read_docs(a.docs))
    qs = quality_set(pairs, a.eval_percent, a.seed, a.max_queries)
    held_docs = len({p.doc_id for p in pairs}) - len({p.doc_id for p in qs.train_pairs})
    say(f"{len(pairs)} (heading, section) pairs; corpus {len(qs.corpus)} passages; {len(qs.train_pairs)} training "
        f"pairs; {len(qs.queries)} held-out queries from {held_docs} held-out documents; torch threads "
        f"{torch.get_num_threads()}, load {os.getloadavg()[0]:.1f}")
    depth = max(K, a.window)
    runs = {"bm25": stage("bm25", lambda: bm25_top(qs.queries, qs.corpus, depth))}

    def encode(model):
        model.max_seq_length = a.max_length
        opts = dict(batch_size=32, convert_to_numpy=True, show_progress_bar=False)
        return dense_top(model.encode(qs.queries, **opts), model.encode(qs.corpus, **opts), depth)

    base = embedder.build(resolved.location, 384, "projection", "cpu", a.max_length)
    runs["base"] = stage("encode with the base embedder", lambda: encode(base))
    tuned = embedder.build(resolved.location, 384, "projection", "cpu", a.train_max_length)
    losses = stage("fine-tune the embedder", lambda: embedder.fit(
        tuned, qs.embed_rows, 384, "projection", a.embed_epochs, a.embed_batch, a.embed_lr, a.embed_max_steps, 0,
        "cpu", say))
    runs["tuned"] = stage("encode with the tuned embedder", lambda: encode(tuned))

    rows = training_rows(qs.train_pairs, a.rerank_steps, a.rerank_batch, 3, 0)
    cross = reranker.build(resolved.location, "cpu", a.train_max_length, 0)
    rerank_losses = stage("fine-tune the reranker", lambda: reranker.fit(
        cross, rows, 1, a.rerank_batch, a.rerank_lr, a.rerank_steps, 0, "cpu", say))
    cross.max_seq_length = a.max_length

    def rerank(run):
        window = [ranked[: a.window] for ranked in run]
        flat = [(q, qs.corpus[j]) for q, ranked in zip(qs.queries, window, strict=True) for j in ranked]
        scores = cross.predict(flat, batch_size=64, convert_to_numpy=True, show_progress_bar=False).tolist()
        out, at = [], 0
        for ranked in window:
            out.append(rerank_top(ranked, scores[at: at + len(ranked)]))
            at += len(ranked)
        return out

    runs["base+rerank"] = stage("rerank the base embedder's window", lambda: rerank(runs["base"]))
    runs["tuned+rerank"] = stage("rerank the tuned embedder's window", lambda: rerank(runs["tuned"]))

    values = {name: per_query(run, qs.relevant) for name, run in runs.items()}
    figures = {name: {m: bootstrap_ci(v[m], a.resamples) for m in METRICS} for name, v in values.items()}
    changes = [("tuned embedder vs base", "base", "tuned"), ("reranker on the base embedder", "base", "base+rerank"),
               ("reranker on the tuned embedder", "tuned", "tuned+rerank"), ("tuned vs BM25", "bm25", "tuned")]
    diffs = {label: {m: paired_ci(values[x][m], values[y][m], a.resamples) for m in METRICS} for label, x, y in changes}

    ci = lambda t: f"{t[0]:.3f} [{t[1]:.3f}, {t[2]:.3f}]"  # noqa: E731
    dci = lambda t: f"{t[0]:+.3f} [{t[1]:+.3f}, {t[2]:+.3f}]"  # noqa: E731
    print(f"\n{len(qs.queries)} held-out queries, corpus of {len(qs.corpus)} passages, base {a.base} "
          f"(sha256 {resolved.sha256}); embedder {len(losses)} steps (loss {losses[0]:.3f} -> {losses[-1]:.3f}), "
          f"reranker {len(rerank_losses)} steps (loss {rerank_losses[0]:.3f} -> {rerank_losses[-1]:.3f}), "
          f"window {a.window}")
    print(f"| run | {' | '.join(m + ' [95% CI]' for m in METRICS)} |")
    print("|---|" + "---|" * len(METRICS))
    for name in runs:
        print(f"| {name} | {' | '.join(ci(figures[name][m]) for m in METRICS)} |")
    print(f"\n| change (paired, over the same queries) | {' | '.join(m for m in METRICS)} |")
    print("|---|" + "---|" * len(METRICS))
    for label in diffs:
        print(f"| {label} | {' | '.join(dci(diffs[label][m]) for m in METRICS)} |")
    print("\n| stage | seconds |\n|---|---|")
    for name, seconds in stages.items():
        print(f"| {name} | {seconds:.0f} |")
    if a.json:
        a.json.write_text(json.dumps({"runs": figures, "changes": diffs, "stages": stages,
                                      "queries": len(qs.queries), "corpus": len(qs.corpus)}, indent=2) + "\n")
    m = f"mrr@{K}"
    print(f"quality: base mrr@10={figures['base'][m][0]:.4f} tuned mrr@10={figures['tuned'][m][0]:.4f} "
          f"tuned-rerank mrr@10={figures['tuned+rerank'][m][0]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
