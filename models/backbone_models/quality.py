"""The retrieval-quality benchmark's pure parts: the held-out set, dense ranking, per-query metrics
and bootstrap confidence intervals. The runner is bench/quality.py.

Queries and passages come from docs_pairs (headings and their sections). The split is by document,
so no held-out document's text is trained on; the retrieval corpus is every section of every
document (the index holds everything), the queries are the held-out documents' headings, and each
query's one relevant passage is its own section.
"""

import math
import random
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .docs_pairs import Pair, split_by_document
from .metrics import METRICS

K = 10
NAMES = ("recall", "mrr", "ndcg")


@dataclass(frozen=True)
class QualitySet:
    corpus: list[str]  # every passage; a passage's id is its position
    queries: list[str]  # held-out queries
    relevant: list[int]  # the passage id of each query's section
    embed_rows: list[dict]  # training rows for the embedder (train documents only)
    train_pairs: list[Pair]  # what the reranker's rows are drawn from (train documents only)


def quality_set(pairs: list[Pair], eval_percent: float, seed: str, max_queries: int | None = None) -> QualitySet:
    train, held = split_by_document(pairs, eval_percent, seed)
    if not train or not held:
        raise ValueError(f"the split by document left {len(train)} training and {len(held)} held-out pairs; "
                         "more documents or another eval percent are needed")
    if max_queries is not None and len(held) > max_queries:
        held = sorted(random.Random(seed).sample(held, max_queries), key=lambda p: (p.doc_id, p.query))
    corpus = list(dict.fromkeys(p.passage for p in pairs))
    position = {text: i for i, text in enumerate(corpus)}
    by_doc: dict[str, list[Pair]] = {}
    for p in train:
        by_doc.setdefault(p.doc_id, []).append(p)
    embed_rows = []
    for p in train:
        # a hard negative where the document has another section: same subject, other content
        other = next((o.passage for o in by_doc[p.doc_id] if o.passage != p.passage), None)
        embed_rows.append({"query": p.query, "positive": p.passage, **({"negative": other} if other else {})})
    return QualitySet(corpus, [p.query for p in held], [position[p.passage] for p in held], embed_rows, train)


def dense_top(query_vectors: np.ndarray, corpus_vectors: np.ndarray, depth: int) -> list[list[int]]:
    """Passage ids by cosine similarity, best first (ties by id), `depth` per query."""
    q = query_vectors / np.linalg.norm(query_vectors, axis=1, keepdims=True)
    d = corpus_vectors / np.linalg.norm(corpus_vectors, axis=1, keepdims=True)
    ids = np.arange(d.shape[0])
    return [[int(j) for j in np.lexsort((ids, -row))[:depth]] for row in q @ d.T]


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def bm25_top(queries: list[str], corpus: list[str], depth: int, k1: float = 1.2, b: float = 0.75) -> list[list[int]]:
    """Okapi BM25 over the corpus, best first (ties by id): the lexical reference, in process."""
    docs = [Counter(tokens(t)) for t in corpus]
    lengths = np.array([sum(d.values()) for d in docs], dtype=float)
    df = Counter(term for d in docs for term in d)
    n, avg = len(docs), lengths.mean()
    postings: dict[str, list[tuple[int, int]]] = {}
    for i, d in enumerate(docs):
        for term, tf in d.items():
            postings.setdefault(term, []).append((i, tf))
    ids = np.arange(n)
    out = []
    for query in queries:
        scores = np.zeros(n)
        for term in set(tokens(query)):
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            for i, tf in postings.get(term, []):
                scores[i] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[i] / avg))
        out.append([int(j) for j in np.lexsort((ids, -scores))[:depth]])
    return out


def rerank_top(ranked: list[int], scores: list[float]) -> list[int]:
    """`ranked` re-ordered by `scores` (one per item), highest first; ties keep the first order."""
    return [ranked[i] for i in sorted(range(len(ranked)), key=lambda i: (-scores[i], i))]


def per_query(runs: list[list[int]], relevant: list[int], k: int = K) -> dict[str, np.ndarray]:
    """Each metric at k for every query, with the project's metric functions."""
    return {f"{n}@{k}": np.array([METRICS[n](ranked, {rel}, k) for ranked, rel in zip(runs, relevant, strict=True)])
            for n in NAMES}


def bootstrap_ci(values: np.ndarray, resamples: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the percentile bootstrap interval of the mean over queries."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        raise ValueError("cannot bootstrap zero values")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(resamples, values.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(values.mean()), float(low), float(high)


def paired_ci(a: np.ndarray, b: np.ndarray, resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """The bootstrap interval of mean(b - a) over the same queries (b's gain over a)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired values need the same queries: {a.shape} vs {b.shape}")
    return bootstrap_ci(b - a, resamples, seed)
