"""Throughput of the embedding and rerank endpoints through a real TorchServe on loopback, each
figure beside the same model called in-process in the same run (the bound), on CPU.

Models: the tiny test model (BERT hidden 64, 2 layers) and a random-init model the size of a small
production embedder (hidden 384, 6 layers), each with a projection to 768 dimensions, plus a
cross-encoder of each size. Random weights change no timing. One client, keep-alive, sequential
requests; every loop is bounded in time and count. Usage (scripts/bench-models.sh):

    python bench/bench.py [--seconds 2] [--repeats 3]
"""

import argparse
import http.client
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "serving")]

from backbone_models import embedder, reranker  # noqa: E402
from backbone_models.package import package  # noqa: E402
from backbone_models.server import TorchServe  # noqa: E402
from backbone_models.synthetic import corpus  # noqa: E402
from backbone_models.tiny import build_base  # noqa: E402

SIZES = {"tiny": dict(hidden=64, layers=2, heads=2), "6x384": dict(hidden=384, layers=6, heads=6)}
BATCHES = (1, 8, 32)
MAX_REQUESTS = 20000


def sentences(n: int, rng: random.Random) -> list[str]:
    words = " ".join(corpus()).split()
    return [" ".join(rng.choice(words) for _ in range(24)) for _ in range(n)]


def best_rates(fns: dict, units: int, seconds: float, repeats: int) -> dict:
    """Best of `repeats` runs of each function for `seconds`, in units per second. The functions
    take turns within each repeat, so load from elsewhere on the machine hits them alike."""
    for fn in fns.values():
        fn()  # warm-up
    best = dict.fromkeys(fns, 0.0)
    for _ in range(repeats):
        for name, fn in fns.items():
            n, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds and n < MAX_REQUESTS * units:
                fn()
                n += units
            best[name] = max(best[name], n / (time.perf_counter() - started))
    return best


def poster(ts: TorchServe, path: str):
    host, port = ts.inference.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)

    def post(body: dict) -> bytes:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {data[:200]!r}")
        json.loads(data)  # a client decodes what it gets: that is part of the cost
        return data

    return post


def build(work: Path, store: Path) -> dict:
    local = {}
    for size, shape in SIZES.items():
        base = build_base(work / f"base-{size}", corpus(), **shape)
        emb = embedder.build(str(base), 768, "projection", "cpu", 128)
        embedder.save(emb, work / f"embed-{size}", 768, "projection", str(base))
        from sentence_transformers import CrossEncoder

        ce = CrossEncoder(str(base), num_labels=1, device="cpu", max_length=256)
        reranker.save(ce, work / f"rerank-{size}", str(base))
        package("embed", work / f"embed-{size}", f"embed-{size}", "1", store)
        package("rerank", work / f"rerank-{size}", f"rerank-{size}", "1", store)
        local[size] = (embedder.load(work / f"embed-{size}"), reranker.load(work / f"rerank-{size}"))
    return local


def main() -> int:
    args = argparse.ArgumentParser()
    args.add_argument("--seconds", type=float, default=2.0)
    args.add_argument("--repeats", type=int, default=3)
    a = args.parse_args()
    import torch

    rng = random.Random(0)
    rows = []
    with tempfile.TemporaryDirectory(prefix="backbone-bench-") as tmp:
        work, store = Path(tmp), Path(tmp) / "store"
        local = build(work, store)
        names = {f"{kind}-{size}": f"{kind}-{size}.mar" for size in SIZES for kind in ("embed", "rerank")}
        with TorchServe(store, names, work / "ts") as ts:
            print(f"torch threads in-process: {torch.get_num_threads()}; load average {os.getloadavg()}", flush=True)
            for size, (emb, ce) in local.items():
                embed_post, rerank_post = poster(ts, f"/predictions/embed-{size}"), poster(ts, f"/predictions/rerank-{size}")
                for batch in BATCHES:
                    texts = sentences(batch, rng)
                    r = best_rates({
                        "bound": lambda: emb.encode(texts, convert_to_numpy=True, show_progress_bar=False),
                        "float": lambda: embed_post({"input": texts, "encoding_format": "float"}),
                        "base64": lambda: embed_post({"input": texts, "encoding_format": "base64"}),
                    }, batch, a.seconds, a.repeats)
                    for fmt in ("float", "base64"):
                        rows.append((size, f"embed ({fmt})", batch, r[fmt], r["bound"]))
                        print(fmt_row(rows[-1]), flush=True)
                    query, docs = sentences(1, rng)[0][:60], sentences(batch, rng)
                    r = best_rates({
                        "bound": lambda: ce.predict([(query, d) for d in docs], show_progress_bar=False),
                        "served": lambda: rerank_post({"query": query, "documents": docs}),
                    }, batch, a.seconds, a.repeats)
                    rows.append((size, "rerank", batch, r["served"], r["bound"]))
                    print(fmt_row(rows[-1]), flush=True)
    print(f"\nload average after: {os.getloadavg()}")
    print("| model | endpoint | batch | through TorchServe (/s) | in-process bound (/s) | ratio |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| {} | {} | {} | {:.0f} | {:.0f} | {:.0%} |".format(*row, row[3] / row[4]))
    target = [r for r in rows if r[0] == "6x384" and r[2] == 32]
    for size, endpoint, batch, served, bound in target:
        print(f"target >= 70% of bound at batch 32 for 6x384, {endpoint}: {served / bound:.0%} "
              f"({'met' if served >= 0.7 * bound else 'NOT met'})")
    return 0


def fmt_row(row) -> str:
    size, endpoint, batch, served, bound = row
    unit = "docs/s" if endpoint == "rerank" else "texts/s"
    return f"{size:>6} {endpoint:<15} batch {batch:>2}: {served:8.0f} {unit} served, bound {bound:8.0f}, ratio {served / bound:.0%}"


if __name__ == "__main__":
    sys.exit(main())
