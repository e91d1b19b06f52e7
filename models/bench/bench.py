"""Throughput of the embedding and rerank models, through a real TorchServe on loopback and in
process, on whatever device the host has (it prints it): texts/s for the embedder and docs/s for the
reranker at batch 1, 8, 32 and 128, in fp32 and, on a CUDA device, fp16 (the A10's serving setting,
model-config.yaml `half_precision`). It runs unchanged on a GPU host; without CUDA it measures the
CPU path in fp32 and says that fp16 was skipped and why.

Models: the packaged MiniLM (models/backbone_models/base.py, verified weights) as the embedder, and
the same encoder with a fresh head as the reranker (its timing does not depend on training). One
client, keep-alive, sequential requests; every loop is bounded in time and count. The in-process
figure is the bound TorchServe's is compared with. Usage (scripts/bench-models.sh):

    python bench/bench.py [--seconds 2] [--repeats 3] [--batches 1,8,32,128] [--smoke]
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
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "serving")]

from backbone_models import embedder, reranker  # noqa: E402
from backbone_models.base import DEFAULT_BASE, resolve  # noqa: E402
from backbone_models.package import package  # noqa: E402
from backbone_models.server import TorchServe  # noqa: E402
from backbone_models.synthetic import corpus  # noqa: E402

MAX_REQUESTS = 20000


def sentences(n: int, rng: random.Random, words: int = 24) -> list[str]:
    vocabulary = " ".join(corpus()).split()
    return [" ".join(rng.choice(vocabulary) for _ in range(words)) for _ in range(n)]


def batches(text: str) -> list[int]:
    values = [int(v) for v in text.split(",")]
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"--batches is {text!r}; expected positive integers, comma-separated")
    return values


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
    conn = http.client.HTTPConnection(host, int(port), timeout=300)

    def post(body: dict) -> bytes:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {data[:200]!r}")
        json.loads(data)  # a client decodes what it gets: that is part of the cost
        return data

    return post


def device_name() -> tuple[str, str]:
    import torch

    if torch.cuda.is_available():
        return "cuda:0", f"cuda:0 ({torch.cuda.get_device_name(0)})"
    return "cpu", f"cpu ({os.cpu_count()} cores, torch threads {torch.get_num_threads()}; no CUDA device)"


def build(work: Path, store: Path, precisions: list[str], device: str) -> dict:
    """The archives (one per model and precision) and the same models loaded in process."""
    resolved = resolve(DEFAULT_BASE)
    emb = embedder.build(resolved.location, 384, "projection", "cpu", 128)
    embedder.save(emb, work / "embed", 384, "projection", DEFAULT_BASE, resolved.sha256)
    ce = reranker.build(resolved.location, "cpu", 256, 0)
    reranker.save(ce, work / "rerank", DEFAULT_BASE, resolved.sha256)
    local = {}
    for precision in precisions:
        half = precision == "fp16"
        for kind in ("embed", "rerank"):
            package(kind, work / kind, f"{kind}-{precision}", "1", store, half_precision=half)
        e, r = embedder.load(work / "embed", device), reranker.load(work / "rerank", device)
        if half:
            e.half()
            r.model.half()
        local[precision] = (e, r)
    return local


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batches", type=batches, default=[1, 8, 32, 128])
    p.add_argument("--smoke", action="store_true", help="batches 1 and 8, a fraction of a second each (CI)")
    a = p.parse_args(argv)
    if a.smoke:
        a.seconds, a.repeats, a.batches = 0.2, 1, [1, 8]

    device, described = device_name()
    precisions = ["fp32", "fp16"] if device.startswith("cuda") else ["fp32"]
    print(f"device: {described}", flush=True)
    if "fp16" not in precisions:
        print("fp16: skipped, half precision is a CUDA setting (the handlers serve fp32 on a CPU)", flush=True)
    rng = random.Random(0)
    rows = []
    with tempfile.TemporaryDirectory(prefix="backbone-bench-") as tmp:
        work, store = Path(tmp), Path(tmp) / "store"
        local = build(work, store, precisions, device)
        names = {f"{kind}-{precision}": f"{kind}-{precision}.mar" for precision in precisions
                 for kind in ("embed", "rerank")}
        with TorchServe(store, names, work / "ts") as ts:
            print(f"load average {os.getloadavg()}", flush=True)
            for precision, (emb, ce) in local.items():
                embed_post = poster(ts, f"/predictions/embed-{precision}/1")
                rerank_post = poster(ts, f"/predictions/rerank-{precision}/1")
                for batch in a.batches:
                    texts = sentences(batch, rng)
                    r = best_rates({
                        "in-process": lambda: emb.encode(texts, batch_size=batch, convert_to_numpy=True,
                                                         show_progress_bar=False),
                        "served": lambda: embed_post({"input": texts, "encoding_format": "float"}),
                    }, batch, a.seconds, a.repeats)
                    rows.append(("embed", "texts/s", precision, batch, r["served"], r["in-process"]))
                    print(fmt_row(rows[-1]), flush=True)
                    query, docs = sentences(1, rng, 8)[0], sentences(batch, rng, 120)
                    r = best_rates({
                        "in-process": lambda: ce.predict([(query, d) for d in docs], batch_size=batch,
                                                         show_progress_bar=False),
                        "served": lambda: rerank_post({"query": query, "documents": docs}),
                    }, batch, a.seconds, a.repeats)
                    rows.append(("rerank", "docs/s", precision, batch, r["served"], r["in-process"]))
                    print(fmt_row(rows[-1]), flush=True)
    print(f"\ndevice: {described}; load average after: {os.getloadavg()}")
    print("| model | unit | precision | batch | through TorchServe | in process (bound) | served/bound |")
    print("|---|---|---|---|---|---|---|")
    for model, unit, precision, batch, served, bound in rows:
        print(f"| {model} | {unit} | {precision} | {batch} | {served:.0f} | {bound:.0f} | {served / bound:.0%} |")
    if "fp16" in precisions:
        for model, unit, _, batch, served, _ in (r for r in rows if r[2] == "fp32"):
            half = next(r for r in rows if r[:2] == (model, unit) and r[2] == "fp16" and r[3] == batch)
            print(f"fp16 / fp32, {model} batch {batch}, served: {half[4] / served:.2f}x")
    return 0


def fmt_row(row) -> str:
    model, unit, precision, batch, served, bound = row
    return (f"{model:<6} {precision} batch {batch:>3}: {served:8.1f} {unit} served, {bound:8.1f} in process, "
            f"ratio {served / bound:.0%}")


if __name__ == "__main__":
    sys.exit(main())
