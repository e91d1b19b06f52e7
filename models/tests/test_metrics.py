import math

import pytest

from backbone_models.metrics import mean_metrics, mrr_at_k, ndcg_at_k, recall_at_k


def test_recall_counts_relevant_ids_in_the_first_k():
    ranked = ["a", "b", "c", "d", "e"]
    assert recall_at_k(ranked, {"b", "e", "z"}, 3) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, {"b", "e", "z"}, 5) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, {"z"}, 5) == 0.0
    assert recall_at_k(ranked, set(), 5) == 0.0


def test_mrr_is_the_reciprocal_rank_of_the_first_hit_within_k():
    ranked = ["a", "b", "c", "d"]
    assert mrr_at_k(ranked, {"c", "d"}, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(ranked, {"a"}, 1) == 1.0
    assert mrr_at_k(ranked, {"d"}, 3) == 0.0


def test_ndcg_with_binary_and_graded_relevance():
    # one relevant document at rank 2: DCG = 1/log2(3), ideal = 1
    assert ndcg_at_k(["x", "a", "y"], {"a"}, 10) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 10) == pytest.approx(1.0)
    graded = {"a": 3, "b": 1}
    dcg = 1 / math.log2(2) + 3 / math.log2(3)
    idcg = 3 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(["b", "a"], graded, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["x"], set(), 10) == 0.0


def test_mean_over_queries_with_known_values():
    runs = [
        (["d1", "d2", "d3"], {"d1"}),  # recall 1, mrr 1
        (["d4", "d5", "d6"], {"d6", "d9"}),  # recall 1/2, mrr 1/3
        (["d7", "d8"], {"d0"}),  # recall 0, mrr 0
    ]
    got = mean_metrics(runs, ["recall", "mrr"], 10)
    assert got["recall@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert got["mrr@10"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert got["queries"] == 3


def test_bad_k_and_unknown_metric_are_named():
    with pytest.raises(ValueError, match="k must be a positive integer, got 0"):
        recall_at_k(["a"], {"a"}, 0)
    with pytest.raises(ValueError, match="unknown metric"):
        mean_metrics([(["a"], {"a"})], ["map"], 10)
    with pytest.raises(ValueError, match="zero queries"):
        mean_metrics([], ["mrr"], 10)
