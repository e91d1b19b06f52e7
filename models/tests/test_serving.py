"""The contract over HTTP against a real TorchServe serving both archived models (models/CONTRACT.md)."""

import http.client
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import numpy as np
import pytest
from contract import MAX_EMBED_INPUTS, MAX_RERANK_DOCUMENTS, MAX_TEXT_CHARS, decode_base64_vector

from backbone_models import embedder, reranker
from backbone_models.serving_config import MAX_REQUEST_BYTES

TEXTS = ["how do i reset my password", "vpn access policy", "where is the printer driver form"]
DOCS = ["printer driver steps: install the driver from the portal", "password reset steps: open the portal",
        "vpn access policy: request access", "tax form deadline", "password reset owner"]


def call(base, path, body=None, *, raw: bytes | None = None, ctype="application/json", method="POST"):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def ok_json(response):
    status, ctype, body = response
    assert status == 200, body[:500]
    assert ctype.startswith("application/json")
    return json.loads(body)


def test_embeddings_have_the_openai_shape_and_the_contract_dimension(server):
    got = ok_json(call(server.inference, "/predictions/embed", {"input": TEXTS, "model": "embed"}))
    assert got["object"] == "list" and got["model"] == "embed"
    assert [d["index"] for d in got["data"]] == [0, 1, 2]
    assert all(d["object"] == "embedding" and len(d["embedding"]) == 768 for d in got["data"])
    assert got["usage"]["prompt_tokens"] > len(TEXTS)
    single = ok_json(call(server.inference, "/predictions/embed", {"input": TEXTS[0]}))
    # alone or padded in a batch, the same text gets the same vector up to float rounding
    assert np.allclose(single["data"][0]["embedding"], got["data"][0]["embedding"], atol=1e-5)


def test_served_vectors_equal_the_model_in_process(server, trained_embedder):
    served = ok_json(call(server.inference, "/predictions/embed", {"input": TEXTS}))
    local = embedder.load(trained_embedder[0] / "model").encode(TEXTS, convert_to_numpy=True)
    assert np.allclose([d["embedding"] for d in served["data"]], local, atol=1e-5)


def test_base64_encoding_decodes_to_the_float_output(server):
    floats = ok_json(call(server.inference, "/predictions/embed", {"input": TEXTS}))
    packed = ok_json(call(server.inference, "/predictions/embed", {"input": TEXTS, "encoding_format": "base64"}))
    for f, p in zip(floats["data"], packed["data"], strict=True):
        assert isinstance(p["embedding"], str)
        assert np.array_equal(decode_base64_vector(p["embedding"]), np.asarray(f["embedding"], dtype=np.float32))


