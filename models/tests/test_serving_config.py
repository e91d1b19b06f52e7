from pathlib import Path

import pytest

from backbone_models.serving_config import MAX_REQUEST_BYTES, render

COMMITTED = Path(__file__).resolve().parent.parent / "serving" / "config.properties"


def props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_defaults_are_safe():
    p = props(render())
    assert p["inference_address"] == "http://127.0.0.1:8080"
    for key in ("management_address", "metrics_address"):
        assert p[key].startswith("http://127.0.0.1:")
    assert p["grpc_inference_address"] == p["grpc_management_address"] == "127.0.0.1"
    assert p["enable_model_api"] == "false"
    assert p["disable_token_authorization"] == "true"  # deliberate: see models/README.md, Serving
    assert p["enable_envvars_config"] == "false"
    assert int(p["max_request_size"]) == MAX_REQUEST_BYTES


def test_committed_config_is_the_rendered_default():
    assert COMMITTED.read_text() == render()


def test_model_api_only_when_asked_and_management_stays_on_loopback():
    p = props(render(enable_model_api=True))
    assert p["enable_model_api"] == "true"
    assert p["management_address"].startswith("http://127.0.0.1:")


def test_inference_may_bind_a_private_address():
    assert props(render(inference_address="http://10.0.3.7:8080"))["inference_address"] == "http://10.0.3.7:8080"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"inference_address": "http://0.0.0.0:8080"}, "never 0.0.0.0 or a public address"),
        ({"inference_address": "http://8.8.8.8:8080"}, "expected a loopback or private address"),
        ({"inference_address": "http://models.internal:8080"}, "expected an IP address, not a host name"),
        ({"inference_address": "10.0.0.1:8080"}, "expected http://<ip>:<port>"),
        ({"management_address": "http://10.0.0.5:8081"}, "management_address is 'http://10.0.0.5:8081'; expected a loopback address"),
        ({"workers_per_model": 0}, "workers_per_model is 0"),
    ],
)
def test_unsafe_settings_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        render(**kwargs)
