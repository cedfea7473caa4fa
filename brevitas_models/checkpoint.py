"""Checkpoints: ``{"format", "model", "kwargs", "state_dict", "meta"}`` saved with torch.save.

Only tensors and plain Python types are stored, so they load with ``weights_only=True`` (no pickle of
arbitrary code). Loading checks the model name and every tensor shape and says what differs.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import torch
from torch import nn

from brevitas_models.registry import build_model, check_arguments

FORMAT = "shiftbnn-checkpoint-v1"


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable, or does not fit the requested model."""


def save_checkpoint(path: str | Path, name: str, kwargs: dict, model: nn.Module, meta: dict | None = None) -> None:
    """Write atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "model": name, "kwargs": kwargs, "state_dict": model.state_dict(), "meta": meta or {}}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    mask = os.umask(0)  # mkstemp makes 0600; the checkpoint gets what open() would give under the umask
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for truncated/garbage files
        raise CheckpointError(f"checkpoint {path} is not a readable torch file ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} is not a shiftbnn checkpoint (format {FORMAT})")
    fields = {"model": str, "kwargs": dict, "state_dict": dict}
    for key, kind in fields.items():
        if not isinstance(payload.get(key), kind):
            raise CheckpointError(f"checkpoint {path}: field {key!r} is missing or not a {kind.__name__}")
    if payload.get("meta") is None:
        payload["meta"] = {}
    if not isinstance(payload["meta"], dict):
        raise CheckpointError(f"checkpoint {path}: field 'meta' is not a dict")
    problem = first_nonfinite(payload["state_dict"], "tensor ") or first_nonfinite(payload["kwargs"], "kwargs.")
    if problem:
        raise CheckpointError(f"checkpoint {path}: {problem}; a network with NaN/inf cannot be trained on or built")
    try:
        check_arguments(payload["model"], payload["kwargs"])
    except ValueError as exc:
        raise CheckpointError(f"checkpoint {path}: {exc}") from None
    return payload


def first_nonfinite(value, where: str = "") -> str | None:
    """The first NaN/inf anywhere in ``value`` (tensors, numbers, nested dicts and lists), as
    ``"<where>name holds N NaN/inf value(s)"``; None when every number is finite."""
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() or value.is_complex():
            bad = int((~torch.isfinite(value)).sum())
            if bad:
                return f"{where.rstrip('.')} holds {bad} NaN/inf value(s)"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where.rstrip('.')} is {value} (NaN/inf)"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list | tuple) else ()
    for key, item in items:
        found = first_nonfinite(item, f"{where}{key}." if isinstance(value, dict) else f"{where.rstrip('.')}[{key}].")
        if found:
            return found
    return None


def load_into(model: nn.Module, state_dict: dict, source: str) -> None:
    """Load with a clear message naming the first tensor whose name or shape differs."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    if missing or unexpected:
        what = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
        raise CheckpointError(f"checkpoint {source} does not fit this model ({what})")
    for key, value in state_dict.items():
        if tuple(own[key].shape) != tuple(value.shape):
            raise CheckpointError(
                f"checkpoint {source} does not fit this model: {key} is {tuple(value.shape)}, "
                f"model expects {tuple(own[key].shape)}"
            )
    model.load_state_dict(state_dict)


def load_checkpoint(path: str | Path, expect_model: str | None = None) -> tuple[nn.Module, dict]:
    """Return ``(model, payload)``; ``expect_model`` guards against loading another model's file."""
    payload = read_checkpoint(path)
    if expect_model is not None and payload["model"] != expect_model:
        raise CheckpointError(f"checkpoint {path} holds model {payload['model']!r}, not {expect_model!r}")
    try:
        model = build_model(payload["model"], **payload["kwargs"])
    except (TypeError, ValueError, RuntimeError) as exc:  # unknown model, unknown or bad keyword arguments
        what = f"{payload['model']} {payload['kwargs']}"
        raise CheckpointError(f"checkpoint {path}: cannot build {what} ({exc})") from None
    load_into(model, payload["state_dict"], str(path))
    model.eval()
    return model, payload
