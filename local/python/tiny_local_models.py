"""Stand-in for `backbone_models.cli local-models` while that command is not in this checkout: the
same outputs (<out>/embed.mar, <out>/rerank.mar, <out>/local-models.json in the contract's shape),
built from the tiny randomly initialised BERT of models/ (backbone_models.tiny) with a WordPiece
vocabulary trained on the docs folder. The vectors and scores are real model outputs through the
real handlers, but the weights are untrained: rankings are not meaningful. `npm start` says so.

    PYTHONPATH=models python local/python/tiny_local_models.py --docs <folder> --out <dir>
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

VERSION = "tiny-1"


def docs_texts(folder: Path, limit: int = 400, chars: int = 20000) -> list[str]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [p.read_text(encoding="utf-8", errors="replace")[:chars] for p in files[:limit]]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--docs", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    texts = docs_texts(a.docs)
    if not texts:
        print(f"tiny-local-models: --docs {a.docs} holds no files", file=sys.stderr)
        return 2
    key = hashlib.sha256((VERSION + "\0" + "\0".join(texts)).encode()).hexdigest()
    manifest = a.out / "local-models.json"
    if manifest.is_file() and json.loads(manifest.read_text()).get("inputs") == key:
        print("tiny-local-models: reusing the archives in " + str(a.out), file=sys.stderr)
        return 0
    from backbone_models import embedder, reranker
    from backbone_models.package import package
    from backbone_models.tiny import build_base
    from sentence_transformers import CrossEncoder

    work = a.out / "build"
    base = build_base(work / "tiny-bert", texts, hidden=64, layers=2, heads=2, vocab_size=2000, max_len=256)
    embed_dir = embedder.save(embedder.build(str(base), 384, "projection", "cpu", 256), work / "embed", 384,
                              "projection", str(base))
    rerank_dir = reranker.save(CrossEncoder(str(base), num_labels=1, device="cpu", max_length=256), work / "rerank",
                               str(base))
    package("embed", embed_dir, "embed", "1", a.out, batch_size=16, max_batch_delay_ms=5)
    package("rerank", rerank_dir, "rerank", "1", a.out, batch_size=16, max_batch_delay_ms=5)
    manifest.write_text(json.dumps({
        "embed": {"name": "embed", "version": "1", "dims": 384, "mar": "embed.mar", "base": "tiny-random-bert"},
        "rerank": {"name": "rerank", "version": "1", "mar": "rerank.mar"},
        "inputs": key,
    }, indent=2) + "\n")
    print(f"tiny-local-models: wrote {a.out}/embed.mar and rerank.mar (tiny random weights)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
