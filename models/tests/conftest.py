"""Session fixtures: one synthetic world, one tiny base model, one training run per model, one
pair of .mar files and one real TorchServe shared by every test that needs them."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be downloaded: every model is built here
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

from backbone_models import embedder, reranker  # noqa: E402
from backbone_models.package import package  # noqa: E402
from backbone_models.prepare_run import run as prepare  # noqa: E402
from backbone_models.server import TorchServe, missing_prerequisites  # noqa: E402
from backbone_models.synthetic import corpus, write_world  # noqa: E402
from backbone_models.tiny import build_base  # noqa: E402

# One thread: results do not depend on the core count, and a busy 2-core machine is not oversubscribed.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("world")
    raw, logs = write_world(root)
    data = root / "training"
    prepare(logs, raw, data)
    return {"root": root, "raw": raw, "logs": logs, "data": data}


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    return build_base(tmp_path_factory.mktemp("base") / "tiny-bert", corpus())


@pytest.fixture(scope="session")
def trained_embedder(world, tiny_base, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("embedder")
    metrics = embedder.train(world["data"], out, str(tiny_base), dims=768, dim_method="projection", epochs=5,
                             batch_size=16, lr=1e-3, max_steps=30, device="cpu", max_seq_length=64)
    return out, metrics


@pytest.fixture(scope="session")
def trained_reranker(world, tiny_base, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("reranker")
    metrics = reranker.train(world["data"], out, str(tiny_base), epochs=5, batch_size=16, lr=2e-3, max_steps=150,
                             device="cpu", max_length=64)
    return out, metrics


@pytest.fixture(scope="session")
def model_store(trained_embedder, trained_reranker, tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("model-store")
    package("embed", trained_embedder[0] / "model", "embed", "1", store, batch_size=8, max_batch_delay_ms=20)
    package("rerank", trained_reranker[0] / "model", "rerank", "1", store, batch_size=8, max_batch_delay_ms=20)
    return store


@pytest.fixture(scope="session")
def server(model_store, tmp_path_factory):
    missing = missing_prerequisites()
    if missing:
        message = f"a real TorchServe is needed but these are missing: {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # CI must not pass by skipping the serving tests
        pytest.skip(message)
    ts = TorchServe(model_store, {"embed": "embed.mar", "rerank": "rerank.mar"}, tmp_path_factory.mktemp("torchserve"),
                    env={"HANDLER_TORCH_THREADS": "1"})
    seconds = ts.start()
    print(f"\nTorchServe ready in {seconds:.1f} s at {ts.inference}")
    try:
        yield ts
    finally:
        ts.stop()
