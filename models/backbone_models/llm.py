"""train-llm: LoRA fine-tuning of a causal LM on prepare-chat's SFT rows with PEFT and TRL's
SFTTrainer, the held-out figures (loss, citation-format adherence, exact match) and the saved
adapter or merged model with its provenance (llm-train.json).

Rows train as TRL's conversational prompt-completion pairs (the prompt is every turn but the last,
the completion the assistant's answer), so the loss covers the answer only, with any chat template
a base ships. A row longer than --max-length tokens is left out and counted: truncation would cut
either the instructions and sources or the answer it should learn.
"""

import json
from pathlib import Path

from .progress import Progress
from .training import (check_hyperparameters, loss_summary, pick_device, progress_callback, read_split, run_trainer,
                       trainer_arguments, write_json)

METADATA = "llm-train.json"
TINY = "tiny"


def _held_out(data: Path) -> tuple[str | None, list[dict]]:
    """The test split, or the valid split when test is empty; (None, []) when both are."""
    for split in ("test", "valid"):
        path = data / "sft" / f"{split}.jsonl"
        if path.is_file() and path.stat().st_size:
            return split, read_split(data / "sft", split, ("messages",))
    return None, []


def _check_rows(rows: list[dict], where: str) -> None:
    for i, row in enumerate(rows, start=1):
        m = row["messages"]
        ok = (isinstance(m, list) and len(m) >= 3 and all(isinstance(t, dict) for t in m)
              and m[0].get("role") == "system" and m[-1].get("role") == "assistant")
        if not ok:
            raise ValueError(f"{where}:{i}: 'messages' must be [system, ..., user, assistant] turns, got {m!r:.200}")


def _base(base: str, out: Path, corpus: list[str], say: Progress) -> tuple[Path, dict]:
    if base == TINY:
        from .tiny import build_causal_lm

        folder = build_causal_lm(out / "base", corpus)
        say(f"built a random-init tiny Qwen2 causal LM in {folder}")
        return folder, {"spec": TINY, "source": "tiny", "location": "base", "sha256": None,
                        "note": "random init, vocabulary trained on the train split; for tests only"}
    from .base import resolve

    resolved = resolve(base)
    if resolved.source == "hub":
        raise ValueError(f"--base is {base!r}; train-llm takes a folder, oss://<bucket>/<prefix> or 'tiny' "
                         "(no downloads: copy the checkpoint to OSS or a folder first)")
    return Path(resolved.location), {"spec": base, "source": resolved.source, "location": resolved.location,
                                     "sha256": resolved.sha256}


def _too_long(tokenizer, rows: list[dict], max_length: int) -> list[bool]:
    return [len(tokenizer.apply_chat_template(r["messages"], tokenize=True, return_dict=False)) > max_length
            for r in rows]


def _as_prompt_completion(rows: list[dict]) -> list[dict]:
    return [{"prompt": r["messages"][:-1], "completion": r["messages"][-1:]} for r in rows]


def generate(model, tokenizer, prompts: list[list[dict]], max_new_tokens: int) -> list[str]:
    """Greedy answers, one prompt at a time (no padding questions; held-out sets are small)."""
    import torch

    model.eval()
    answers = []
    with torch.no_grad():
        for prompt in prompts:
            text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
            inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(model.device)
            output = model.generate(**inputs, do_sample=False, max_new_tokens=max_new_tokens,
                                    pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
            answers.append(tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True))
    return answers


