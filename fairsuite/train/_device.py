"""Device and precision selection: cuda, then mps, then cpu; autocast dtype per device."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

from fairsuite.exceptions import InvalidInputError

if TYPE_CHECKING:
    import torch

__all__ = ["resolve_device", "resolve_precision", "limit_threads", "Precision"]

Precision = Literal["auto", "fp32", "bf16", "fp16"]
PRECISIONS = ("auto", "fp32", "bf16", "fp16")

DEVICE_INVALID = (
    "device={value!r} is not usable here: {reason}. Pass device='auto' (cuda, then mps, then "
    "cpu), 'cpu', 'cuda', 'cuda:N' or 'mps'."
)
PRECISION_INVALID = (
    "precision={value!r} is not supported on {device}: allowed are {allowed}. Pass "
    "precision='auto' to pick the fastest safe one."
)


def resolve_device(device: str = "auto") -> torch.device:
    """Return the torch device to train on: ``"auto"`` picks cuda, then mps, then cpu."""
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise InvalidInputError(DEVICE_INVALID.format(value=device, reason=str(err))) from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError(DEVICE_INVALID.format(value=device, reason="CUDA is not available"))
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise InvalidInputError(
                DEVICE_INVALID.format(value=device, reason="MPS is not available")
            )
    if dev.type not in ("cpu", "cuda", "mps"):
        raise InvalidInputError(
            DEVICE_INVALID.format(value=device, reason="unsupported device type")
        )
    return dev


def resolve_precision(precision: str, device: torch.device) -> Literal["fp32", "bf16", "fp16"]:
    """Return the concrete precision for ``device``.

    ``"auto"``: bf16 autocast on CUDA when the GPU supports it, else fp16 (with a gradient
    scaler); fp32 on CPU and MPS (bf16 on CPU is an explicit option: ``precision="bf16"``).
    """
    import torch

    if precision not in PRECISIONS:
        raise InvalidInputError(
            PRECISION_INVALID.format(
                value=precision, device=device.type, allowed=", ".join(PRECISIONS)
            )
        )
    if device.type == "cuda":
        if precision == "auto":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return precision  # type: ignore[return-value]
    allowed = {"cpu": ("auto", "fp32", "bf16"), "mps": ("auto", "fp32")}[device.type]
    if precision not in allowed:
        raise InvalidInputError(
            PRECISION_INVALID.format(
                value=precision, device=device.type, allowed=", ".join(allowed)
            )
        )
    return "fp32" if precision == "auto" else precision  # type: ignore[return-value]


def available_cpus() -> int:
    """Cores this process may run on (cgroup/affinity aware)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def limit_threads() -> int:
    """Keep torch's intra-op threads within the cores this process may use; return the count."""
    import torch

    n = max(1, min(torch.get_num_threads(), available_cpus()))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
