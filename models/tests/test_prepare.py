"""Training pairs from a small, hand-written event log with known answers, and the synthetic world's
split checked for leaks."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backbone_models.jsonl import read_jsonl
from backbone_models.prepare import PrepareStats, build_rows, judge, normalise_query, split_of, validate_event

DOCS = {f"d{i}": f"text of document {i}" for i in range(1, 8)}


def ev(kind, qid, doc=None, ts=0, query=None, user="u1", **extra):
    e = {"type": kind, "queryId": qid, "userId": user, "ts": ts, **extra}
    if doc is not None:
        e["docId"] = doc
    if query is not None:
        e["query"] = query
    return validate_event(e, "sample")


SAMPLE = [
    # q1: d1, d2, d3 exposed; d2 clicked after exposure -> d2 positive, d1 and d3 hard negatives
    ev("expose", "q1", "d1", 1000, "Reset Password"),
    ev("expose", "q1", "d2", 1000, "Reset Password"),
    ev("expose", "q1", "d3", 1000, "Reset Password"),
    ev("click", "q1", "d2", 2000),
    # q2: a chat citation opened is a positive; a click logged before the exposure is not
    ev("expose", "q2", "d4", 5000, "vpn access", user="u2"),
    ev("expose", "q2", "d5", 5000, "vpn access", user="u2"),
    ev("click", "q2", "d5", 4000, user="u2"),
    ev("citation_open", "q2", "d4", 6000, user="u2"),
    # q3: clicked d6 but feedback "down" on it; feedback "up" on exposed d7 -> d7 positive, d6 negative
    ev("expose", "q3", "d6", 7000, "printer driver", user="u3"),
    ev("expose", "q3", "d7", 7000, "printer driver", user="u3"),
    ev("click", "q3", "d6", 8000, user="u3"),
    ev("feedback", "q3", "d6", 9000, user="u3", value="down"),
    ev("feedback", "q3", "d7", 9000, user="u3", value="up"),
    # q4: exposed, never engaged -> dropped; q5: a click without any exposure
    ev("expose", "q4", "d1", 10000, "holiday calendar"),
    ev("click", "q5", "d1", 11000),
]


def test_exposure_then_engagement_is_positive_and_unclicked_is_hard_negative():
    stats = PrepareStats()
    judged = judge(SAMPLE, stats)
    assert set(judged) == {"q1", "q2", "q3"}
    assert judged["q1"].positives == {"d2"} and judged["q1"].negatives == {"d1", "d3"}
    assert judged["q2"].positives == {"d4"} and judged["q2"].negatives == {"d5"}
    assert judged["q3"].positives == {"d7"} and judged["q3"].negatives == {"d6"}
    assert stats.engagements_without_exposure == 2  # q2's early click and q5's orphan click
    assert stats.queries_seen == 4


def test_rows_join_document_text_and_carry_negatives():
    stats = PrepareStats()
    rows = build_rows(judge(SAMPLE, stats), DOCS, "query", 50.0, "s", stats)
    embed = rows["train"]["embedder"] + rows["eval"]["embedder"]
    rerank = rows["train"]["reranker"] + rows["eval"]["reranker"]
    q1 = [r for r in embed if r["query"] == "Reset Password"]
    assert q1 == [{"query": "Reset Password", "positive": DOCS["d2"], "positiveId": "d2",
                   "negative": DOCS["d1"], "negativeId": "d1"}]
    labels = {(r["query"], r["docId"]): r["label"] for r in rerank}
    assert labels == {("Reset Password", "d2"): 1, ("Reset Password", "d1"): 0, ("Reset Password", "d3"): 0,
                      ("vpn access", "d4"): 1, ("vpn access", "d5"): 0,
                      ("printer driver", "d7"): 1, ("printer driver", "d6"): 0}
    assert stats.positives == 3 and stats.hard_negatives == 4


def test_documents_without_text_are_counted_and_left_out():
    stats = PrepareStats()
    docs = {k: v for k, v in DOCS.items() if k != "d3"}
    rows = build_rows(judge(SAMPLE, stats), docs, "query", 50.0, "s", stats)
    assert stats.docs_missing_text == 1
    assert all(r["docId"] != "d3" for side in rows.values() for r in side["reranker"])


def test_split_by_user_drops_eval_queries_seen_in_training():
    events = []
    for n, user in enumerate(f"user{i}" for i in range(40)):
        qid = f"q{n}"
        events += [ev("expose", qid, "d1", 0, "Same  Query", user=user), ev("expose", qid, "d2", 0, "same query", user=user),
                   ev("click", qid, "d1", 1, user=user)]
    stats = PrepareStats()
    rows = build_rows(judge(events, stats), DOCS, "user", 30.0, "s", stats)
    assert rows["train"]["embedder"] and not rows["eval"]["embedder"]
    assert stats.eval_rows_dropped_for_leak > 0


def test_split_is_stable_and_near_the_asked_share():
    keys = [f"query {i}" for i in range(2000)]
    sides = [split_of(k, 10.0, "seed") for k in keys]
    assert sides == [split_of(k, 10.0, "seed") for k in keys]
    assert 150 < sides.count("eval") < 250


def test_synthetic_world_split_has_no_query_on_both_sides(world):
    def queries(side, kind):
        return {normalise_query(r["query"]) for r in read_jsonl(world["data"] / kind / f"{side}.jsonl")}

    for kind in ("embedder", "reranker"):
        train, held_out = queries("train", kind), queries("eval", kind)
        assert train and held_out
        assert not train & held_out
    stats = json.loads((world["data"] / "prepare-stats.json").read_text())
    assert stats["positives"] > 0 and stats["hard_negatives"] > 0
    rows = list(read_jsonl(world["data"] / "embedder" / "train.jsonl"))
    assert any("negative" in r for r in rows)
    assert all(r["positive"] and r["positive"] != r.get("negative") for r in rows)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"type": "view", "queryId": "q", "userId": "u", "ts": 0, "docId": "d"}, "'type' is 'view'"),
        ({"type": "click", "queryId": "", "userId": "u", "ts": 0, "docId": "d"}, "'queryId' must be a non-empty string"),
        ({"type": "click", "queryId": "q", "userId": "u", "ts": 0}, "need a non-empty string 'docId'"),
        ({"type": "expose", "queryId": "q", "userId": "u", "ts": 0, "docId": "d"}, "need a non-empty string 'query'"),
        ({"type": "feedback", "queryId": "q", "userId": "u", "ts": 0, "value": "meh"}, "'value' is 'meh'"),
        ({"type": "click", "queryId": "q", "userId": "u", "ts": "yesterday", "docId": "d"}, "'ts' must be"),
    ],
)
def test_bad_events_are_rejected_naming_the_field(event, message):
    with pytest.raises(ValueError, match=message):
        validate_event(event, "logs/x.jsonl:3")


def test_iso_timestamps_and_epoch_millis_agree():
    a = validate_event({"type": "click", "queryId": "q", "userId": "u", "docId": "d", "ts": "2026-11-01T00:00:01Z"}, "x")
    b = validate_event({"type": "click", "queryId": "q", "userId": "u", "docId": "d", "ts": 1793491201000}, "x")
    assert a["ts"] == b["ts"]


def test_prepare_command_line_runs_and_reports_bad_input(world, tmp_path):
    models_dir = Path(__file__).resolve().parent.parent
    cmd = [sys.executable, "-m", "backbone_models.cli", "prepare", "--events", str(world["logs"]),
           "--raw", str(world["raw"]), "--out", str(tmp_path / "out")]
    done = subprocess.run(cmd, cwd=models_dir, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "[prepare" in done.stderr and "hard negatives" in done.stderr
    assert json.loads(done.stdout)["positives"] > 0
    assert (tmp_path / "out" / "reranker" / "eval.jsonl").is_file()
    bad = subprocess.run(cmd + ["--eval-percent", "0"], cwd=models_dir, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "--eval-percent is 0.0; expected a number between 0 and 100" in bad.stderr
