"""The `prepare-chat` step's input and output around the pure logic in chat_prepare.py."""

import dataclasses
import hashlib
import re
from pathlib import Path

from .chat_prepare import SPLITS, ChatStats, UnresolvedChunk, answer_feedback, build, validate_turn
from .ingest_chunks import chunk_id, chunk_text, parse_document
from .jsonl import jsonl_files, read_jsonl_lines, write_jsonl
from .prepare import validate_event
from .progress import Progress
from .training import write_json

CHUNK_ID = re.compile(r"^[0-9a-f]{20}-(\d+)$")
REPORTED_LINES = 20  # bad lines printed one by one; the rest are counted


class ChunkSource:
    """Sources of a prompt from raw/: each context item's document parsed and chunked as ingestion
    does (the object key is raw_prefix + docId, as the orchestrator's docIdOf strips it)."""

    def __init__(self, raw: Path, raw_prefix: str):
        if not raw.is_dir():
            raise FileNotFoundError(f"raw documents folder {raw} does not exist")
        self.raw, self.prefix = raw.resolve(), raw_prefix
        self.docs: dict[str, tuple[str, list[str]] | UnresolvedChunk] = {}

    def _doc(self, doc_id: str) -> tuple[str, list[str]]:
        if doc_id not in self.docs:
            path = (self.raw / doc_id).resolve()
            if not path.is_relative_to(self.raw) or not path.is_file():
                self.docs[doc_id] = UnresolvedChunk("document_missing", f"{doc_id}: not a file under raw/")
            else:
                try:
                    title, text = parse_document(self.prefix + doc_id, path.read_bytes())
                    self.docs[doc_id] = (title, chunk_text(text))
                except ValueError as e:
                    self.docs[doc_id] = UnresolvedChunk("document_unsupported", str(e))
        found = self.docs[doc_id]
        if isinstance(found, UnresolvedChunk):
            raise found
        return found

    def __call__(self, context: list[dict]) -> list[dict]:
        sources = []
        for item in context:
            m = CHUNK_ID.match(item["chunkId"])
            if not m or chunk_id(self.prefix + item["docId"], int(m.group(1))) != item["chunkId"]:
                raise UnresolvedChunk("chunk_id_not_of_document", f"{item['chunkId']} is not a chunk of "
                                      f"{self.prefix}{item['docId']}")
            title, chunks = self._doc(item["docId"])
            n = int(m.group(1))
            if n >= len(chunks):  # the document shrank since the turn
                raise UnresolvedChunk("chunk_missing", f"{item['docId']} has {len(chunks)} chunks, not {n + 1}")
            sources.append({"title": title, "content": chunks[n]})
        return sources


def read_logs(logs: Path, say: Progress) -> tuple[list[dict], list[dict], dict]:
    """Chat turns and feedback events from every *.jsonl[.gz] under `logs`; a bad line is reported and
    skipped; `lines` counts every line by what it was."""
    files = jsonl_files(logs)
    if not files:
        raise FileNotFoundError(f"no *.jsonl or *.jsonl.gz logs under {logs}")
    turns, feedback = [], []
    lines = {"chat_turn": 0, "feedback": 0, "other": 0, "blank": 0, "malformed": 0}
    for n, path in enumerate(files, start=1):
        say.every(n, len(files), "log files read")
        for lineno, rec, problem in read_jsonl_lines(path):
            where = f"{path}:{lineno}"
            if rec is None and problem is None:
                lines["blank"] += 1
                continue
            try:
                if problem is not None:
                    raise ValueError(f"{where}: {problem}")
                if rec.get("type") == "chat_turn":
                    turns.append(validate_turn(rec, where))
                elif rec.get("type") == "feedback":
                    feedback.append(validate_event(rec, where))
                else:  # exposures, clicks and other event types: `prepare`'s input
                    lines["other"] += 1
                    continue
                lines[rec["type"]] += 1
            except ValueError as e:
                lines["malformed"] += 1
                if lines["malformed"] <= REPORTED_LINES:
                    say(f"skipped a bad line: {e}")
    if lines["malformed"] > REPORTED_LINES:
        say(f"... {lines['malformed'] - REPORTED_LINES} more bad lines skipped")
    lines["total"] = sum(lines.values())
    return turns, feedback, lines


def data_version(files: list[Path], root: Path) -> str:
    """sha256 over the output files' names and bytes: the same rows give the same version."""
    h = hashlib.sha256()
    for path in files:
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).hexdigest().encode() + b"\n")
    return h.hexdigest()


def run(raw: Path, logs: Path, out: Path, keep_unrated: bool = False, raw_prefix: str = "raw/",
        split_by: str = "query", valid_percent: float = 10.0, test_percent: float = 10.0,
        seed: str = "backbone") -> dict:
    say = Progress("prepare-chat")
    for flag, value in (("--valid-percent", valid_percent), ("--test-percent", test_percent)):
        if not 0 <= value < 100:
            raise ValueError(f"{flag} is {value}; expected a number from 0 to below 100")
    if valid_percent + test_percent >= 100:
        raise ValueError(f"--valid-percent + --test-percent is {valid_percent + test_percent}; expected below 100")
    sources = ChunkSource(raw, raw_prefix)
    turns, events, lines = read_logs(logs, say)
    say(f"{lines['total']} lines: {lines['chat_turn']} chat turns, {lines['feedback']} feedback events, "
        f"{lines['other']} other events, {lines['malformed']} bad lines skipped")
    stats = ChatStats()
    rows = build(turns, answer_feedback(events, stats), sources, keep_unrated, split_by, valid_percent,
                 test_percent, seed, stats)
    files = [out / kind / f"{split}.jsonl" for kind in rows for split in SPLITS]
    for path in files:
        write_jsonl(path, rows[path.parent.name][path.stem])
    settings = {"keep_unrated": keep_unrated, "raw_prefix": raw_prefix, "split_by": split_by,
                "valid_percent": valid_percent, "test_percent": test_percent, "seed": seed}
    manifest = {"dataVersion": data_version(files, out), "lines": lines, **dataclasses.asdict(stats),
                "settings": settings}
    write_json(out / "manifest.json", manifest)
    say(f"wrote {out}: {stats.rows}; turns {stats.outcomes}; data version {manifest['dataVersion'][:12]}")
    if not rows["sft"]["train"]:
        raise ValueError(f"no SFT rows in the train split ({stats.turns} turns: {stats.outcomes}); rate answers "
                         "(feedback 'up') or pass --keep-unrated")
    return manifest
