"""Retrieval quality through the real stack, on Debian's package descriptions (scripts/bench-quality.sh).

Two steps around the stack run (local/src/quality/bench.ts: engines, TorchServe, the backbone's
ingestion, the orchestrator's /v1/search):

    python bench/quality_stack.py prepare --out <dir> [--packages 3000] [--max-queries 400] [...]
    python bench/quality_stack.py report --out <dir>

`prepare` builds the corpus (backbone_models/debian.py: the synopsis is the query, the long
description the document), splits it 80/20 by a hash of the package name, fine-tunes the embedder
(SentenceTransformerTrainer, MultipleNegativesRankingLoss) and the reranker (CrossEncoderTrainer,
BCE; negatives from the query's BM25 top 10 and at random) on the training packages only, and
archives four models: embed-base (the packaged MiniLM as it is), embed-tuned, rerank-base (the
MiniLM encoder with a fresh seeded head, untrained) and rerank-tuned. `report` scores the rankings
the stack returned: recall@10, MRR@10, nDCG@10 with bootstrap 95 % intervals, paired differences.
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "serving")]

from backbone_models import debian  # noqa: E402
from backbone_models.base import DEFAULT_BASE, resolve  # noqa: E402
from backbone_models.progress import Progress, Stages  # noqa: E402
from backbone_models.quality import K, bm25_top, bootstrap_ci, paired_ci  # noqa: E402
from backbone_models.metrics import METRICS  # noqa: E402

NAMES = ("recall", "mrr", "ndcg")
COLUMNS = [f"{n}@{K}" for n in NAMES]
MODELS = {"embed-base": "embed", "embed-tuned": "embed", "rerank-base": "rerank", "rerank-tuned": "rerank"}
# (label, run a, run b): b's gain over a, over the same held-out queries
CHANGES = [
    ("tuned embedder, vector alone", "base-vector", "tuned-vector"),
    ("tuned embedder, hybrid", "base-hybrid", "tuned-hybrid"),
    ("tuned reranker on the tuned hybrid", "tuned-hybrid", "tuned-hybrid+tuned-rerank"),
    ("base reranker on the tuned hybrid", "tuned-hybrid", "tuned-hybrid+base-rerank"),
    ("tuned reranker on the base hybrid", "base-hybrid", "base-hybrid+tuned-rerank"),
    ("base reranker on the base hybrid", "base-hybrid", "base-hybrid+base-rerank"),
    ("hybrid vs BM25 (base embedder)", "bm25", "base-hybrid"),
    ("hybrid vs BM25 (tuned embedder)", "bm25", "tuned-hybrid"),
]


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def arguments(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="corpus, split, training and the four archives")
    prep.add_argument("--out", type=Path, required=True)
    prep.add_argument("--apt-lists", type=Path, required=True,
                      help="apt's lists folder for this corpus (apt-get update -o Acquire::Languages=en fills it)")
    prep.add_argument("--refresh", action="store_true", help="run apt-get update even when the lists are there")
    prep.add_argument("--base", default=DEFAULT_BASE)
    prep.add_argument("--packages", type=positive_int, default=3000)
    prep.add_argument("--eval-percent", type=float, default=20.0)
    prep.add_argument("--seed", default="backbone")
    prep.add_argument("--max-queries", type=positive_int, default=200, help="held-out queries evaluated")
    prep.add_argument("--embed-epochs", type=positive_int, default=1)
    prep.add_argument("--embed-batch", type=positive_int, default=32)
    prep.add_argument("--embed-lr", type=float, default=5e-5)
    prep.add_argument("--embed-max-steps", type=positive_int, default=None)
    prep.add_argument("--rerank-queries", type=positive_int, default=400, help="training queries the reranker sees")
    prep.add_argument("--rerank-hard", type=int, default=1, help="negatives per query from its BM25 top 10")
    prep.add_argument("--rerank-easy", type=int, default=2, help="negatives per query drawn at random")
    prep.add_argument("--rerank-batch", type=positive_int, default=16)
    prep.add_argument("--rerank-lr", type=float, default=5e-5)
    prep.add_argument("--train-max-length", type=positive_int, default=128)
    prep.add_argument("--serve-max-length", type=positive_int, default=256)
    rep = sub.add_parser("report", help="score the stack's rankings")
    rep.add_argument("--out", type=Path, required=True)
    rep.add_argument("--resamples", type=positive_int, default=2000)
    return p.parse_args(argv)


def apt_translations(lists: Path, refresh: bool, say: Progress) -> str:
    """The text of every Translation-en index under `lists`, fetched by apt-get when missing."""
    pattern = str(lists / "*_i18n_Translation-en*")
    if refresh or not glob.glob(pattern):
        (lists / "partial").mkdir(parents=True, exist_ok=True)
        say(f"apt-get update -o Acquire::Languages=en into {lists}")
        subprocess.run(["apt-get", "update", "-qq", "-o", "Acquire::Languages=en", "-o", f"Dir::State::Lists={lists}",
                        "-o", "APT::Update::Post-Invoke-Success::="], check=True)
    files = sorted(glob.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no Translation-en index under {lists}; apt-get update did not fetch one")
    # apt-helper reads apt's compressed index files (lz4, gz, xz) as apt itself does
    return "\n\n".join(subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", f], check=True, capture_output=True,
                                      text=True).stdout for f in files)


def write_docs(raw: Path, packages: list[debian.Package]) -> None:
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    for p in packages:
        (raw / f"{p.name}.txt").write_text(p.long + "\n", encoding="utf-8")


def prepare(a) -> int:
    from backbone_models import embedder, reranker
    from backbone_models.package import package

    say = Progress("bench-quality")
    stage = Stages(say)
    stages = stage.seconds

    def corpus():
        entries = debian.parse_translations(apt_translations(a.apt_lists, a.refresh, say))
        chosen = debian.select(entries, a.packages, a.seed)
        train, held = debian.split(chosen, a.eval_percent, a.seed)
        asked = debian.queries(held, a.max_queries, a.seed)
        write_docs(a.out / "source" / "raw", chosen)
        with (a.out / "queries.jsonl").open("w", encoding="utf-8") as f:
            for p in asked:
                f.write(json.dumps({"query": p.synopsis, "doc": p.name}) + "\n")
        info = {"indexed_packages": len(entries), "packages": len(chosen), "sha256": debian.corpus_hash(chosen),
                "train": len(train), "held_out": len(held), "queries": len(asked), "seed": a.seed}
        say(f"corpus: {len(chosen)} of {len(entries)} packages (duplicate synopses and descriptions dropped), "
            f"sha256 {info['sha256']}; {len(train)} train, {len(held)} held out, {len(asked)} held-out queries")
        return train, info

    a.out.mkdir(parents=True, exist_ok=True)
    train, info = stage("corpus", corpus)
    resolved = resolve(a.base)
    if resolved.source == "hub":
        raise SystemExit(f"--base is {a.base!r}; the benchmark needs a local base (package:<name>, a folder or oss://)")
    work = a.out / "models"
    shutil.rmtree(work, ignore_errors=True)
    store = a.out / "model-store"
    shutil.rmtree(store, ignore_errors=True)

    def tune_embedder():
        base = embedder.build(resolved.location, 384, "projection", "cpu", a.serve_max_length)
        embedder.save(base, work / "embed-base", 384, "projection", a.base, resolved.sha256)
        model = embedder.build(resolved.location, 384, "projection", "cpu", a.train_max_length)
        losses = embedder.fit(model, debian.embed_rows(train), 384, "projection", a.embed_epochs, a.embed_batch,
                              a.embed_lr, a.embed_max_steps, 0, "cpu", say)
        model.max_seq_length = a.serve_max_length
        embedder.save(model, work / "embed-tuned", 384, "projection", a.base, resolved.sha256)
        return losses

    def tune_reranker():
        lexical = bm25_top([p.synopsis for p in train], [p.long for p in train], 11)
        rows = debian.rerank_rows(train, lexical, a.rerank_queries, a.rerank_hard, a.rerank_easy, 0)
        say(f"reranker: {len(rows)} rows for {min(a.rerank_queries, len(train))} training queries")
        fresh = reranker.build(resolved.location, "cpu", a.serve_max_length, 0)
        reranker.save(fresh, work / "rerank-base", a.base, resolved.sha256)
        model = reranker.build(resolved.location, "cpu", a.train_max_length, 0)
        losses = reranker.fit(model, rows, 1, a.rerank_batch, a.rerank_lr, None, 0, "cpu", say)
        model.max_seq_length = a.serve_max_length
        reranker.save(model, work / "rerank-tuned", a.base, resolved.sha256)
        return losses

    embed_losses = stage("fine-tune the embedder", tune_embedder)
    rerank_losses = stage("fine-tune the reranker", tune_reranker)
    stage("archive the four models", lambda: [package(kind, work / name, name, "1", store)
                                              for name, kind in MODELS.items()])
    summary = {"corpus": info, "stages": stages, "base": a.base, "base_sha256": resolved.sha256,
               "embed_steps": len(embed_losses), "embed_loss": [embed_losses[0], embed_losses[-1]],
               "rerank_steps": len(rerank_losses), "rerank_loss": [rerank_losses[0], rerank_losses[-1]]}
    (a.out / "prepare.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def doc_ids(ranked: list[str]) -> list[str]:
    """Chunk hits as package names, each once (a long description can be several chunks)."""
    return list(dict.fromkeys(d.removesuffix(".txt") for d in ranked))


def scores(rankings: list[list[str]], relevant: list[str]):
    import numpy as np

    if len(rankings) != len(relevant):
        raise ValueError(f"{len(rankings)} rankings for {len(relevant)} queries")
    return {f"{n}@{K}": np.array([METRICS[n](doc_ids(r), {rel}, K) for r, rel in zip(rankings, relevant, strict=True)])
            for n in NAMES}


def window_note(name: str, rankings: list[list[str]], relevant: list[str]) -> str:
    """What any reranker of the run's window can reach, and what a random order of it gives: a
    reranker's MRR@10 near the latter has learned nothing."""
    windows = [doc_ids(r) for r in rankings]
    inside = [rel in w for w, rel in zip(windows, relevant, strict=True)]
    random_mrr = sum(sum(1 / r for r in range(1, min(K, len(w)) + 1)) / len(w)
                     for w, hit in zip(windows, inside, strict=True) if hit and w) / len(windows)
    return (f"{name}: the relevant package is in the rerank window for {sum(inside)}/{len(windows)} queries "
            f"({sum(inside) / len(windows):.3f}: the recall bound of any reranker); a random order of the window "
            f"gives MRR@10 ~{random_mrr:.3f}")


