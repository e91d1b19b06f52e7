"""The contract's parsing and response shapes, directly (the HTTP tests go through TorchServe)."""

import json
import re

import numpy as np
import pytest
from contract import (
    MAX_EMBED_INPUTS,
    MAX_QUERY_CHARS,
    MAX_RERANK_DOCUMENTS,
    MAX_TEXT_CHARS,
    ContractError,
    decode_base64_vector,
    embeddings_response,
    parse_embeddings,
    parse_rerank,
    rerank_response,
    wire_score,
)


def test_embeddings_request_accepts_the_openai_shape():
    assert parse_embeddings({"input": ["a", "b"], "model": "embed"}, 768) == (["a", "b"], "float")
    assert parse_embeddings({"input": "a", "encoding_format": "base64", "dimensions": 768}, 768) == (["a"], "base64")
    assert parse_embeddings(b'{"input": ["x"]}', 768) == (["x"], "float")
    assert len(parse_embeddings({"input": ["x" * MAX_TEXT_CHARS] * MAX_EMBED_INPUTS}, 768)[0]) == MAX_EMBED_INPUTS


def test_rerank_request_accepts_the_cohere_shape():
    q, docs, top_n, ret = parse_rerank({"query": "q", "documents": ["a", {"text": "b"}], "top_n": 5})
    assert (q, docs, top_n, ret) == ("q", ["a", "b"], 2, False)
    assert parse_rerank({"query": "q", "documents": ["a", "b", "c"], "top_n": 1, "return_documents": True})[2:] == (1, True)


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        (None, None, "request body is missing"),
        (b"{", None, "not valid JSON"),
        ([1], None, "must be a JSON object, got a JSON list"),
        ({}, "input", "'input' is required"),
        ({"input": []}, "input", "'input' is empty"),
        ({"input": [1]}, "input[0]", "'input[0]' must be a string, got int"),
        ({"input": ["ok", " "]}, "input[1]", "'input[1]' is empty"),
        ({"input": ["x"] * (MAX_EMBED_INPUTS + 1)}, "input", f"has {MAX_EMBED_INPUTS + 1} items; the limit is {MAX_EMBED_INPUTS}"),
        ({"input": ["x" * (MAX_TEXT_CHARS + 1)]}, "input[0]", f"the limit is {MAX_TEXT_CHARS}"),
        ({"input": ["x"], "encoding_format": "int8"}, "encoding_format", "expected one of ['float', 'base64']"),
        ({"input": ["x"], "dimensions": 256}, "dimensions", "produces exactly 768"),
        ({"input": ["x"], "model": 3}, "model", "'model' must be a string"),
    ],
)
def test_bad_embeddings_requests_name_the_problem(body, param, message):
    with pytest.raises(ContractError, match=message.replace("[", r"\[").replace("]", r"\]")) as e:
        parse_embeddings(body, 768)
    assert e.value.param == param and e.value.status == 400


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        ({"documents": ["a"]}, "query", "'query' is required"),
        ({"query": "", "documents": ["a"]}, "query", "'query' is empty"),
        ({"query": "q" * (MAX_QUERY_CHARS + 1), "documents": ["a"]}, "query", f"the limit is {MAX_QUERY_CHARS}"),
        ({"query": "q"}, "documents", "'documents' is required"),
        ({"query": "q", "documents": "a"}, "documents", "must be an array of strings, got str"),
        ({"query": "q", "documents": ["a"] * (MAX_RERANK_DOCUMENTS + 1)}, "documents", f"the limit is {MAX_RERANK_DOCUMENTS}"),
        ({"query": "q", "documents": ["a", None]}, "documents[1]", "must be a string, got NoneType"),
        ({"query": "q", "documents": ["a"], "top_n": 0}, "top_n", "'top_n' is 0; expected a positive integer"),
        ({"query": "q", "documents": ["a"], "top_n": True}, "top_n", "'top_n' is True"),
        ({"query": "q", "documents": ["a"], "return_documents": "yes"}, "return_documents", "must be a boolean"),
    ],
)
def test_bad_rerank_requests_name_the_problem(body, param, message):
    with pytest.raises(ContractError, match=message.replace("[", r"\[").replace("]", r"\]")) as e:
        parse_rerank(body)
    assert e.value.param == param


def test_base64_round_trips_float32():
    vectors = np.random.default_rng(0).standard_normal((2, 768)).astype(np.float32)
    body = embeddings_response(vectors, "base64", "embed", 7)
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert np.array_equal(decode_base64_vector(body["data"][1]["embedding"]), vectors[1])
    assert embeddings_response(vectors, "float", "embed", 7)["data"][0]["embedding"] == vectors[0].tolist()


def test_rerank_results_are_sorted_highest_first_and_cut_at_top_n():
    body = rerank_response([0.1, 0.9, 0.5, 0.9], ["a", "b", "c", "d"], 3, True, "rerank")
    assert [r["index"] for r in body["results"]] == [1, 3, 2]  # ties keep the request's order
    assert body["results"][0]["document"] == {"text": "b"}


@pytest.mark.parametrize("score", [-0.12345678901234568, 0.9999999403953552, 1.0, 0.0, 3.0517578125e-05,
                                   -1.2345678901234567e-300, 123456789.123456789])
def test_wire_scores_are_short_floats_that_json_smart_reads_as_double(score):
    text = json.dumps(wire_score(score))
    assert re.search(r"[.eE]", text) and len(text) <= 18, text
    assert abs(wire_score(score) - score) <= abs(score) * 1e-8
