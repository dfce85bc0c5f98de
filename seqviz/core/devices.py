"""Where a model runs: "cpu" (the default), "cuda" (or "cuda:N") or "mps", if this torch has it.

A model is moved to the device once, when it is opened; traces always come back as numpy arrays on
the CPU. `check_device` is the one place that says which devices this machine's torch offers, in one
line a person can act on.
"""

from __future__ import annotations

import re

DEVICE_KINDS = ("cpu", "cuda", "mps")
_DEVICE_RE = re.compile(r"^(cpu|mps|cuda)(:\d+)?$")


class DeviceError(ValueError):
    """A device this torch does not have; the message names the devices it has."""


def available_devices() -> list[str]:
    """The devices this torch can run on: "cpu", then "cuda" (and "cuda:1", ... for more GPUs), "mps"."""
    import torch

    found = ["cpu"]
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        found += ["cuda"] + [f"cuda:{i}" for i in range(1, count)]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found


def check_device(name: str) -> str:
    """`name` if this torch can run on it ("cuda:0" is "cuda"), else DeviceError naming what it can."""
    name = (name or "").strip().lower()
    if not _DEVICE_RE.match(name):
        raise DeviceError(f"unknown device {name!r}: use {', '.join(DEVICE_KINDS)} (or cuda:N)")
    if name == "cpu":
        return name  # always there: no need to import torch for it
    if name == "cuda:0":
        name = "cuda"
    have = available_devices()
    if name not in have:
        import torch

        raise DeviceError(
            f"device {name!r} is not available: this torch ({torch.__version__}) has {', '.join(have)}"
        )
    return name


def device_or_cpu(name: str) -> tuple[str, str]:
    """(`name` checked, "") when this torch has the device, else ("cpu", one line saying so): a device
    remembered on another machine, or with another torch, must not stop every model from opening."""
    try:
        return check_device(name), ""
    except DeviceError as exc:
        return "cpu", f"{exc}; running on the CPU instead (the remembered --device {name} is forgotten)."
