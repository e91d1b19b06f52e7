"""The quality benchmark's pure parts: nothing from a held-out document reaches training, BM25 and
dense ranking order as expected, and the bootstrap intervals behave."""

import numpy as np
import pytest

from backbone_models.docs_pairs import Pair, training_rows
from backbone_models.quality import bm25_top, bootstrap_ci, dense_top, paired_ci, per_query, quality_set, rerank_top


def pairs(docs=30, sections=4):
    return [Pair(f"query {d}.{s}", f"doc{d}", f"passage about topic {d} part {s}") for d in range(docs)
            for s in range(sections)]


def test_nothing_from_a_held_out_document_is_trained_on():
    all_pairs = pairs()
    qs = quality_set(all_pairs, 20, "seed")
    held_passages = {qs.corpus[i] for i in qs.relevant}
    held_docs = {p.doc_id for p in all_pairs if p.passage in held_passages}
    assert held_docs and not held_docs & {p.doc_id for p in qs.train_pairs}
    trained_texts = {t for r in qs.embed_rows for t in (r["query"], r["positive"], r.get("negative"))}
    trained_texts |= {t for r in training_rows(qs.train_pairs, 50, 16, 3, 0) for t in (r["query"], r["document"])}
    assert not trained_texts & (held_passages | set(qs.queries))
    # the retrieval corpus still holds every passage: held-out documents are searched, not trained on
    assert len(qs.corpus) == len(all_pairs)
    assert all(r.get("negative") for r in qs.embed_rows)


def test_max_queries_samples_the_held_out_queries_stably():
    a = quality_set(pairs(), 20, "seed", max_queries=5)
    assert len(a.queries) == 5 and a == quality_set(pairs(), 20, "seed", max_queries=5)


def test_bm25_ranks_the_document_with_the_rare_term_first():
    corpus = ["the cat sat", "the dog sat on the mat", "zebra crossing at the mat"]
    assert bm25_top(["zebra mat"], corpus, 3)[0] == [2, 1, 0]


def test_dense_top_orders_by_cosine_and_breaks_ties_by_id():
    corpus = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]])
    assert dense_top(np.array([[1.0, 0.1]]), corpus, 3) == [[0, 2, 1]]


def test_rerank_top_and_per_query_metrics():
    assert rerank_top([7, 3, 5], [0.1, 0.9, 0.1]) == [3, 7, 5]
    got = per_query([[1, 2, 3], [4, 5, 6]], [2, 9], k=10)
    assert got["mrr@10"].tolist() == [0.5, 0.0] and got["recall@10"].tolist() == [1.0, 0.0]


def test_bootstrap_interval_contains_the_mean_and_narrows_with_more_queries():
    rng = np.random.default_rng(1)
    small, large = rng.random(30), rng.random(3000)
    mean, low, high = bootstrap_ci(small)
    assert low <= mean <= high
    assert bootstrap_ci(large)[2] - bootstrap_ci(large)[1] < high - low
    assert bootstrap_ci(np.ones(10)) == (1.0, 1.0, 1.0)
    assert paired_ci(np.zeros(5), np.ones(5)) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="same queries"):
        paired_ci(np.zeros(3), np.zeros(4))