def train(data: Path, out: Path, base: str = TINY, merge: bool = False, max_steps: int | None = None,
          epochs: int = 1, batch_size: int = 4, lr: float = 2e-4, lora_rank: int = 16, max_length: int = 2048,
          max_new_tokens: int = 256, seed: int = 0, device: str = "auto") -> dict:
    say = Progress("train-llm")
    check_hyperparameters(epochs, batch_size, lr, max_steps)
    for flag, value, least in (("--lora-rank", lora_rank, 1), ("--max-length", max_length, 32),
                               ("--max-new-tokens", max_new_tokens, 1)):
        if not isinstance(value, int) or value < least:
            raise ValueError(f"{flag} is {value!r}; expected an integer of at least {least}")
    manifest_path = data / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path} is missing; run prepare-chat first or point --data at its output")
    data_version = json.loads(manifest_path.read_text(encoding="utf-8")).get("dataVersion")
    rows = read_split(data / "sft", "train", ("messages",))
    _check_rows(rows, str(data / "sft" / "train.jsonl"))
    held_split, held = _held_out(data)
    _check_rows(held, str(data / "sft" / f"{held_split}.jsonl"))
    device = pick_device(device)

    import datasets
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    datasets.disable_progress_bars()  # progress is our lines on stderr; stdout carries the JSON result
    torch.manual_seed(seed)
    corpus = [t["content"] for r in rows for t in r["messages"]]
    base_dir, base_meta = _base(base, out, corpus, say)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    if not tokenizer.chat_template:
        raise ValueError(f"--base {base}: its tokenizer has no chat template; train-llm needs a chat (instruct) model")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    long_train, long_held = _too_long(tokenizer, rows, max_length), _too_long(tokenizer, held, max_length)
    rows = [r for r, long in zip(rows, long_train, strict=True) if not long]
    held = [r for r, long in zip(held, long_held, strict=True) if not long]
    if not rows:
        raise ValueError(f"every train row is longer than --max-length {max_length} tokens; raise it")
    say(f"{len(rows)} train rows, {len(held)} held-out ({held_split}) rows; {sum(long_train) + sum(long_held)} "
        f"longer than {max_length} tokens left out; device {device}")
    bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported()
    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.bfloat16 if bf16 else torch.float32)
    lora = LoraConfig(r=lora_rank, lora_alpha=2 * lora_rank, lora_dropout=0.05, target_modules="all-linear",
                      task_type="CAUSAL_LM")
    args = trainer_arguments(SFTConfig, out / "checkpoints", epochs, batch_size, lr, max_steps, seed, device,
                             max_length=max_length, completion_only_loss=True, bf16=bf16,
                             per_device_eval_batch_size=batch_size)
    losses: list[float] = []
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(_as_prompt_completion(rows)),
                         eval_dataset=Dataset.from_list(_as_prompt_completion(held)) if held else None,
                         processing_class=tokenizer, peft_config=lora, callbacks=[progress_callback(say, losses)])
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # it prints evaluate()'s logs to stdout
    loss_before = trainer.evaluate()["eval_loss"] if held else None
    run_trainer(trainer)
    loss_after = trainer.evaluate()["eval_loss"] if held else None
    answers = generate(trainer.model, tokenizer, [r["messages"][:-1] for r in held], max_new_tokens)

    from .llm_metrics import answer_figures

    metrics = {"train": loss_summary(losses), "held_out_split": held_split, "held_out_rows": len(held),
               "held_out_loss_base": loss_before, "held_out_loss_trained": loss_after,
               **(answer_figures(held, answers) if held else {})}
    folder = "model" if merge else "adapter"
    saved = trainer.model.merge_and_unload() if merge else trainer.model
    saved.save_pretrained(str(out / folder))
    tokenizer.save_pretrained(str(out / folder))
    meta = {"base": base_meta, "dataVersion": data_version, "saved": "merged" if merge else "adapter",
            "folder": folder, "lora": {"r": lora_rank, "alpha": 2 * lora_rank, "target_modules": "all-linear"},
            "settings": {"epochs": epochs, "batch_size": batch_size, "lr": lr, "max_steps": max_steps,
                         "max_length": max_length, "seed": seed, "device": device},
            "rows_left_out_for_length": sum(long_train) + sum(long_held), "metrics": metrics}
    write_json(out / METADATA, meta)
    write_json(out / "metrics.json", metrics)
    say(f"saved the {meta['saved']} weights in {out / folder}; held-out loss {loss_before} -> {loss_after}")
    return meta


def load(out: Path, base_location: str | None = None):
    """(model, tokenizer) of a train-llm output: the merged model, or the base with the adapter on it.
    `base_location` overrides where the base is when it moved (a tiny base lives in <out>/base)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    meta = json.loads((out / METADATA).read_text(encoding="utf-8"))
    folder = out / meta["folder"]
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    if meta["saved"] == "merged":
        return AutoModelForCausalLM.from_pretrained(str(folder)), tokenizer
    from peft import PeftModel

    location = base_location or meta["base"]["location"]
    base_dir = out / location if meta["base"]["source"] == "tiny" else Path(location)
    return PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(base_dir)), str(folder)), tokenizer
