"""A small chat world built from the transcript contract (models/README.md, "Chat transcripts"):
documents under raw/, chat_turn lines under logs/chat/dt=.../hour=.../ and feedback events under
logs/events/, gzipped as the orchestrator writes them."""

import gzip
import json
from pathlib import Path

from backbone_models.ingest_chunks import chunk_id

TOPICS = ["asyncio", "pathlib", "json", "logging", "sqlite3", "argparse", "zipfile", "hashlib", "socket", "csv",
          "decimal", "datetime", "heapq", "bisect", "shutil", "tempfile", "uuid", "base64", "struct", "glob",
          "fnmatch", "textwrap", "difflib", "pprint", "random", "statistics", "fractions", "itertools", "functools",
          "operator"]
VERBS = ["parses", "stores", "formats", "sorts", "hashes", "copies", "sends", "reads", "writes", "checks"]


def doc_text(i: int, topic: str) -> str:
    return f"The {topic} module {VERBS[i % len(VERBS)]} data quickly.\n\nIt is part of the standard library."


def turn(i: int, topic: str, answer: str | None = None, **over) -> dict:
    doc = f"{topic}.txt"
    other = f"{TOPICS[(i + 1) % len(TOPICS)]}.txt"
    rec = {"type": "chat_turn", "version": 1, "ts": f"2026-12-07T10:{i % 60:02d}:00Z", "queryId": f"q{i}",
           "traceId": f"t{i}", "principalId": f"user-{i % 7}", "conversation": [],
           "question": f"What does {topic} do?", "retrievalQuery": f"What does {topic} do?",
           "context": [{"n": 1, "chunkId": chunk_id(f"raw/{doc}", 0), "docId": doc},
                       {"n": 2, "chunkId": chunk_id(f"raw/{other}", 0), "docId": other}],
           "citedChunkIds": [chunk_id(f"raw/{doc}", 0)],
           "answer": answer or f"The {topic} module {VERBS[i % len(VERBS)]} data quickly [1].",
           "answerMode": "llm", "model": "qwen-plus"}
    rec.update(over)
    return rec


def feedback(query_id: str, value: str, ts: str = "2026-12-07T11:00:00Z", **over) -> dict:
    return {"type": "feedback", "ts": ts, "userId": "u", "queryId": query_id, "value": value, "channel": "chat",
            **over}


def write_lines(path: Path, lines: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for line in lines:
            f.write((line if isinstance(line, str) else json.dumps(line)) + "\n")


def write_world(root: Path, turns: list, events: list) -> tuple[Path, Path]:
    raw, logs = root / "raw", root / "logs"
    raw.mkdir(parents=True, exist_ok=True)
    for i, topic in enumerate(TOPICS):
        (raw / f"{topic}.txt").write_text(doc_text(i, topic), encoding="utf-8")
    write_lines(logs / "chat" / "dt=2026-12-07" / "hour=10" / "part-0001.jsonl.gz", turns)
    write_lines(logs / "events" / "dt=2026-12-07" / "hour=11" / "part-0001.jsonl.gz", events)
    return raw, logs


def liked_world(root: Path, n: int = 30) -> tuple[Path, Path]:
    """n turns over the topics, every one rated up: enough SFT rows for the tiny model to learn from."""
    turns = [turn(i, TOPICS[i % len(TOPICS)]) for i in range(n)]
    return write_world(root, turns, [feedback(t["queryId"], "up") for t in turns])
