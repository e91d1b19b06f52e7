"""The Debian corpus of the retrieval-quality benchmark: parsing, selection, split and that nothing
held out reaches training."""

import sys
from pathlib import Path

import pytest

from backbone_models import debian
from backbone_models.quality import bm25_top

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

TRANSLATION = """Package: 0ad
Description-md5: d943033bedada21853d2ae54a2578a7b
Description-en: Real-time strategy game of ancient warfare
 0 A.D. (pronounced "zero ey-dee") is a free, open-source, cross-platform
 real-time strategy (RTS) game of ancient warfare.
 .
 It is a historically-based war/economy game.

Package: 0ad
Description-md5: ffff
Description-en: a second stanza of the same package
 is ignored

Package: tiny
Description-en: short
"""


def test_parse_translations_reads_synopsis_and_long_description():
    parsed = debian.parse_translations(TRANSLATION)
    assert parsed["0ad"] == ("Real-time strategy game of ancient warfare",
                             '0 A.D. (pronounced "zero ey-dee") is a free, open-source, cross-platform\n'
                             "real-time strategy (RTS) game of ancient warfare.\n\nIt is a historically-based "
                             "war/economy game.")
    assert parsed["tiny"] == ("short", "")


def entries(n: int) -> dict[str, tuple[str, str]]:
    return {f"pkg{i}": (f"synopsis {i}", f"long description number {i} " + "words " * 20) for i in range(n)}


def test_select_drops_shared_synopses_and_descriptions_and_short_ones():
    e = entries(10)
    e["dup-a"] = ("Same Synopsis", "a long description " * 10)
    e["dup-b"] = ("same  synopsis", "another long description " * 10)
    e["twin-a"] = ("twin a", "identical text " * 10)
    e["twin-b"] = ("twin b", "identical text " * 10)
    e["short"] = ("short one", "too short")
    chosen = debian.select(e, 10, "seed")
    assert {p.name for p in chosen} == {f"pkg{i}" for i in range(10)}
    with pytest.raises(ValueError, match="only 10 usable"):
        debian.select(e, 11, "seed")
    with pytest.raises(ValueError, match="--packages is 0"):
        debian.select(e, 0, "seed")


def test_selection_and_hash_are_deterministic_and_follow_the_input():
    e = entries(50)
    a, b = debian.select(e, 20, "s"), debian.select(dict(reversed(list(e.items()))), 20, "s")
    assert a == b and debian.corpus_hash(a) == debian.corpus_hash(b)
    assert debian.corpus_hash(debian.select(e, 20, "other seed")) != debian.corpus_hash(a)


def test_split_is_by_package_name_and_about_twenty_percent():
    chosen = debian.select(entries(2000), 2000, "s")
    train, held = debian.split(chosen, 20, "s")
    assert not {p.name for p in train} & {p.name for p in held}
    assert len(train) + len(held) == 2000
    assert 0.17 < len(held) / 2000 < 0.23
    assert debian.queries(held, 5, "s") == debian.queries(held, 5, "s")
    assert len(debian.queries(held, None, "s")) == len(held)


def test_nothing_held_out_reaches_the_training_rows():
    chosen = debian.select(entries(400), 400, "s")
    train, held = debian.split(chosen, 20, "s")
    lexical = bm25_top([p.synopsis for p in train], [p.long for p in train], 11)
    rows = debian.rerank_rows(train, lexical, 10_000, 2, 1, 0) + debian.embed_rows(train)
    trained = {text for r in rows for key, text in r.items() if key != "label"}
    held_texts = {p.synopsis for p in held} | {p.long for p in held}
    assert trained and not trained & held_texts
    assert trained <= {p.synopsis for p in train} | {p.long for p in train}


def test_rerank_rows_give_each_query_its_positive_and_negatives_of_other_packages():
    train = debian.select(entries(30), 30, "s")
    lexical = bm25_top([p.synopsis for p in train], [p.long for p in train], 11)
    rows = debian.rerank_rows(train, lexical, 8, 2, 1, 0)
    assert len(rows) == 8 * 4
    long_of = {p.synopsis: p.long for p in train}
    for r in rows:
        assert (r["document"] == long_of[r["query"]]) == (r["label"] == 1)


def test_report_scores_packages_once_each():
    import quality_stack

    assert quality_stack.doc_ids(["a.txt", "b.txt", "a.txt", "c.txt"]) == ["a", "b", "c"]
    s = quality_stack.scores([["x.txt", "x.txt", "a.txt"], ["b.txt"]], ["a", "c"])
    assert s["mrr@10"].tolist() == [0.5, 0.0]
    with pytest.raises(ValueError, match="1 rankings for 2 queries"):
        quality_stack.scores([["a.txt"]], ["a", "b"])
