"""SFT examples and preference pairs from chat transcripts (layout in models/README.md, "Chat
transcripts") and the answer feedback joined to them by queryId. Pure: the caller reads the files
and supplies a function that turns a turn's context into the sources of its prompt.

- A turn's answer feedback is the latest `feedback` event for its queryId that names no document
  (the page's thumbs; feedback naming a docId judges that document and belongs to `prepare`).
- SFT keeps turns whose feedback is "up"; with keep_unrated, also turns without feedback.
- Preference pairs: a liked and a disliked answer to *comparable* turns, which means the same
  normalised retrieval query and the same context chunks in the same order, so both answers were
  written from one identical list of numbered sources and either could follow the pair's prompt
  (the earliest liked turn's conversation).
- The split is prepare's: a stable hash of the normalised question (or of the user) picks train,
  valid or test; a held-out row whose normalised question also appears in training is dropped.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .chat_prompt import render
from .prepare import bucket_of, normalise_query, parse_ts

SPLITS = ("train", "valid", "test")
ROLES = ("user", "assistant")
ANSWER_MODES = ("llm", "extractive")
OUTCOMES = ("sft", "disliked", "unrated", "chunks_unresolved", "duplicate", "leak")


class UnresolvedChunk(Exception):
    """A context chunk whose text cannot be rebuilt; `kind` says why (a count key)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _need(cond: bool, where: str, name: str, value, expected: str) -> None:
    if not cond:
        raise ValueError(f"{where}: '{name}' is {value!r}; expected {expected}")


def _text(rec: dict, key: str, where: str, allow_empty: bool = False) -> str:
    value = rec.get(key)
    ok = isinstance(value, str) and (allow_empty or value.strip() != "")
    _need(ok, where, key, value, "a string" if allow_empty else "a non-empty string")
    return value


def validate_turn(rec: dict, where: str) -> dict:
    """A chat_turn line, checked field by field; raises ValueError naming the field, value and expectation."""
    _need(rec.get("version") == 1, where, "version", rec.get("version"), "1")
    turn = {key: _text(rec, key, where) for key in ("queryId", "principalId", "question", "answer", "model")}
    turn["retrievalQuery"] = _text(rec, "retrievalQuery", where)
    turn["ts"] = parse_ts(rec.get("ts"), where)
    mode = rec.get("answerMode")
    _need(mode in ANSWER_MODES, where, "answerMode", mode, f"one of {list(ANSWER_MODES)}")
    turn["answerMode"] = mode
    conversation = rec.get("conversation")
    _need(isinstance(conversation, list), where, "conversation", conversation, "a list of {role, content}")
    for i, m in enumerate(conversation):
        ok = isinstance(m, dict) and m.get("role") in ROLES and isinstance(m.get("content"), str)
        _need(ok, where, f"conversation[{i}]", m, f"{{role: one of {list(ROLES)}, content: string}}")
    turn["conversation"] = [{"role": m["role"], "content": m["content"]} for m in conversation]
    context = rec.get("context")
    _need(isinstance(context, list), where, "context", context, "a list of {n, chunkId, docId}")
    for i, c in enumerate(context):
        ok = (isinstance(c, dict) and c.get("n") == i + 1 and not isinstance(c.get("n"), bool)
              and all(isinstance(c.get(k), str) and c[k] for k in ("chunkId", "docId")))
        _need(ok, where, f"context[{i}]", c, f"{{n: {i + 1} (prompt order), chunkId: string, docId: string}}")
    turn["context"] = [{"n": c["n"], "chunkId": c["chunkId"], "docId": c["docId"]} for c in context]
    cited = rec.get("citedChunkIds")
    ok = isinstance(cited, list) and all(isinstance(c, str) for c in cited)
    _need(ok, where, "citedChunkIds", cited, "a list of strings")
    turn["citedChunkIds"] = list(cited)
    return turn


@dataclass
class ChatStats:
    turns: int = 0
    outcomes: dict = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    unresolved: dict = field(default_factory=dict)  # why chunks could not be joined -> turns
    answer_modes: dict = field(default_factory=dict)  # of the SFT rows written
    feedback_events: int = 0
    feedback_without_turn: int = 0
    document_feedback_ignored: int = 0
    preference_groups: int = 0
    preference_pairs_dropped_for_leak: int = 0
    rows: dict = field(default_factory=dict)


def answer_feedback(events: Iterable[dict], stats: ChatStats) -> dict[str, str]:
    """queryId -> the latest "up"/"down" on the answer, from validated feedback events."""
    latest: dict[str, tuple[float, str]] = {}
    for e in events:
        stats.feedback_events += 1
        if e.get("docId") is not None:
            stats.document_feedback_ignored += 1
            continue
        if e["queryId"] not in latest or e["ts"] >= latest[e["queryId"]][0]:
            latest[e["queryId"]] = (e["ts"], e["value"])
    return {qid: value for qid, (_, value) in latest.items()}


