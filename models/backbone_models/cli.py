"""One command per step. Runs the same locally and as a PAI DLC job, for example:

    python -m backbone_models.cli prepare --events /mnt/data/logs --raw /mnt/data/raw --out /mnt/data/training
    python -m backbone_models.cli train-embedder --data /mnt/data/training --out /mnt/data/models/embedder/v1 --base <model>
    python -m backbone_models.cli train-reranker --data /mnt/data/training --out /mnt/data/models/reranker/v1 --base <model>
    python -m backbone_models.cli evaluate --kind embed --model /mnt/data/models/embedder/v1/model --data /mnt/data/training
    python -m backbone_models.cli package --kind embed --model /mnt/data/models/embedder/v1/model --name embed --version 1 --out /mnt/data/model-store

and, for the one-machine stack, both archives from a docs folder and the packaged MiniLM:

    python -m backbone_models.cli local-models --docs <folder> --out <dir>

Heavy libraries are imported inside each command, so `prepare` and `--help` start quickly.
"""

import argparse
import json
import sys
from pathlib import Path

from .base import DEFAULT_BASE  # standard library only, like this module


def _prepare(a):
    from .prepare_run import run

    return run(a.events, a.raw, a.out, a.split_by, a.eval_percent, a.seed, a.max_doc_chars)


def _prepare_chat(a):
    from .chat_prepare_run import run

    return run(a.raw, a.logs, a.out, a.keep_unrated, a.raw_prefix, a.split_by, a.valid_percent, a.test_percent,
               a.seed)


def _train_llm(a):
    from .llm import train

    return train(a.data, a.out, a.base, a.merge, a.max_steps, a.epochs, a.batch_size, a.lr, a.lora_rank,
                 a.max_length, a.max_new_tokens, a.seed, a.device)


def _train_embedder(a):
    from .embedder import train

    return train(a.data, a.out, a.base, a.dims, a.dim_method, a.epochs, a.batch_size, a.lr, a.max_steps, a.seed,
                 a.device, a.max_seq_length, a.base_sha256)


def _train_reranker(a):
    from .reranker import train

    return train(a.data, a.out, a.base, a.epochs, a.batch_size, a.lr, a.max_steps, a.seed, a.device, a.max_length,
                 a.extra_negatives, a.base_sha256)


def _evaluate(a):
    from .progress import Progress
    from .training import fmt, read_split, write_json

    say = Progress("evaluate")
    if a.kind == "embed":
        from . import embedder as mod

        rows = read_split(a.data / "embedder", a.split, ("query", "positive"))
    else:
        from . import reranker as mod

        rows = read_split(a.data / "reranker", a.split, ("query", "document", "label"))
    say(f"{len(rows)} {a.split} rows; loading {a.model}")
    metrics = mod.evaluate(mod.load(a.model), rows)
    say(fmt(metrics))
    if a.out:
        write_json(a.out, metrics)
    return metrics


def _package(a):
    from .package import package

    return str(package(a.kind, a.model, a.name, a.version, a.out, a.batch_size, a.max_batch_delay_ms, a.workers,
                       half_precision=a.half_precision == "on"))


def _local_models(a):
    from .local_models import run

    return run(a.docs, a.out, a.base, a.steps, a.batch_size, a.max_length, a.serve_max_length, a.negatives, a.lr,
               a.seed, a.device)


def _serve_config(a):
    from .serving_config import render

    text = render(inference_address=a.inference_address, load_models=tuple(a.load_models.split(",")),
                  model_store=a.model_store)
    if a.out:
        a.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


