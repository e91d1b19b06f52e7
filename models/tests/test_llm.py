"""train-llm on a tiny random-init Qwen2 built in-process: the loss falls, the adapter loads onto
its base, the merged model generates, and the figures are in range."""

import json

import pytest
import torch

from backbone_models import llm
from backbone_models.chat_prepare_run import run as prepare_chat
from backbone_models.chat_prompt import render
from backbone_models.cli import main
from backbone_models.llm_metrics import answer_figures, cites_existing_sources, wilson

from chat_world import liked_world


@pytest.fixture(scope="module")
def chat_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("chat")
    raw, logs = liked_world(root, 60)
    prepare_chat(raw, logs, root / "data")
    return root / "data"


@pytest.fixture(scope="module")
def adapter_run(chat_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("llm-adapter")
    meta = llm.train(chat_data, out, "tiny", max_steps=40, batch_size=8, lr=3e-3, lora_rank=8, max_length=512,
                     max_new_tokens=16, device="cpu")
    return out, meta


def test_the_loss_falls_on_train_and_held_out_rows(adapter_run):
    m = adapter_run[1]["metrics"]
    assert m["train"]["steps"] == 40
    assert m["train"]["loss_last"] < m["train"]["loss_first"] - 0.5
    assert m["held_out_rows"] > 0 and m["held_out_loss_trained"] < m["held_out_loss_base"]


def test_provenance_and_figures_are_recorded(adapter_run, chat_data):
    out, meta = adapter_run
    manifest = json.loads((chat_data / "manifest.json").read_text())
    saved = json.loads((out / "llm-train.json").read_text())
    assert saved["dataVersion"] == manifest["dataVersion"] and saved["base"]["spec"] == "tiny"
    assert saved["saved"] == "adapter" and (out / "adapter" / "adapter_config.json").is_file()
    figures = meta["metrics"]
    assert figures["citation_adherence_of_references"]["value"] == 1.0
    for key in ("citation_adherence", "exact_match"):
        assert 0.0 <= figures[key]["value"] <= 1.0 and figures[key]["n"] == figures["held_out_rows"]


def test_the_adapter_loads_onto_its_base_and_changes_it(adapter_run):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    out, _ = adapter_run
    model, tokenizer = llm.load(out)
    assert isinstance(model, PeftModel)
    base = AutoModelForCausalLM.from_pretrained(str(out / "base"))
    ids = tokenizer("What does json do?", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert not torch.allclose(model(ids).logits, base(ids).logits)


def test_merge_saves_a_plain_model_that_generates(chat_data, tmp_path):
    meta = llm.train(chat_data, tmp_path, "tiny", merge=True, max_steps=3, batch_size=8, max_length=512,
                     max_new_tokens=8, device="cpu")
    assert meta["saved"] == "merged" and not (tmp_path / "model" / "adapter_config.json").exists()
    model, tokenizer = llm.load(tmp_path)
    answer = llm.generate(model, tokenizer, [[{"role": "user", "content": "What does json do?"}]], 8)
    assert isinstance(answer[0], str) and len(tokenizer(answer[0])["input_ids"]) > 0


def test_bad_input_stops_before_a_model_loads(chat_data, tmp_path, capsys):
    assert main(["train-llm", "--data", str(tmp_path), "--base", "tiny", "--out", str(tmp_path / "o")]) == 2
    assert "manifest.json is missing" in capsys.readouterr().err
    assert main(["train-llm", "--data", str(chat_data), "--base", "tiny", "--out", str(tmp_path / "o"),
                 "--lora-rank", "0"]) == 2
    assert "--lora-rank is 0" in capsys.readouterr().err
    assert main(["train-llm", "--data", str(chat_data), "--base", str(tmp_path / "nope"), "--out",
                 str(tmp_path / "o")]) == 2
    assert "--base is" in capsys.readouterr().err


def test_citation_adherence_needs_a_citation_of_an_existing_source():
    assert cites_existing_sources("A [1] and B [2].", 2)
    assert not cites_existing_sources("A [3].", 2) and not cites_existing_sources("No citation.", 2)
    prompt = render([{"role": "user", "content": "q"}], [{"title": "t", "content": "c"}])
    rows = [{"messages": [*prompt, {"role": "assistant", "content": "Yes [1]."}]}]
    figures = answer_figures(rows, ["yes [1]."])
    assert figures["exact_match"]["hits"] == 1 and figures["citation_adherence"]["hits"] == 1
    low, high = wilson(5, 10)
    assert low < 0.5 < high and wilson(0, 0) is None
