"""Training, evaluation and packaging of the search backbone's embedder and reranker."""
