"""Pairs from a docs folder: sections at headings, markup removed, unique queries, a stable split
by document, and reranker rows with negatives from an embedder's top-k."""

import pytest

from backbone_models.docs_pairs import (
    Pair,
    clean,
    docs_hash,
    mined_rows,
    pairs_from_docs,
    read_docs,
    split_by_document,
    split_sections,
    training_sample,
)

ARGPARSE = """:mod:`argparse` --- Parser for command-line options
=====================================================

.. module:: argparse
   :synopsis: Command-line option and argument parsing library.

The :mod:`argparse` module makes it easy to write user-friendly command-line interfaces, see
`the tutorial <https://docs.python.org/3/howto/argparse.html>`_ and ``sys.argv`` for **more**.

Example
-------

The following code is a Python program that takes a list of integers and produces the sum or the max.

====== ======
Name   Value
====== ======

Short
-----

too short
"""
TARFILE = """tarfile --- Read and write tar archive files
============================================

The tarfile module makes it possible to read and write tar archives, including those using gzip compression.

Example
-------

How to extract an entire tar archive to the current working directory, with the extractall method of TarFile.
"""


def test_sections_start_at_underlined_headings_and_drop_short_bodies():
    sections = split_sections("argparse.rst.txt", ARGPARSE)
    assert [s.heading for s in sections] == ["argparse --- Parser for command-line options", "Example"]
    assert sections[0].text.startswith("The argparse module makes it easy")
    assert "synopsis" not in sections[0].text and "==" not in sections[1].text


def test_markdown_headings_split_too():
    text = "# Title\n\n" + "a body long enough to count as a passage of its own, really. " * 2 + "\n## Next\n\nshort"
    assert [s.heading for s in split_sections("a.md", text)] == ["Title"]


def test_clean_removes_roles_links_literals_and_emphasis():
    assert clean(":class:`~argparse.Namespace` and `docs <https://x>`_ and ``x=1`` and **bold** and *it*") == \
        "argparse.Namespace and docs and x=1 and bold and it"


def test_a_heading_shared_by_documents_is_qualified_by_the_document():
    pairs = pairs_from_docs({"argparse.rst.txt": ARGPARSE, "tarfile.rst.txt": TARFILE})
    assert [p.query for p in pairs] == ["argparse --- Parser for command-line options", "argparse: Example",
                                        "tarfile --- Read and write tar archive files", "tarfile: Example"]
    assert len({p.query for p in pairs}) == len(pairs)


def test_the_split_is_by_document_and_stable():
    pairs = [Pair(f"q{i}", f"doc{i % 40}", "p") for i in range(400)]
    train, held = split_by_document(pairs, 20, "seed")
    assert not {p.doc_id for p in train} & {p.doc_id for p in held}
    assert 0 < len({p.doc_id for p in held}) < 20
    assert split_by_document(pairs, 20, "seed") == (train, held)
    with pytest.raises(ValueError, match="eval_percent is 100"):
        split_by_document(pairs, 100, "seed")


def test_mined_rows_have_one_positive_then_negatives_from_the_embedders_top_only():
    pairs = [Pair(f"q{i}", f"doc{i % 3}", f"passage {i}") for i in range(6)]
    # each query's ranking puts its own passage second, then the others by distance
    ranked = [[f"passage {(i + 1) % 6}", f"passage {i}"] + [f"passage {(i + k) % 6}" for k in range(2, 6)]
              for i in range(6)]
    rows = mined_rows(pairs, ranked, negatives=2, depth=3, seed=1)
    assert len(rows) == 3 * len(pairs)
    for i in range(6):
        first, negs = rows[3 * i], rows[3 * i + 1: 3 * i + 3]
        assert first == {"query": f"q{i}", "document": f"passage {i}", "label": 1}
        top = {f"passage {(i + k) % 6}" for k in (1, 2, 3)}  # its depth-3 candidates without itself
        assert all(r["label"] == 0 and r["document"] in top for r in negs)
        assert len({r["document"] for r in negs}) == 2
    assert mined_rows(pairs, ranked, negatives=2, depth=3, seed=1) == rows


def test_mined_rows_refuse_bad_input():
    pairs = [Pair("q", "doc", "passage")]
    with pytest.raises(ValueError, match="negatives is 0"):
        mined_rows(pairs, [["other"]], negatives=0, depth=3)
    with pytest.raises(ValueError, match="one per pair"):
        mined_rows(pairs, [], negatives=1, depth=3)


def test_training_sample_fills_about_steps_times_batch_rows():
    pairs = [Pair(f"q{i}", f"doc{i}", f"passage {i}") for i in range(100)]
    assert len(training_sample(pairs, 10, 8, 3, 0)) == 20
    assert len(training_sample(pairs, 1000, 8, 3, 0)) == 100
    assert training_sample(pairs, 10, 8, 3, 0) == training_sample(pairs, 10, 8, 3, 0)


def test_docs_are_read_sorted_and_hashed_by_content(tmp_path):
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "a.md").write_text("a")
    (tmp_path / "skip.bin").write_text("x")
    docs = read_docs(tmp_path)
    assert list(docs) == ["a.md", "b.txt"]
    before = docs_hash(docs)
    (tmp_path / "b.txt").write_text("b changed")
    assert docs_hash(read_docs(tmp_path)) != before
    with pytest.raises(FileNotFoundError, match="--docs is .* not a folder"):
        read_docs(tmp_path / "missing")
    with pytest.raises(ValueError, match="holds no .txt, .md, .rst files"):
        read_docs(tmp_path / "empty") if (tmp_path / "empty").mkdir() is None else None
