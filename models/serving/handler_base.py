"""What the embedding and rerank handlers share: the device and precision, per-request status
codes and compact JSON replies, and turning every failure into a JSON error.

TorchServe calls `handle(data, context)` with one row per request of a server-side batch and needs
a list of the same length back. A handler that raises fails the whole batch with TorchServe's own
body (a 503 "Prediction failed" for most exceptions), so each row's error is answered here with
context.set_response_status(status, phrase, index) and a JSON string for that row alone.
"""

import logging
import os

from contract import ContractError, compact, error_body

logger = logging.getLogger(__name__)
PHRASES = {400: "Bad Request", 413: "Payload Too Large", 500: "Internal Server Error"}


def pick_device(properties: dict, cuda_available: bool) -> str:
    """`cuda:<gpu_id>` when TorchServe assigned this worker a GPU and CUDA is usable, else the CPU.
    TorchServe sets gpu_id per worker (round-robin over the host's GPUs) and leaves it out, or
    None, on hosts without one."""
    gpu_id = properties.get("gpu_id")
    if gpu_id is None or gpu_id == "" or not cuda_available:
        return "cpu"
    if isinstance(gpu_id, bool) or not str(gpu_id).isdigit():
        raise ValueError(f"TorchServe's gpu_id is {gpu_id!r}; expected a non-negative integer")
    return f"cuda:{int(gpu_id)}"


def use_half(yaml_config: dict | None, device: str) -> bool:
    """Half precision from model-config.yaml's `handler.half_precision` (written by `package`,
    on by default), and only on a GPU: CPUs gain nothing from fp16 and some kernels lack it."""
    handler = (yaml_config or {}).get("handler") or {}
    return device.startswith("cuda") and bool(handler.get("half_precision", False))


def placement(context) -> tuple[str, bool]:
    """(device, half precision) for this worker, from TorchServe's context."""
    import torch

    device = pick_device(context.system_properties, torch.cuda.is_available())
    return device, use_half(getattr(context, "model_yaml_config", None), device)


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
