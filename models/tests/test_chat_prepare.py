"""prepare-chat on transcripts written to the chat-log contract (chat_world.py)."""

import json

import pytest

from backbone_models.chat_prepare import ChatStats, build, split_for, validate_turn
from backbone_models.chat_prepare_run import run
from backbone_models.chat_prompt import render
from backbone_models.cli import main
from backbone_models.jsonl import read_jsonl

from chat_world import TOPICS, doc_text, feedback, turn, write_world


def rows(out, kind):
    return {s: list(read_jsonl(out / kind / f"{s}.jsonl")) for s in ("train", "valid", "test")}


def test_keeps_liked_turns_with_the_orchestrators_prompt_and_accounts_for_every_line(tmp_path):
    turns = [turn(i, TOPICS[i]) for i in range(12)]
    events = [feedback("q0", "up"), feedback("q1", "down"), feedback("q2", "up"),
              feedback("q3", "up"), feedback("q3", "down", ts="2026-12-07T12:00:00Z"),  # changed their mind
              feedback("q4", "up", docId="asyncio.txt"),  # judges a document, not the answer
              feedback("nobody", "up"),
              {"type": "expose", "ts": 1, "userId": "u", "queryId": "q9", "docId": "json.txt", "query": "json"}]
    bad = ["{not json", json.dumps([1]), json.dumps(turn(20, "csv", answerMode="poem")),
           json.dumps(feedback("q5", "meh")), ""]
    raw, logs = write_world(tmp_path, [*turns, *bad], events)
    out = tmp_path / "data"
    manifest = run(raw, logs, out, split_by="query", valid_percent=0, test_percent=0)

    assert manifest["lines"] == {"chat_turn": 12, "feedback": 7, "other": 1, "blank": 1, "malformed": 4, "total": 25}
    assert manifest["outcomes"] == {"sft": 2, "disliked": 2, "unrated": 8, "chunks_unresolved": 0, "duplicate": 0,
                                    "leak": 0}
    assert sum(manifest["outcomes"].values()) == manifest["turns"] == 12
    assert manifest["document_feedback_ignored"] == 1 and manifest["feedback_without_turn"] == 1
    sft = rows(out, "sft")["train"]
    assert [r["queryId"] for r in sft] == ["q0", "q2"]
    expected = render([{"role": "user", "content": "What does asyncio do?"}],
                      [{"title": "asyncio", "content": doc_text(0, "asyncio").replace("\n\n", " ")},
                       {"title": "pathlib", "content": doc_text(1, "pathlib").replace("\n\n", " ")}])
    assert sft[0]["messages"] == [*expected, {"role": "assistant", "content": turns[0]["answer"]}]
    assert len(manifest["dataVersion"]) == 64


def test_keep_unrated_adds_turns_without_feedback_but_never_disliked_ones(tmp_path):
    turns = [turn(i, TOPICS[i]) for i in range(6)]
    raw, logs = write_world(tmp_path, turns, [feedback("q0", "down"), feedback("q1", "up")])
    manifest = run(raw, logs, tmp_path / "data", keep_unrated=True, valid_percent=0, test_percent=0)
    assert manifest["outcomes"]["sft"] == 5 and manifest["outcomes"]["disliked"] == 1
    assert "q0" not in {r["queryId"] for r in rows(tmp_path / "data", "sft")["train"]}


def test_preference_pairs_come_from_comparable_turns_only(tmp_path):
    good = turn(0, "json")
    bad = turn(1, "json", answer="I do not know.", queryId="q1")
    bad["principalId"], bad["context"] = "someone-else", good["context"]  # the same sources, another user
    other_sources = turn(2, "json", answer="Nope.", queryId="q2")
    other_sources["context"] = good["context"][:1]  # a different list of sources: not comparable
    raw, logs = write_world(tmp_path, [good, bad, other_sources],
                            [feedback("q0", "up"), feedback("q1", "down"), feedback("q2", "down")])
    manifest = run(raw, logs, tmp_path / "data", valid_percent=0, test_percent=0)
    pairs = rows(tmp_path / "data", "preference")["train"]
    assert manifest["preference_groups"] == 1 and len(pairs) == 1
    assert pairs[0]["chosen"] == [{"role": "assistant", "content": good["answer"]}]
    assert pairs[0]["rejected"] == [{"role": "assistant", "content": "I do not know."}]
    assert pairs[0]["prompt"][-1] == {"role": "user", "content": "What does json do?"}
    assert (pairs[0]["chosenQueryId"], pairs[0]["rejectedQueryId"]) == ("q0", "q1")


def test_chunks_that_cannot_be_joined_drop_the_turn_and_say_why(tmp_path):
    missing = turn(0, "asyncio")
    missing["context"][0]["docId"] = "gone.txt"
    foreign = turn(1, "pathlib")
    foreign["context"][0]["chunkId"] = foreign["context"][1]["chunkId"]  # the id of another document
    beyond = turn(2, "json")
    beyond["context"][0]["chunkId"] = beyond["context"][0]["chunkId"][:-1] + "7"  # chunk 7 of a 1-chunk doc
    raw, logs = write_world(tmp_path, [missing, foreign, beyond, turn(3, "csv")],
                            [feedback(f"q{i}", "up") for i in range(4)])
    (raw / "manual.pdf").write_bytes(b"%PDF")
    manifest = run(raw, logs, tmp_path / "data", valid_percent=0, test_percent=0)
    assert manifest["outcomes"]["chunks_unresolved"] == 3 and manifest["outcomes"]["sft"] == 1
    assert manifest["unresolved"] == {"chunk_id_not_of_document": 2, "chunk_missing": 1}


def test_split_by_user_drops_held_out_rows_whose_question_was_trained():
    sources = lambda context: [{"title": "t", "content": "c"} for _ in context]  # noqa: E731
    turns = [validate_turn(turn(i, "json", principalId=f"user-{i}"), f"line {i}") for i in range(40)]
    stats = ChatStats()
    out = build(turns, {t["queryId"]: "up" for t in turns}, sources, False, "user", 20, 20, "s", stats)
    held = sum(split_for(f"user-{i}", 20, 20, "s") != "train" for i in range(40))
    assert held > 0 and stats.outcomes["leak"] == held
    assert not out["sft"]["valid"] and not out["sft"]["test"] and len(out["sft"]["train"]) == 40 - held


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("context", [{"n": 2, "chunkId": "x", "docId": "d"}], "n: 1 (prompt order)"),
    ("conversation", [{"role": "system", "content": "x"}], "role: one of ['user', 'assistant']"),
    ("answerMode", "poem", "one of ['llm', 'extractive']"),
    ("question", "  ", "a non-empty string"),
    ("version", 2, "expected 1"),
])
def test_a_bad_turn_names_the_field_the_value_and_what_was_expected(field, value, expected):
    with pytest.raises(ValueError) as e:
        validate_turn(turn(0, "json", **{field: value}), "f.jsonl:3")
    assert "f.jsonl:3" in str(e.value) and expected in str(e.value) and repr(value[0] if isinstance(value, list) else value)[:20] in str(e.value)


def test_cli_reports_bad_lines_and_refuses_an_empty_train_split(tmp_path, capsys):
    raw, logs = write_world(tmp_path, ["{oops", turn(0, "json")], [])
    code = main(["prepare-chat", "--raw", str(raw), "--logs", str(logs), "--out", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 2 and "not valid JSON" in err and "--keep-unrated" in err
    assert json.loads((tmp_path / "data" / "manifest.json").read_text())["lines"]["malformed"] == 1
