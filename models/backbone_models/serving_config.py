"""TorchServe's config.properties, rendered from a few validated settings.

Safe by default: inference on a private or loopback address only, management and metrics on
loopback, gRPC on loopback, model registration through the API off, request and response sizes
capped. Token authorisation is off on purpose (see models/README.md, "Serving"): TorchServe's
keys expire every hour and are written to a file, which the engines' static-header connectors
cannot follow; the boundary is the private address, the security group and the internal load
balancer instead.
"""

import ipaddress
from urllib.parse import urlsplit

# Above the contract's worst case (256 items x 8192 characters, each escaped as \uXXXX) so that
# the handler, not Netty, names the limit a request broke; far below what would hurt the worker.
MAX_REQUEST_BYTES = 16 * 1024 * 1024
# 256 x 1024 float32 as JSON numbers (~22 bytes each) is about 5.8 MB.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


def _listener(url: str, field: str, allow_private: bool) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.port is None:
        raise ValueError(f"{field} is {url!r}; expected http://<ip>:<port>")
    try:
        ip = ipaddress.ip_address(parts.hostname)
    except ValueError:
        raise ValueError(f"{field} is {url!r}; expected an IP address, not a host name") from None
    if ip.is_loopback:
        return parts.hostname, parts.port
    if allow_private and ip.is_private and not ip.is_unspecified:
        return parts.hostname, parts.port
    expected = "a loopback or private address" if allow_private else "a loopback address"
    raise ValueError(f"{field} is {url!r}; expected {expected} (never 0.0.0.0 or a public address)")


def render(
    inference_address: str = "http://127.0.0.1:8080",
    management_address: str = "http://127.0.0.1:8081",
    metrics_address: str = "http://127.0.0.1:8082",
    grpc_ports: tuple[int, int] = (7070, 7071),
    model_store: str = "model-store",
    load_models: tuple[str, ...] = ("embed.mar", "rerank.mar"),
    initial_worker_port: int = 9000,
    workers_per_model: int = 1,
    response_timeout_s: int = 60,
    enable_model_api: bool = False,
) -> str:
    _listener(inference_address, "inference_address", allow_private=True)
    _listener(management_address, "management_address", allow_private=False)
    _listener(metrics_address, "metrics_address", allow_private=False)
    if workers_per_model < 1:
        raise ValueError(f"workers_per_model is {workers_per_model}; expected at least 1")
    lines = [
        "# Rendered by backbone_models.serving_config; see models/README.md (Serving).",
        f"inference_address={inference_address}",
        f"management_address={management_address}",
        f"metrics_address={metrics_address}",
        "grpc_inference_address=127.0.0.1",
        "grpc_management_address=127.0.0.1",
        f"grpc_inference_port={grpc_ports[0]}",
        f"grpc_management_port={grpc_ports[1]}",
        "disable_token_authorization=true",
        # Registering a model version through the management API: off in the cluster (archives are
        # baked into the image); the local stack turns it on so `npm run loop` can serve a new version.
        f"enable_model_api={'true' if enable_model_api else 'false'}",
        "enable_envvars_config=false",
        "install_py_dep_per_model=false",
        "disable_system_metrics=true",
        f"max_request_size={MAX_REQUEST_BYTES}",
        f"max_response_size={MAX_RESPONSE_BYTES}",
        f"default_response_timeout={response_timeout_s}",
        f"default_workers_per_model={workers_per_model}",
        f"model_store={model_store}",
        f"load_models={','.join(load_models)}",
        # worker sockets are /tmp/.ts.sock.<port>: instances on one host need distinct ranges
        f"initial_worker_port={initial_worker_port}",
    ]
    return "\n".join(lines) + "\n"
