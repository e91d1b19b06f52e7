"""Pairs from a docs folder: sections at headings, markup removed, unique queries, a stable split
by document, and reranker rows with hard and random negatives."""

import pytest

from backbone_models.docs_pairs import (
    Pair,
    clean,
    docs_hash,
    pairs_from_docs,
    read_docs,
    rerank_rows,
    split_by_document,
    split_sections,
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


def test_rerank_rows_have_one_positive_then_negatives_from_the_same_and_other_documents():
    pairs = [Pair(f"q{d}{s}", f"doc{d}", f"passage {d}.{s}") for d in range(5) for s in range(3)]
    rows = rerank_rows(pairs, negatives=3, seed=1)
    assert len(rows) == 4 * len(pairs)
    first = rows[:4]
    assert first[0] == {"query": "q00", "document": "passage 0.0", "label": 1}
    assert first[1]["document"].startswith("passage 0.") and first[1]["document"] != "passage 0.0"
    assert all(not r["document"].startswith("passage 0.") for r in first[2:])
    assert all(r["label"] == 0 for r in first[1:])
    assert rerank_rows(pairs, negatives=3, seed=1) == rows


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
