"""The model-endpoint contract (models/CONTRACT.md) as pure validation and response-building code.

Shipped inside each .mar beside the handler, so it imports nothing but the standard library and
numpy. Every client error raises ContractError with the offending parameter and a message that
names the field, the value's problem and what was expected.
"""

import base64
import json

import numpy as np

MAX_EMBED_INPUTS = 256
MAX_RERANK_DOCUMENTS = 256
MAX_TEXT_CHARS = 8192
MAX_QUERY_CHARS = 2048
ENCODING_FORMATS = ("float", "base64")


class ContractError(Exception):
    def __init__(self, message: str, param: str | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.param, self.status = message, param, status


def parse_body(body) -> dict:
    """TorchServe hands the handler a parsed dict for application/json, raw bytes when parsing
    failed or another content type was sent, and None for an empty body."""
    if body is None or (isinstance(body, bytes | bytearray) and not body.strip()):
        raise ContractError("request body is missing; send a JSON object with Content-Type: application/json")
    if isinstance(body, bytes | bytearray):
        try:
            body = json.loads(bytes(body).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ContractError(f"request body is not valid JSON ({e.__class__.__name__}: {e})") from None
    if not isinstance(body, dict):
        raise ContractError(f"request body must be a JSON object, got a JSON {type(body).__name__}")
    return body


def _text(value, param: str, max_chars: int) -> str:
    if not isinstance(value, str):
        raise ContractError(f"'{param}' must be a string, got {type(value).__name__}", param)
    if not value.strip():
        raise ContractError(f"'{param}' is empty; expected a non-empty string", param)
    if len(value) > max_chars:
        raise ContractError(f"'{param}' has {len(value)} characters; the limit is {max_chars}", param)
    return value


def _texts(value, param: str, max_items: int) -> list[str]:
    if not isinstance(value, list):
        raise ContractError(f"'{param}' must be an array of strings, got {type(value).__name__}", param)
    if not value:
        raise ContractError(f"'{param}' is empty; expected 1 to {max_items} strings", param)
    if len(value) > max_items:
        raise ContractError(f"'{param}' has {len(value)} items; the limit is {max_items}", param)
    return [_text(v, f"{param}[{i}]", MAX_TEXT_CHARS) for i, v in enumerate(value)]


def _optional_model(body: dict) -> None:
    if "model" in body and not isinstance(body["model"], str):
        raise ContractError(f"'model' must be a string when given, got {type(body['model']).__name__}", "model")


def parse_embeddings(body, dimensions: int) -> tuple[list[str], str]:
    """(texts, encoding_format) from an OpenAI-style embeddings request."""
    body = parse_body(body)
    _optional_model(body)
    if "input" not in body:
        raise ContractError("'input' is required: an array of strings", "input")
    value = body["input"]
    texts = [_text(value, "input", MAX_TEXT_CHARS)] if isinstance(value, str) else _texts(value, "input", MAX_EMBED_INPUTS)
    fmt = body.get("encoding_format", "float")
    if fmt not in ENCODING_FORMATS:
        raise ContractError(f"'encoding_format' is {fmt!r}; expected one of {list(ENCODING_FORMATS)}", "encoding_format")
    if "dimensions" in body and (body["dimensions"] != dimensions or isinstance(body["dimensions"], bool)):
        raise ContractError(f"'dimensions' is {body['dimensions']!r}; this model produces exactly {dimensions}", "dimensions")
    return texts, fmt


def parse_rerank(body) -> tuple[str, list[str], int, bool]:
    """(query, documents, top_n, return_documents) from a Cohere-style rerank request."""
    body = parse_body(body)
    _optional_model(body)
    if "query" not in body:
        raise ContractError("'query' is required: a non-empty string", "query")
    query = _text(body["query"], "query", MAX_QUERY_CHARS)
    if "documents" not in body:
        raise ContractError("'documents' is required: an array of strings", "documents")
    docs = body["documents"]
    if isinstance(docs, list):  # Cohere also accepts {"text": ...} objects
        docs = [d["text"] if isinstance(d, dict) and "text" in d else d for d in docs]
    docs = _texts(docs, "documents", MAX_RERANK_DOCUMENTS)
    top_n = body.get("top_n", len(docs))
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise ContractError(f"'top_n' is {top_n!r}; expected a positive integer", "top_n")
    ret = body.get("return_documents", False)
    if not isinstance(ret, bool):
        raise ContractError(f"'return_documents' must be a boolean, got {type(ret).__name__}", "return_documents")
    return query, docs, min(top_n, len(docs)), ret


def encode_vector(vector: np.ndarray, fmt: str):
    """A float list, or OpenAI's base64: the little-endian float32 bytes of the vector."""
    if fmt == "base64":
        data = np.asarray(vector, dtype="<f4").tobytes()
        return base64.b64encode(data).decode("ascii")
    return vector.tolist()


def decode_base64_vector(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


def embeddings_response(vectors: np.ndarray, fmt: str, model: str, tokens: int) -> dict:
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": encode_vector(v, fmt)} for i, v in enumerate(vectors)],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def wire_score(score) -> float:
    """A score whose JSON text OpenSearch's ml-commons can read as a Java Double.

    ml-commons reads connector responses with JsonPath over json-smart, whose permissive mode turns a
    number token longer than 18 characters into a BigDecimal (JSONParserBase.extractFloat), and the Cohere
    rerank post-processor casts each `relevance_score` to Double: `-0.12345678901234568` (a float32 score
    printed at full double precision) fails with a ClassCastException and the search pipeline answers 500.
    Nine significant digits keep every token at 16 characters or fewer, and Python prints a float with a
    decimal point or an exponent, never as an integer (which json-smart would read as a Long).
    """
    return float(f"{float(score):.9g}")


def rerank_response(scores, documents: list[str], top_n: int, return_documents: bool, model: str) -> dict:
    """Results sorted by score, highest first; ties keep the request's order."""
    order = sorted(range(len(documents)), key=lambda i: (-float(scores[i]), i))[:top_n]
    results = []
    for i in order:
        result = {"index": i, "relevance_score": wire_score(scores[i])}
        if return_documents:
            result["document"] = {"text": documents[i]}
        results.append(result)
    return {"results": results, "model": model}


def error_body(err: ContractError) -> dict:
    return {"error": {"message": err.message, "type": "invalid_request_error", "param": err.param, "code": err.status}}


def compact(payload: dict) -> str:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False)

