"""Ranking metrics as pure functions of a ranked list of ids and the set (or grades) of relevant ids.

Binary relevance for recall and MRR; NDCG takes graded relevance (a dict id -> gain) or a set
(every member gains 1). Averages over queries live in `mean_metrics`.
"""

import math
from collections.abc import Iterable, Mapping, Sequence


def _check_k(k: int) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")


def recall_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Share of the relevant ids that appear in the first k of `ranked` (0 when nothing is relevant)."""
    _check_k(k)
    relevant = set(relevant)
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Reciprocal rank of the first relevant id within the first k, else 0."""
    _check_k(k)
    relevant = set(relevant)
    for rank, doc in enumerate(ranked[:k], start=1):
        if doc in relevant:
            return 1.0 / rank
    return 0.0


def _gains(relevant: Iterable[str] | Mapping[str, float]) -> dict[str, float]:
    if isinstance(relevant, Mapping):
        return {doc: float(g) for doc, g in relevant.items() if g > 0}
    return {doc: 1.0 for doc in relevant}


def ndcg_at_k(ranked: Sequence[str], relevant: Iterable[str] | Mapping[str, float], k: int) -> float:
    """Normalised discounted cumulative gain at k with linear gains and log2(rank + 1) discounts."""
    _check_k(k)
    gains = _gains(relevant)
    dcg = sum(gains.get(doc, 0.0) / math.log2(rank + 1) for rank, doc in enumerate(ranked[:k], start=1))
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


METRICS = {"recall": recall_at_k, "mrr": mrr_at_k, "ndcg": ndcg_at_k}


def mean_metrics(
    runs: Sequence[tuple[Sequence[str], Iterable[str] | Mapping[str, float]]],
    names: Sequence[str],
    k: int,
) -> dict[str, float]:
    """Mean of each named metric at k over (ranked, relevant) pairs, keyed like `recall@10`."""
    if not runs:
        raise ValueError("cannot average metrics over zero queries")
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; expected some of {sorted(METRICS)}")
    out = {}
    for name in names:
        fn = METRICS[name]
        out[f"{name}@{k}"] = sum(fn(list(r), rel, k) for r, rel in runs) / len(runs)
    out["queries"] = len(runs)
    return out
