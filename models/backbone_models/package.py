"""A TorchServe .mar per model, built with torch-model-archiver.

The archive holds the handler, the contract module, the shared handler code, the saved model
(flattened into the archive's root, which TorchServe hands the handler as model_dir) and a
model-config.yaml with the worker, server-side batching and precision settings.

Batching defaults are per model, sized for the gn7i hosts' A10 GPU (see models/README.md,
Serving): embedding requests are mostly single queries, so many share one forward pass; a rerank
request already carries its whole candidate window (tens of passages), so fewer are combined.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from serving.model_settings import SETTINGS_FILE, read_settings, write_settings

from .progress import Progress

SERVING = Path(__file__).resolve().parent.parent / "serving"
HANDLERS = {"embed": "embed_handler.py", "rerank": "rerank_handler.py"}
SHARED = ("contract.py", "handler_base.py", "model_settings.py")
# (batchSize, maxBatchDelay ms) per kind for one A10 worker; on a CPU host the same settings hold
BATCHING = {"embed": (32, 5), "rerank": (8, 5)}


def model_config(batch_size: int, max_batch_delay_ms: int, workers: int, response_timeout_s: int,
                 half_precision: bool = True) -> str:
    if batch_size < 1 or max_batch_delay_ms < 0 or workers < 1:
        raise ValueError(f"batch_size={batch_size}, max_batch_delay_ms={max_batch_delay_ms}, workers={workers}: "
                         "expected batch_size >= 1, max_batch_delay_ms >= 0, workers >= 1")
    return "\n".join([
        f"minWorkers: {workers}",
        f"maxWorkers: {workers}",
        # server-side batching: requests that arrive within the delay share one forward pass
        f"batchSize: {batch_size}",
        f"maxBatchDelay: {max_batch_delay_ms}",
        f"responseTimeout: {response_timeout_s}",
        "startupTimeout: 300",
        # read by the handler (context.model_yaml_config); fp16 applies on a GPU only
        "handler:",
        f"  half_precision: {'true' if half_precision else 'false'}",
    ]) + "\n"


def archiver() -> str:
    beside = Path(sys.executable).parent / "torch-model-archiver"
    found = str(beside) if beside.exists() else shutil.which("torch-model-archiver")
    if not found:
        raise FileNotFoundError("torch-model-archiver is not installed; run scripts/setup.sh")
    return found


def package(kind: str, model_dir: Path, name: str, version: str, out: Path, batch_size: int | None = None,
            max_batch_delay_ms: int | None = None, workers: int = 1, response_timeout_s: int = 60,
            half_precision: bool = True) -> Path:
    say = Progress("package")
    if kind not in HANDLERS:
        raise ValueError(f"--kind is {kind!r}; expected one of {sorted(HANDLERS)}")
    batch_size = BATCHING[kind][0] if batch_size is None else batch_size
    max_batch_delay_ms = BATCHING[kind][1] if max_batch_delay_ms is None else max_batch_delay_ms
    settings_path = model_dir / SETTINGS_FILE
    if not settings_path.is_file():
        raise FileNotFoundError(f"{settings_path} is missing; package a folder written by train-{'embedder' if kind == 'embed' else 'reranker'}")
    settings = read_settings(model_dir)
    if settings.get("kind") != kind:
        raise ValueError(f"{model_dir} holds a {settings.get('kind')!r} model, not {kind!r}")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="backbone-package-") as tmp:
        staging = Path(tmp) / "model"
        shutil.copytree(model_dir, staging)
        write_settings(staging, {**settings, "name": name})
        config = Path(tmp) / "model-config.yaml"
        config.write_text(model_config(batch_size, max_batch_delay_ms, workers, response_timeout_s, half_precision),
                          encoding="utf-8")
        extra = [str(SERVING / f) for f in SHARED] + [str(staging)]
        cmd = [archiver(), "--model-name", name, "--version", version, "--handler", str(SERVING / HANDLERS[kind]),
               "--extra-files", ",".join(extra), "--config-file", str(config), "--export-path", str(out), "--force"]
        say(f"archiving {model_dir} as {name} {version}")
        # the archiver stages files in $TMPDIR/<model name>: a private TMPDIR keeps parallel runs apart
        env = {**os.environ, "TMPDIR": tmp}
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"torch-model-archiver failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    mar = out / f"{name}.mar"
    say(f"wrote {mar} ({mar.stat().st_size / 2**20:.1f} MiB)")
    return mar
