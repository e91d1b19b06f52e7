"""What the embedding and rerank handlers share: reading the packaged settings, per-request
status codes and compact JSON replies, and turning every failure into a JSON error.

TorchServe calls `handle(data, context)` with one row per request of a server-side batch and needs
a list of the same length back. A handler that raises fails the whole batch with TorchServe's own
body (a 503 "Prediction failed" for most exceptions), so each row's error is answered here with
context.set_response_status(status, phrase, index) and a JSON string for that row alone.
"""

import json
import logging
import os
from pathlib import Path

from contract import ContractError, compact, error_body

logger = logging.getLogger(__name__)
SETTINGS_FILE = "backbone-serving.json"
PHRASES = {400: "Bad Request", 413: "Payload Too Large", 500: "Internal Server Error"}


def load_settings(model_dir: str) -> dict:
    path = Path(model_dir) / SETTINGS_FILE
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def configure_threads() -> None:
    """HANDLER_TORCH_THREADS caps intra-op threads per worker (one worker per core on big hosts)."""
    n = os.environ.get("HANDLER_TORCH_THREADS")
    if n:
        import torch

        torch.set_num_threads(int(n))


def request_body(row: dict):
    body = row.get("body")
    return row.get("data") if body is None else body


def reply(context, idx: int, payload: dict, status: int = 200) -> str:
    context.set_response_content_type(idx, "application/json")
    if status != 200:
        context.set_response_status(status, PHRASES.get(status, "Error"), idx)
    return compact(payload)


def error_reply(context, idx: int, err: ContractError) -> str:
    return reply(context, idx, error_body(err), err.status)


def server_error(context, idx: int, exc: BaseException) -> str:
    logger.exception("inference failed")  # the trace goes to the model log, never to the client
    err = ContractError(f"inference failed ({exc.__class__.__name__}); see the server log", None, 500)
    return error_reply(context, idx, err)
