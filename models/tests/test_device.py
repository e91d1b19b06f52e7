"""The handlers' device and precision choice, as pure functions: no GPU is needed to test it."""

import types

import handler_base
import pytest
from handler_base import pick_device, placement, use_half


def test_no_gpu_id_means_the_cpu():
    assert pick_device({}, cuda_available=True) == "cpu"
    assert pick_device({"gpu_id": None}, cuda_available=True) == "cpu"


def test_a_gpu_id_without_cuda_means_the_cpu():
    assert pick_device({"gpu_id": 0}, cuda_available=False) == "cpu"


def test_a_gpu_id_with_cuda_means_that_gpu():
    assert pick_device({"gpu_id": 0}, cuda_available=True) == "cuda:0"
    assert pick_device({"gpu_id": "3"}, cuda_available=True) == "cuda:3"


def test_a_malformed_gpu_id_is_refused():
    with pytest.raises(ValueError, match="gpu_id is 'x'; expected a non-negative integer"):
        pick_device({"gpu_id": "x"}, cuda_available=True)


def test_half_precision_only_on_a_gpu_and_only_when_configured():
    on = {"handler": {"half_precision": True}}
    assert use_half(on, "cuda:0") is True
    assert use_half(on, "cpu") is False
    assert use_half({"handler": {"half_precision": False}}, "cuda:0") is False
    assert use_half({}, "cuda:0") is False and use_half(None, "cuda:0") is False


def test_placement_reads_torchserves_context(monkeypatch):
    import torch

    context = types.SimpleNamespace(system_properties={"gpu_id": 1, "model_dir": "/x"},
                                    model_yaml_config={"handler": {"half_precision": True}})
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert placement(context) == ("cuda:1", True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert placement(context) == ("cpu", False)
    assert handler_base.placement(types.SimpleNamespace(system_properties={})) == ("cpu", False)