BASE_HELP = ("base model: package:<installed package> (read as data, sha256-checked), a local folder, "
             "oss://<bucket>/<prefix> under BACKBONE_OSS_MOUNTS, or a hub id where HF_HUB_OFFLINE is not 1")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m backbone_models.cli", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("prepare", help="event logs + raw/ documents -> training pairs split by query or user")
    s.add_argument("--events", type=Path, required=True, help="folder of *.jsonl[.gz] event logs (searched recursively)")
    s.add_argument("--raw", type=Path, required=True, help="folder of raw documents (raw/ in the docs bucket)")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--split-by", choices=("query", "user"), default="query")
    s.add_argument("--eval-percent", type=float, default=10.0)
    s.add_argument("--seed", default="backbone")
    s.add_argument("--max-doc-chars", type=int, default=4000)
    s.set_defaults(fn=_prepare)

    s = sub.add_parser("prepare-chat", help="chat transcripts + answer feedback + raw/ -> SFT rows and preference "
                       "pairs for train-llm")
    s.add_argument("--raw", type=Path, required=True, help="folder of raw documents (raw/ in the docs bucket)")
    s.add_argument("--logs", type=Path, required=True, help="folder of *.jsonl[.gz] logs holding chat_turn lines "
                   "and feedback events (logs/ in the bucket: logs/chat/ and logs/events/; searched recursively)")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--keep-unrated", action="store_true", help="also train on answers without feedback "
                   "(disliked answers are never kept)")
    s.add_argument("--raw-prefix", default="raw/", help="the object key prefix of raw/ (the orchestrator's RAW_PREFIX)")
    s.add_argument("--split-by", choices=("query", "user"), default="query")
    s.add_argument("--valid-percent", type=float, default=10.0)
    s.add_argument("--test-percent", type=float, default=10.0)
    s.add_argument("--seed", default="backbone")
    s.set_defaults(fn=_prepare_chat)

    s = sub.add_parser("train-llm", help="LoRA fine-tuning of a causal LM on prepare-chat's SFT rows (PEFT + TRL)")
    s.add_argument("--data", type=Path, required=True, help="output folder of `prepare-chat`")
    s.add_argument("--base", required=True, help="a local folder or oss://<bucket>/<prefix> under BACKBONE_OSS_MOUNTS "
                   "holding a Hugging Face causal LM (e.g. a Qwen checkpoint), or 'tiny': a random-init tiny model "
                   "built in-process")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--merge", action="store_true", help="save the base with the adapter merged in, not the adapter")
    s.add_argument("--max-steps", type=int, default=None)
    s.add_argument("--epochs", type=int, default=1)
    s.add_argument("--batch-size", type=int, default=4)
    s.add_argument("--lr", type=float, default=2e-4)
    s.add_argument("--lora-rank", type=int, default=16)
    s.add_argument("--max-length", type=int, default=2048, help="tokens per example; longer ones are truncated")
    s.add_argument("--max-new-tokens", type=int, default=256, help="generated tokens per held-out prompt")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    s.set_defaults(fn=_train_llm)

    def training(s, batch_size, lr):
        s.add_argument("--data", type=Path, required=True, help="output folder of `prepare`")
        s.add_argument("--out", type=Path, required=True)
        s.add_argument("--base", default=DEFAULT_BASE, help=BASE_HELP)
        s.add_argument("--base-sha256", default=None, help="expected sha256 of the base's model.safetensors (refused "
                       "if it differs); package: bases carry their own")
        s.add_argument("--epochs", type=int, default=1)
        s.add_argument("--batch-size", type=int, default=batch_size)
        s.add_argument("--lr", type=float, default=lr)
        s.add_argument("--max-steps", type=int, default=None)
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")

    s = sub.add_parser("train-embedder", help="fine-tune the bi-encoder with MultipleNegativesRankingLoss")
    training(s, 32, 2e-5)
    s.add_argument("--dims", type=int, default=768, help="output dimension; must match the engines' vector fields")
    s.add_argument("--dim-method", choices=("projection", "truncate"), default="projection")
    s.add_argument("--max-seq-length", type=int, default=256)
    s.set_defaults(fn=_train_embedder)

    s = sub.add_parser("train-reranker", help="fine-tune the cross-encoder with binary cross-entropy")
    training(s, 32, 2e-5)
    s.add_argument("--max-length", type=int, default=512)
    s.add_argument("--extra-negatives", type=int, default=20, help="other queries' documents added per eval query")
    s.set_defaults(fn=_train_reranker)

    s = sub.add_parser("evaluate", help="metrics of a saved model on a split of `prepare`'s output")
    s.add_argument("--kind", choices=("embed", "rerank"), required=True)
    s.add_argument("--model", type=Path, required=True, help="the model folder written by train-*")
    s.add_argument("--data", type=Path, required=True)
    s.add_argument("--split", choices=("train", "eval"), default="eval")
    s.add_argument("--out", type=Path, default=None, help="write the metrics here as JSON")
    s.set_defaults(fn=_evaluate)

    s = sub.add_parser("package", help="build a TorchServe .mar with torch-model-archiver")
    s.add_argument("--kind", choices=("embed", "rerank"), required=True)
    s.add_argument("--model", type=Path, required=True)
    s.add_argument("--name", required=True, help="the model's name in TorchServe's URL: /predictions/<name>")
    s.add_argument("--version", default="1")
    s.add_argument("--out", type=Path, required=True, help="model store folder")
    s.add_argument("--batch-size", type=int, default=None, help="TorchServe server-side batch size (default per kind, "
                   "for one A10 worker: embed 32, rerank 8)")
    s.add_argument("--max-batch-delay-ms", type=int, default=None, help="default 5")
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--half-precision", choices=("on", "off"), default="on", help="fp16 on a GPU (ignored on a CPU)")
    s.set_defaults(fn=_package)

    s = sub.add_parser("local-models", help="embed.mar (pretrained MiniLM) and rerank.mar (MiniLM cross-encoder "
                       "fine-tuned on pairs from --docs) for the one-machine stack")
    s.add_argument("--docs", type=Path, required=True, help="folder of .txt/.md/.rst documents")
    s.add_argument("--out", type=Path, required=True, help="writes embed.mar, rerank.mar and local-models.json here")
    s.add_argument("--base", default=DEFAULT_BASE, help=BASE_HELP)
    s.add_argument("--steps", type=int, default=150, help="reranker training steps (time grows with it)")
    s.add_argument("--batch-size", type=int, default=16)
    s.add_argument("--max-length", type=int, default=128, help="tokens per (query, passage) in training")
    s.add_argument("--serve-max-length", type=int, default=256, help="tokens per (query, passage) when served")
    s.add_argument("--negatives", type=int, default=3, help="negative passages per positive")
    s.add_argument("--lr", type=float, default=5e-5)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    s.set_defaults(fn=_local_models)

    s = sub.add_parser("serve-config", help="render TorchServe's config.properties with safe defaults")
    s.add_argument("--inference-address", default="http://127.0.0.1:8080", help="http://<private or loopback ip>:<port>")
    s.add_argument("--model-store", default="model-store")
    s.add_argument("--load-models", default="embed.mar,rerank.mar")
    s.add_argument("--out", type=Path, default=None)
    s.set_defaults(fn=_serve_config)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        result = args.fn(args)
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"{args.command}: error: {e}", file=sys.stderr)
        return 2
    if isinstance(result, dict | list):
        print(json.dumps(result, indent=2, sort_keys=True))
    elif result is not None:
        print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