def split_for(key: str, valid_percent: float, test_percent: float, seed: str) -> str:
    bucket = bucket_of(key, seed)
    if bucket < valid_percent * 100:
        return "valid"
    return "test" if bucket < (valid_percent + test_percent) * 100 else "train"


def prompt_of(turn: dict, sources: list[dict]) -> list[dict]:
    return render([*turn["conversation"], {"role": "user", "content": turn["question"]}], sources)


def build(turns: list[dict], feedback: dict[str, str], sources_of: Callable[[list[dict]], list[dict]],
          keep_unrated: bool, split_by: str, valid_percent: float, test_percent: float, seed: str,
          stats: ChatStats) -> dict[str, dict[str, list[dict]]]:
    """{"sft": {split: rows}, "preference": {split: rows}}; every turn ends in exactly one stats outcome."""
    if split_by not in ("query", "user"):
        raise ValueError(f"split_by is {split_by!r}; expected 'query' or 'user'")
    split_key = (lambda t: normalise_query(t["question"])) if split_by == "query" else (lambda t: t["principalId"])
    seen: set[str] = set()
    ready: list[tuple[dict, list[dict], str | None]] = []  # (turn, prompt, feedback) of joinable turns
    for turn in sorted(turns, key=lambda t: (t["ts"], t["queryId"])):
        stats.turns += 1
        if turn["queryId"] in seen:
            stats.outcomes["duplicate"] += 1
            continue
        seen.add(turn["queryId"])
        try:
            prompt = prompt_of(turn, sources_of(turn["context"]))
        except UnresolvedChunk as e:
            stats.outcomes["chunks_unresolved"] += 1
            stats.unresolved[e.kind] = stats.unresolved.get(e.kind, 0) + 1
            continue
        ready.append((turn, prompt, feedback.get(turn["queryId"])))
    stats.feedback_without_turn = len(feedback.keys() - seen)

    sft = {s: [] for s in SPLITS}
    pending: list[tuple[str, str, dict, str]] = []  # (split, normalised question, row, answer mode)
    groups: dict[tuple, dict[str, list]] = defaultdict(lambda: {"up": [], "down": []})
    for turn, prompt, value in ready:
        if value is not None:
            key = (normalise_query(turn["retrievalQuery"]), tuple(c["chunkId"] for c in turn["context"]))
            groups[key][value].append((turn, prompt))
        if value == "down":
            stats.outcomes["disliked"] += 1
        elif value is None and not keep_unrated:
            stats.outcomes["unrated"] += 1
        else:
            row = {"messages": [*prompt, {"role": "assistant", "content": turn["answer"]}],
                   "queryId": turn["queryId"]}
            pending.append((split_for(split_key(turn), valid_percent, test_percent, seed),
                            normalise_query(turn["question"]), row, turn["answerMode"]))

    pairs: list[tuple[str, str, dict]] = []
    for key in sorted(groups):
        liked, disliked = groups[key]["up"], groups[key]["down"]
        if not liked or not disliked:
            continue
        stats.preference_groups += 1
        first, prompt = liked[0]
        done = set()
        for (good, _), (bad, _) in ((g, b) for g in liked for b in disliked):
            if good["answer"] == bad["answer"] or (good["answer"], bad["answer"]) in done:
                continue
            done.add((good["answer"], bad["answer"]))
            pairs.append((split_for(split_key(first), valid_percent, test_percent, seed),
                          normalise_query(first["question"]),
                          {"prompt": prompt, "chosen": [{"role": "assistant", "content": good["answer"]}],
                           "rejected": [{"role": "assistant", "content": bad["answer"]}],
                           "chosenQueryId": good["queryId"], "rejectedQueryId": bad["queryId"]}))

    trained = {q for side, q, *_ in [*pending, *pairs] if side == "train"}
    modes: Counter = Counter()
    for side, question, row, mode in pending:
        if side != "train" and question in trained:
            stats.outcomes["leak"] += 1
            continue
        stats.outcomes["sft"] += 1
        modes[mode] += 1
        sft[side].append(row)
    preference = {s: [] for s in SPLITS}
    for side, question, row in pairs:
        if side != "train" and question in trained:
            stats.preference_pairs_dropped_for_leak += 1
            continue
        preference[side].append(row)
    stats.answer_modes = dict(sorted(modes.items()))
    stats.rows = {f"{kind}/{s}": len(rows[s]) for kind, rows in (("sft", sft), ("preference", preference))
                  for s in SPLITS}
    return {"sft": sft, "preference": preference}