def test_limits_hold_at_the_boundary(server):
    full = {"input": ["x " * (MAX_TEXT_CHARS // 2)] * MAX_EMBED_INPUTS, "encoding_format": "base64"}
    assert len(ok_json(call(server.inference, "/predictions/embed", full))["data"]) == MAX_EMBED_INPUTS
    docs = {"query": "q", "documents": ["password reset"] * MAX_RERANK_DOCUMENTS, "top_n": 2}
    assert len(ok_json(call(server.inference, "/predictions/rerank", docs))["results"]) == 2


def test_rerank_has_the_cohere_shape_sorted_highest_first(server, trained_reranker):
    query = "how do i reset my password"
    got = ok_json(call(server.inference, "/predictions/rerank", {"query": query, "documents": DOCS}))
    scores = [r["relevance_score"] for r in got["results"]]
    assert scores == sorted(scores, reverse=True)
    assert sorted(r["index"] for r in got["results"]) == list(range(len(DOCS)))
    assert all(0.0 <= s <= 1.0 for s in scores)
    local = reranker.load(trained_reranker[0] / "model").predict([(query, d) for d in DOCS])
    assert [r["index"] for r in got["results"]] == sorted(range(len(DOCS)), key=lambda i: (-float(local[i]), i))
    assert np.allclose(scores, sorted(local.tolist(), reverse=True), atol=1e-5)
    top = ok_json(call(server.inference, "/predictions/rerank",
                       {"query": query, "documents": DOCS, "top_n": 2, "return_documents": True}))
    assert top["results"] == [{**r, "document": {"text": DOCS[r["index"]]}} for r in got["results"][:2]]


EMBED_ERRORS = [
    ("invalid JSON", None, b'{"input": [', "application/json", "not valid JSON"),
    ("array body", [1, 2], None, "application/json", "must be a JSON object"),
    ("no body", None, b"", "application/json", "request body is missing"),
    ("missing input", {"texts": ["a"]}, None, "application/json", "'input' is required"),
    ("empty input", {"input": []}, None, "application/json", "'input' is empty"),
    ("non-string item", {"input": ["a", 2]}, None, "application/json", "'input[1]' must be a string"),
    ("blank item", {"input": ["a", "  "]}, None, "application/json", "'input[1]' is empty"),
    ("too many items", {"input": ["a"] * (MAX_EMBED_INPUTS + 1)}, None, "application/json", "the limit is 256"),
    ("item too long", {"input": ["a" * (MAX_TEXT_CHARS + 1)]}, None, "application/json", "the limit is 8192"),
    ("bad encoding_format", {"input": ["a"], "encoding_format": "hex"}, None, "application/json", "'encoding_format'"),
    ("wrong dimensions", {"input": ["a"], "dimensions": 512}, None, "application/json", "produces exactly 768"),
]
RERANK_ERRORS = [
    ("missing query", {"documents": ["a"]}, "'query' is required"),
    ("query not a string", {"query": ["q"], "documents": ["a"]}, "'query' must be a string"),
    ("missing documents", {"query": "q"}, "'documents' is required"),
    ("empty documents", {"query": "q", "documents": []}, "'documents' is empty"),
    ("too many documents", {"query": "q", "documents": ["a"] * (MAX_RERANK_DOCUMENTS + 1)}, "the limit is 256"),
    ("document too long", {"query": "q", "documents": ["a" * (MAX_TEXT_CHARS + 1)]}, "the limit is 8192"),
    ("top_n zero", {"query": "q", "documents": ["a"], "top_n": 0}, "'top_n' is 0"),
    ("top_n string", {"query": "q", "documents": ["a"], "top_n": "2"}, "'top_n' is '2'"),
]


def assert_json_error(response, message):
    status, ctype, body = response
    assert 400 <= status < 500, (status, body[:300])
    assert ctype.startswith("application/json")
    error = json.loads(body)["error"]
    assert message in error["message"]
    assert "Traceback" not in body.decode()


@pytest.mark.parametrize(("case", "body", "raw", "ctype", "message"), EMBED_ERRORS, ids=[c[0] for c in EMBED_ERRORS])
def test_bad_embeddings_requests_get_a_400_json_error(server, case, body, raw, ctype, message):
    assert_json_error(call(server.inference, "/predictions/embed", body, raw=raw, ctype=ctype), message)
    ok_json(call(server.inference, "/predictions/embed", {"input": ["still serving"]}))


@pytest.mark.parametrize(("case", "body", "message"), RERANK_ERRORS, ids=[c[0] for c in RERANK_ERRORS])
def test_bad_rerank_requests_get_a_400_json_error(server, case, body, message):
    assert_json_error(call(server.inference, "/predictions/rerank", body), message)
    ok_json(call(server.inference, "/predictions/rerank", {"query": "q", "documents": ["still serving"]}))


def test_a_request_over_the_size_limit_is_refused_and_the_server_keeps_serving(server):
    # Netty answers from the Content-Length header alone, before reading the body, and closes
    conn = http.client.HTTPConnection(urlsplit(server.inference).netloc, timeout=30)
    conn.putrequest("POST", "/predictions/embed")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(MAX_REQUEST_BYTES + 1))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413
    conn.close()
    ok_json(call(server.inference, "/predictions/embed", {"input": ["still serving"]}))


def test_concurrent_good_and_bad_requests_each_get_their_own_answer(server):
    """Requests that TorchServe batches together keep their own status and body."""
    bodies = [{"input": [f"text {i}"]} if i % 2 == 0 else {"input": i} for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda b: call(server.inference, "/predictions/embed", b), bodies))
    for i, (status, _, body) in enumerate(responses):
        if i % 2 == 0:
            assert status == 200 and len(json.loads(body)["data"]) == 1
        else:
            assert status == 400 and "'input' must be an array of strings, got int" in json.loads(body)["error"]["message"]


def test_only_loopback_listeners_and_no_model_registration(server):
    status, _, _ = call(server.management, "/models?url=embed.mar", method="POST", ctype=None)
    assert 400 <= status < 500  # enable_model_api=false
    status, _, _ = call(server.inference, "/predictions/nope", {"input": ["a"]})
    assert status == 404
