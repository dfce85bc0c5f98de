"""Atomic file writes: nothing half-written is ever left at the destination.

Every writer (traces, model files, pictures, animations, scenes) writes to a temporary file beside the
destination, in the same folder so the final rename is atomic, and renames it into place only when the
whole file is written. On any failure the temporary file is removed and an older file stays as it was.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path


def temp_beside(path: str | os.PathLike) -> Path:
    """Create an empty, hidden temporary file next to `path` with the same suffix, and return its path.

    Created with mode 0o666 so the umask applies: the published file gets the permissions a plain
    open() would give it (mkstemp would make it private)."""
    path = Path(path)
    temp = path.parent / f".{path.stem}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    os.close(fd)
    return temp


def publish(temp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Flush `temp` to disk and move it onto `path` in one step."""
    with open(temp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(temp, path)


def discard(temp: str | os.PathLike | None) -> None:
    if temp is not None:
        with contextlib.suppress(OSError):
            os.unlink(temp)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, temp: Path | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; it replaces `path` only if the block finishes.

    `temp`: a temporary file the caller already made with `temp_beside` (to report a folder that
    cannot be written in its own words); made here when None."""
    temp = temp if temp is not None else temp_beside(path)
    try:
        yield temp
        publish(temp, path)
    except BaseException:
        discard(temp)
        raise