def report(a) -> int:
    prepared = json.loads((a.out / "prepare.json").read_text(encoding="utf-8"))
    stack = json.loads((a.out / "runs.json").read_text(encoding="utf-8"))
    relevant = [json.loads(line)["doc"] for line in (a.out / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    values = {name: scores(r, relevant) for name, r in stack["runs"].items()}
    figures = {name: {m: bootstrap_ci(v[m], a.resamples) for m in COLUMNS} for name, v in values.items()}
    diffs = {label: {m: paired_ci(values[x][m], values[y][m], a.resamples) for m in COLUMNS}
             for label, x, y in CHANGES if x in values and y in values}
    c = prepared["corpus"]
    ci = lambda t: f"{t[0]:.3f} [{t[1]:.3f}, {t[2]:.3f}]"  # noqa: E731
    dci = lambda t: f"{t[0]:+.3f} [{t[1]:+.3f}, {t[2]:+.3f}]"  # noqa: E731
    print(f"\nDebian package descriptions: {c['packages']} packages (corpus sha256 {c['sha256']}), {c['train']} "
          f"train / {c['held_out']} held out, {len(relevant)} held-out queries; base {prepared['base']} (sha256 "
          f"{prepared['base_sha256']}); embedder {prepared['embed_steps']} steps (loss {prepared['embed_loss'][0]:.3f}"
          f" -> {prepared['embed_loss'][1]:.3f}), reranker {prepared['rerank_steps']} steps (loss "
          f"{prepared['rerank_loss'][0]:.3f} -> {prepared['rerank_loss'][1]:.3f}); {stack['how']}")
    print(f"| run | {' | '.join(m + ' [95% CI]' for m in COLUMNS)} |")
    print("|---|" + "---|" * len(COLUMNS))
    for name in values:
        print(f"| {name} | {' | '.join(ci(figures[name][m]) for m in COLUMNS)} |")
    print(f"\n| change (paired, same queries) | {' | '.join(COLUMNS)} |")
    print("|---|" + "---|" * len(COLUMNS))
    for label, d in diffs.items():
        print(f"| {label} | {' | '.join(dci(d[m]) for m in COLUMNS)} |")
    for name in ("base-hybrid", "tuned-hybrid"):
        print(window_note(name, stack["runs"][name], relevant))
    print("\n| stage | seconds |\n|---|---|")
    for name, seconds in [*prepared["stages"].items(), *stack["stages"].items()]:
        print(f"| {name} | {seconds:.0f} |")
    (a.out / "report.json").write_text(json.dumps({"runs": figures, "changes": diffs}, indent=2) + "\n",
                                       encoding="utf-8")
    m = f"mrr@{K}"
    print(f"quality: base-hybrid mrr@10={figures['base-hybrid'][m][0]:.4f} "
          f"tuned-hybrid mrr@10={figures['tuned-hybrid'][m][0]:.4f} "
          f"tuned-hybrid-rerank mrr@10={figures['tuned-hybrid+tuned-rerank'][m][0]:.4f}")
    return 0


def main(argv=None) -> int:
    a = arguments(argv)
    return prepare(a) if a.command == "prepare" else report(a)


if __name__ == "__main__":
    sys.exit(main())
