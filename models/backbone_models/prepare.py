"""Training pairs from the orchestrator's event logs (schema in models/README.md).

An exposure followed (same queryId, same docId, not earlier) by a click or a citation_open is a
positive; a document exposed for a query that has a positive but was neither clicked nor opened
is a hard negative. Feedback overrides: "up" makes an exposed document positive, "down" makes it
a negative even if clicked. Queries without any positive are dropped: an unclicked page says
little about which of its documents were wrong.
"""

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

EVENT_TYPES = ("expose", "click", "citation_open", "feedback")
ENGAGEMENTS = ("click", "citation_open")
FEEDBACK_VALUES = ("up", "down")
DOC_TEXT_SUFFIXES = (".txt", ".md")


def parse_ts(value, where: str) -> float:
    """Epoch seconds from an ISO 8601 string or epoch milliseconds."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{where}: 'ts' must be an ISO 8601 string or epoch milliseconds, got {value!r}")
    if isinstance(value, int | float):
        return float(value) / 1000.0
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise ValueError(f"{where}: 'ts' must be an ISO 8601 string or epoch milliseconds, got {value!r}")


def validate_event(event: dict, where: str) -> dict:
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        raise ValueError(f"{where}: 'type' is {kind!r}; expected one of {list(EVENT_TYPES)}")
    for key in ("queryId", "userId"):
        if not isinstance(event.get(key), str) or not event[key]:
            raise ValueError(f"{where}: '{key}' must be a non-empty string, got {event.get(key)!r}")
    needs_doc = kind != "feedback" or "docId" in event
    if needs_doc and (not isinstance(event.get("docId"), str) or not event["docId"]):
        raise ValueError(f"{where}: '{kind}' events need a non-empty string 'docId', got {event.get('docId')!r}")
    if kind == "expose" and (not isinstance(event.get("query"), str) or not event["query"].strip()):
        raise ValueError(f"{where}: 'expose' events need a non-empty string 'query', got {event.get('query')!r}")
    if kind == "feedback" and event.get("value") not in FEEDBACK_VALUES:
        raise ValueError(f"{where}: 'value' is {event.get('value')!r}; expected one of {list(FEEDBACK_VALUES)}")
    return {**event, "ts": parse_ts(event.get("ts"), where)}


def normalise_query(text: str) -> str:
    """The identity of a query for de-duplication and splitting: case and spacing do not count."""
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass
class Judgements:
    query: str
    user: str
    positives: set[str] = field(default_factory=set)
    negatives: set[str] = field(default_factory=set)


@dataclass
class PrepareStats:
    events: int = 0
    queries_seen: int = 0
    queries_with_positive: int = 0
    positives: int = 0
    hard_negatives: int = 0
    engagements_without_exposure: int = 0
    docs_missing_text: int = 0
    eval_rows_dropped_for_leak: int = 0
    rows: dict = field(default_factory=dict)


def judge(events: Iterable[dict], stats: PrepareStats) -> dict[str, Judgements]:
    """Positives and hard negatives per queryId from validated events."""
    exposed: dict[str, dict[str, float]] = defaultdict(dict)  # queryId -> docId -> first exposure ts
    meta: dict[str, tuple[str, str]] = {}
    engaged: dict[str, list[tuple[str, float]]] = defaultdict(list)
    feedback: dict[str, dict[str, str]] = defaultdict(dict)
    for e in events:
        stats.events += 1
        qid, doc = e["queryId"], e.get("docId")
        if e["type"] == "expose":
            meta.setdefault(qid, (e["query"], e["userId"]))
            exposed[qid][doc] = min(e["ts"], exposed[qid].get(doc, e["ts"]))
        elif e["type"] in ENGAGEMENTS:
            engaged[qid].append((doc, e["ts"]))
        elif doc is not None:
            feedback[qid][doc] = e["value"]  # the latest line wins; logs are appended in time order
    out = {}
    for qid, docs in exposed.items():
        query, user = meta[qid]
        j = Judgements(query=query, user=user)
        for doc, ts in engaged.get(qid, []):
            if doc in docs and ts >= docs[doc]:
                j.positives.add(doc)
            else:
                stats.engagements_without_exposure += 1
        for doc, value in feedback.get(qid, {}).items():
            if doc not in docs:
                continue
            (j.positives.add if value == "up" else j.positives.discard)(doc)
        j.negatives = set(docs) - j.positives
        stats.queries_seen += 1
        if j.positives:
            out[qid] = j
    for qid in engaged.keys() - exposed.keys():
        stats.engagements_without_exposure += len(engaged[qid])
    return out


def bucket_of(key: str, seed: str) -> int:
    """A stable bucket in [0, 10000) from a hash of the split key, so reruns put a key on the same side."""
    return int(hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:8], 16) % 10000


def split_of(key: str, eval_percent: float, seed: str) -> str:
    """'eval' or 'train' for a split key."""
    return "eval" if bucket_of(key, seed) < eval_percent * 100 else "train"


def build_rows(judged: dict[str, Judgements], docs: dict[str, str], split_by: str, eval_percent: float,
               seed: str, stats: PrepareStats) -> dict[str, dict[str, list[dict]]]:
    """Embedder rows {query, positive, negative?} and reranker rows {query, document, label}, by split.

    Rows are de-duplicated per (normalised query, document). Splitting by user can put one query
    text on both sides; those eval rows are dropped so evaluation never sees a trained query.
    """
    if split_by not in ("query", "user"):
        raise ValueError(f"split_by is {split_by!r}; expected 'query' or 'user'")
    per_query: dict[tuple[str, str], dict] = {}
    missing: set[str] = set()
    for j in judged.values():
        nq = normalise_query(j.query)
        side = split_of(nq if split_by == "query" else j.user, eval_percent, seed)
        slot = per_query.setdefault((side, nq), {"query": j.query, "pos": set(), "neg": set()})
        for doc in j.positives | j.negatives:
            if doc not in docs:
                missing.add(doc)
        slot["pos"] |= {d for d in j.positives if d in docs}
        slot["neg"] |= {d for d in j.negatives if d in docs}
    stats.docs_missing_text = len(missing)
    train_queries = {nq for side, nq in per_query if side == "train"}
    rows = {side: {"embedder": [], "reranker": []} for side in ("train", "eval")}
    for (side, nq), slot in sorted(per_query.items()):
        neg_only = slot["neg"] - slot["pos"]
        if not slot["pos"]:
            continue
        if side == "eval" and nq in train_queries:
            stats.eval_rows_dropped_for_leak += len(slot["pos"]) + len(neg_only)
            continue
        stats.queries_with_positive += 1
        stats.positives += len(slot["pos"])
        stats.hard_negatives += len(neg_only)
        negatives = sorted(neg_only)
        for i, doc in enumerate(sorted(slot["pos"])):
            row = {"query": slot["query"], "positive": docs[doc], "positiveId": doc}
            if negatives:
                neg = negatives[i % len(negatives)]
                row.update(negative=docs[neg], negativeId=neg)
            rows[side]["embedder"].append(row)
            rows[side]["reranker"].append({"query": slot["query"], "document": docs[doc], "docId": doc, "label": 1})
        for doc in negatives:
            rows[side]["reranker"].append({"query": slot["query"], "document": docs[doc], "docId": doc, "label": 0})
    stats.rows = {f"{side}/{kind}": len(r) for side, kinds in rows.items() for kind, r in kinds.items()}
    return rows


def load_docs(raw: Path, max_chars: int) -> dict[str, str]:
    """docId -> text from raw/: JSONL records {docId, title?, text} and plain files whose docId is
    their path relative to raw/ (as the object key under raw/ in OSS)."""
    from .jsonl import read_jsonl

    if not raw.is_dir():
        raise FileNotFoundError(f"raw documents folder {raw} does not exist")
    docs = {}
    for path in sorted(p for p in raw.rglob("*") if p.is_file()):
        rel = path.relative_to(raw).as_posix()
        if path.name.endswith((".jsonl", ".jsonl.gz")):
            for i, rec in enumerate(read_jsonl(path), start=1):
                doc_id, text = rec.get("docId"), rec.get("text")
                if not isinstance(doc_id, str) or not isinstance(text, str):
                    raise ValueError(f"{path}:{i}: raw records need string 'docId' and 'text'")
                title = rec.get("title")
                docs[doc_id] = (f"{title}\n{text}" if isinstance(title, str) and title else text)[:max_chars]
        elif path.suffix in DOC_TEXT_SUFFIXES:
            docs[rel] = path.read_text(encoding="utf-8")[:max_chars]
    return docs
