"""Reading and writing JSONL (optionally gzipped), the format of event logs and training files."""

import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path


def _open(path: Path, mode: str):
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def jsonl_files(folder: Path) -> list[Path]:
    """Every *.jsonl / *.jsonl.gz under `folder`, sorted so runs are reproducible."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith((".jsonl", ".jsonl.gz")))


def read_jsonl_lines(path: Path) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, record, None) per JSON object line, (line number, None, reason) per line that is
    not one, and (line number, None, None) per blank line, so a caller can report and skip bad lines
    instead of stopping, and account for every line."""
    with _open(path, "r") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                yield lineno, None, None
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                yield lineno, None, f"not valid JSON ({e.msg})"
                continue
            if not isinstance(record, dict):
                yield lineno, None, f"expected a JSON object, got {type(record).__name__}"
                continue
            yield lineno, record, None


def read_jsonl(path: Path) -> Iterator[dict]:
    """Every record; the first bad line stops the read with its path and line number."""
    for lineno, record, problem in read_jsonl_lines(path):
        if problem is not None:
            raise ValueError(f"{path}:{lineno}: {problem}")
        if record is not None:
            yield record


def write_jsonl(path: Path, records: Iterable[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with _open(path, "w") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n
