"""A few training steps on the tiny random-init BERT: the loss falls, the output dimension holds,
metrics are written beside the base's, and each model archives into a .mar."""

import json
import zipfile

import pytest

from model_settings import SETTINGS_FILE

from backbone_models import embedder, reranker
from backbone_models.cli import main


def test_tiny_base_has_a_real_vocabulary(tiny_base):
    from transformers import BertTokenizerFast

    tok = BertTokenizerFast.from_pretrained(str(tiny_base))
    assert tok.vocab_size > 100
    assert "[UNK]" not in tok.tokenize("password reset steps")


def test_embedder_loss_falls_and_metrics_sit_beside_the_base(trained_embedder):
    out, metrics = trained_embedder
    assert metrics["train"]["loss_last"] < metrics["train"]["loss_first"]
    assert json.loads((out / "metrics.json").read_text()) == json.loads(json.dumps(metrics))
    for side in ("base", "trained"):
        assert set(metrics[side]) == {"recall@10", "mrr@10", "ndcg@10", "queries"}
        assert 0.0 <= metrics[side]["recall@10"] <= 1.0
    print("\nembedder base", metrics["base"], "\nembedder trained", metrics["trained"], "\n", metrics["train"])


def test_embedder_output_dimension_is_enforced(trained_embedder):
    model = embedder.load(trained_embedder[0] / "model")
    assert model.encode(["a query"]).shape == (1, 768)


def test_matryoshka_truncation_cannot_widen_and_says_so(tiny_base):
    with pytest.raises(ValueError, match="produces 64 dimensions; Matryoshka truncation can only shorten"):
        embedder.build(str(tiny_base), 768, "truncate", "cpu", 64)
    model = embedder.build(str(tiny_base), 32, "truncate", "cpu", 64)
    assert model.encode(["a query"]).shape == (1, 32)


def test_a_saved_model_with_the_wrong_dimension_is_refused(trained_embedder, tmp_path):
    settings = json.loads((trained_embedder[0] / "model" / SETTINGS_FILE).read_text())
    model = embedder.load(trained_embedder[0] / "model")
    embedder.save(model, tmp_path / "m", 512, settings["dim_method"], settings["base"])
    with pytest.raises(ValueError, match="produces 768 dimensions; the configured dimension is 512"):
        embedder.load(tmp_path / "m")


def test_reranker_loss_falls_and_metrics_sit_beside_the_base(trained_reranker):
    out, metrics = trained_reranker
    # a random-init cross-encoder first settles on the label prior and learns features slowly, so
    # the steady signal is the loss over fixed training rows, not the noisy per-batch loss
    assert metrics["train"]["probe_loss_after"] < metrics["train"]["probe_loss_before"]
    for side in ("base", "trained"):
        assert set(metrics[side]) == {"mrr@10", "ndcg@10", "queries"}
    print("\nreranker base", metrics["base"], "\nreranker trained", metrics["trained"], "\n", metrics["train"])


def test_evaluate_command_reproduces_the_training_metrics(world, trained_embedder, trained_reranker, tmp_path, capsys):
    assert main(["evaluate", "--kind", "embed", "--model", str(trained_embedder[0] / "model"),
                 "--data", str(world["data"]), "--out", str(tmp_path / "e.json")]) == 0
    capsys.readouterr()
    got = json.loads((tmp_path / "e.json").read_text())
    assert got == pytest.approx(trained_embedder[1]["trained"], abs=1e-6)
    assert main(["evaluate", "--kind", "rerank", "--model", str(trained_reranker[0] / "model"),
                 "--data", str(world["data"])]) == 0
    assert json.loads(capsys.readouterr().out) == pytest.approx(trained_reranker[1]["trained"], abs=1e-6)


def test_train_command_rejects_a_missing_split(tiny_base, tmp_path, capsys):
    code = main(["train-embedder", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--base", str(tiny_base)])
    assert code == 2
    assert "train.jsonl is missing; run `prepare` first" in capsys.readouterr().err


def test_each_model_archives_into_a_mar(model_store):
    for name, handler in (("embed", "embed_handler.py"), ("rerank", "rerank_handler.py")):
        with zipfile.ZipFile(model_store / f"{name}.mar") as mar:
            files = set(mar.namelist())
            manifest = json.loads(mar.read("MAR-INF/MANIFEST.json"))
        assert {handler, "contract.py", "handler_base.py", "model_settings.py", SETTINGS_FILE,
                "model-config.yaml"} <= files
        assert manifest["model"]["modelName"] == name and manifest["model"]["handler"] == handler


def test_package_refuses_a_model_of_the_other_kind(trained_reranker, tmp_path, capsys):
    code = main(["package", "--kind", "embed", "--model", str(trained_reranker[0] / "model"), "--name", "x",
                 "--out", str(tmp_path)])
    assert code == 2
    assert "holds a 'rerank' model, not 'embed'" in capsys.readouterr().err


def test_bad_hyperparameters_exit_2_naming_the_flag_before_a_model_loads(world, tmp_path, capsys):
    for flag, value, message in (("--batch-size", "0", "--batch-size is 0; expected a positive integer"),
                                 ("--lr", "0", "--lr is 0.0; expected a positive number"),
                                 ("--max-steps", "0", "--max-steps is 0; expected a positive integer")):
        code = main(["train-reranker", "--data", str(world["data"]), "--out", str(tmp_path), flag, value])
        assert code == 2
        assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_model_config_carries_batching_per_kind_and_the_half_precision_switch(model_store):
    import yaml

    from backbone_models.package import BATCHING, model_config

    on = yaml.safe_load(model_config(*BATCHING["embed"], 1, 60))
    assert (on["batchSize"], on["maxBatchDelay"], on["handler"]["half_precision"]) == (32, 5, True)
    assert yaml.safe_load(model_config(8, 5, 1, 60, half_precision=False))["handler"]["half_precision"] is False
    with zipfile.ZipFile(model_store / "embed.mar") as mar:
        packed = yaml.safe_load(mar.read("model-config.yaml"))
    assert (packed["batchSize"], packed["maxBatchDelay"], packed["handler"]) == (8, 20, {"half_precision": True})
