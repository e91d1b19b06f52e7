"""The `prepare` step's input and output around the pure logic in prepare.py."""

import dataclasses
from pathlib import Path

from .jsonl import jsonl_files, read_jsonl, write_jsonl
from .prepare import PrepareStats, build_rows, judge, load_docs, validate_event
from .progress import Progress
from .training import write_json


def _events(folder: Path, say: Progress):
    files = jsonl_files(folder)
    if not files:
        raise FileNotFoundError(f"no *.jsonl or *.jsonl.gz event logs under {folder}")
    for n, path in enumerate(files, start=1):
        say.every(n, len(files), "event log files read")
        for i, event in enumerate(read_jsonl(path), start=1):
            yield validate_event(event, f"{path}:{i}")


def run(events: Path, raw: Path, out: Path, split_by: str = "query", eval_percent: float = 10.0,
        seed: str = "backbone", max_doc_chars: int = 4000) -> dict:
    say = Progress("prepare")
    if not 0 < eval_percent < 100:
        raise ValueError(f"--eval-percent is {eval_percent}; expected a number between 0 and 100")
    docs = load_docs(raw, max_doc_chars)
    say(f"{len(docs)} documents with text under {raw}")
    stats = PrepareStats()
    judged = judge(_events(events, say), stats)
    say(f"{stats.events} events, {stats.queries_seen} exposed queries, {len(judged)} with a positive")
    rows = build_rows(judged, docs, split_by, eval_percent, seed, stats)
    for side, kinds in rows.items():
        for kind, records in kinds.items():
            write_jsonl(out / kind / f"{side}.jsonl", records)
    summary = {**dataclasses.asdict(stats), "split_by": split_by, "eval_percent": eval_percent, "seed": seed}
    write_json(out / "prepare-stats.json", summary)
    say(f"wrote {out}: {stats.rows}; {stats.positives} positives, {stats.hard_negatives} hard negatives, "
        f"{stats.docs_missing_text} documents without text")
    for side in ("train", "eval"):
        if not rows[side]["embedder"]:
            raise ValueError(f"the {side} split is empty ({stats.queries_with_positive} queries with a positive); "
                             "more logs or another --eval-percent are needed")
    return summary
