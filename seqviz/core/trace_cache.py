"""Traces kept on disk, so a model's trace of a text can be shown before torch has loaded.

Importing torch takes 2-3 s; a trace file takes milliseconds to read. A stored trace is found by the
model file's content (its SHA-256) and the exact text, so a changed model file never finds the trace of
the old one. Two folders are searched, the person's cache first:

- the cache (`cache_dir()`): the last text each bundled model ran, written after it ran;
- the traces shipped beside the bundled models (`shipped_dir()`, written by the retrain command).

A stored trace is only a preview: the app still loads the model, traces the text again and keeps the
stored trace only if the two are identical (`same_trace`), so every number shown stays the model's.
Reading and writing never raise: a missing, unreadable or unwritable folder or file is no trace.
Numpy only (no torch, no Qt).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from pathlib import Path

import numpy as np

from seqviz.core.resources import models_dir
from seqviz.core.trace import Trace, TraceFileError

log = logging.getLogger("seqviz")

CACHE_DIR_ENV = "SEQVIZ_CACHE_DIR"  # where the cache lives; else beside SEQVIZ_SETTINGS_DIR, else ~/.cache
SETTINGS_DIR_ENV = "SEQVIZ_SETTINGS_DIR"  # tests set it per test: their caches stay apart too
# Bump when tracing changes what a trace of the same model and text holds: older files are then not found.
FORMAT = 1
MAX_STORED_BYTES = 16 * 2**20  # a preview is for the small bundled models; big traces are not kept


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_name(model_digest: str, text: str) -> str:
    """The stored trace's file name: the model's digest first (one model's files share the prefix),
    then a digest of the format and the text."""
    key = hashlib.sha256(f"seqviz-trace-{FORMAT}\0{model_digest}\0{text}".encode()).hexdigest()
    return f"{model_digest[:24]}-{key[:24]}.npz"


def shipped_dir() -> Path:
    """The traces shipped with the bundled models (resources/models/traces)."""
    return models_dir() / "traces"


def cache_dir() -> Path:
    """The person's trace cache: $SEQVIZ_CACHE_DIR, else `cache/` in $SEQVIZ_SETTINGS_DIR, else
    $XDG_CACHE_HOME/seqviz/traces (~/.cache/seqviz/traces)."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    if os.environ.get(SETTINGS_DIR_ENV):
        return Path(os.environ[SETTINGS_DIR_ENV]) / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "seqviz" / "traces"


def find(model_file: str | os.PathLike, text: str) -> Trace | None:
    """The stored trace of `text` run by the model in `model_file`, or None."""
    try:
        name = file_name(file_digest(model_file), text)
    except OSError:
        return None
    for folder in (cache_dir(), shipped_dir()):
        path = folder / name
        try:
            if path.is_file():
                return Trace.load(path)
        except (OSError, TraceFileError) as exc:  # a damaged file is no trace; the model runs the text
            log.debug("stored trace %s not used: %s", path, exc)
    return None


def store(model_file: str | os.PathLike, text: str, trace: Trace, folder: Path | None = None) -> Path | None:
    """Keep `trace` (the model in `model_file` run on `text`) in `folder` (default: the cache), in place
    of that model's earlier one; None when it is not kept (too big, or the folder cannot be written)."""
    if trace.nbytes > MAX_STORED_BYTES:
        return None
    folder = cache_dir() if folder is None else folder
    try:
        digest = file_digest(model_file)
        folder.mkdir(parents=True, exist_ok=True)
        path = trace.save(folder / file_name(digest, text))
        for older in folder.glob(f"{digest[:24]}-*.npz"):
            if older != path:
                with contextlib.suppress(OSError):
                    older.unlink()
        return path
    except (OSError, ValueError) as exc:
        log.debug("trace not kept in %s: %s", folder, exc)
        return None


def same_trace(a: Trace, b: Trace) -> bool:
    """True when `a` and `b` hold exactly the same arrays (bit for bit, NaN equal to NaN), tokens and
    metadata."""
    if a.names() != b.names() or a.tokens != b.tokens or a.source_tokens != b.source_tokens:
        return False
    if a.meta.to_dict() != b.meta.to_dict():
        return False
    return all(_same_array(np.asarray(a[name]), np.asarray(b[name])) for name in a.names())


def _same_array(x: np.ndarray, y: np.ndarray) -> bool:
    if x.dtype != y.dtype or x.shape != y.shape:
        return False
    return bool(np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))
