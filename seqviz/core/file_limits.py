"""Bounds on what an input file may make seqviz do: the one place that decides (no Qt, no torch).

A file is data from anywhere, so before anything is allocated for it the reader asks here:
- `regular_file(path)`: it is a regular file (a FIFO would block forever, `/dev/zero` never ends, a
  folder is no file) and its name is one the file system takes; returns its size.
- `zip_inflation(path, size)`: a zip archive (a `torch.save` file, a trace's `.npz`) whose members
  would inflate beyond the bound below is refused before a byte is decompressed.
- `check_allocation(needed, stored)`: what the data would take in memory (tensors that share one
  storage or have stride 0 declare far more than they store) against the same bound.

The bound: at most `MAX_INFLATION` times the bytes the file really stores (uncompressed float data is
1x; float16 widened to float32 and tied weights are 2x), or `SMALL_ALLOCATION` whatever the file (a
small model is never refused), and never more than `MEMORY_SHARE` of the memory this machine has
available now. Each refusal is a `FileLimitError` whose message says why, without the path: callers
raise their own error type (ModelFileError, TraceFileError, SceneError) around it.
"""

from __future__ import annotations

import errno
import os
import stat
import zipfile
from pathlib import Path

MAX_INFLATION = 8  # what a file may declare, as a multiple of the bytes it stores
SMALL_ALLOCATION = 256 * 2**20  # always allowed (if the machine has it): small models and traces
MEMORY_SHARE = 0.8  # of the memory available now: the rest is for the app, the trace and the system


_NUL = "the name holds a NUL byte, which no file name can"


class FileLimitError(ValueError):
    """A file seqviz will not read; the message says why in a few words (no path)."""


def regular_file(path: str | os.PathLike) -> int:
    """The size of `path` in bytes if it is a regular file; else FileLimitError saying what it is.

    stat() never blocks, so this is asked before the file is opened."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileLimitError("no such file") from None
    except OSError as exc:
        raise FileLimitError(_os_problem(exc)) from None
    except ValueError:  # a NUL byte in the name
        raise FileLimitError(_NUL) from None
    if stat.S_ISREG(info.st_mode):
        return info.st_size
    raise FileLimitError(f"it is {_kind(info.st_mode)}, not a file; seqviz reads regular files only")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _os_problem(exc: OSError) -> str:
    """An OSError about a path, as a person reads it."""
    if exc.errno == errno.ENAMETOOLONG:
        return "the name is too long for the file system (a folder or file name over 255 bytes?)"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    return exc.strerror or str(exc)


def path_problem(path: str | os.PathLike) -> str | None:
    """Why `path` cannot even be looked at (a name too long, a file used as a folder), or None.

    For code that asks `exists()` or `is_file()`, which raise on such names instead of saying False."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return None
    except ValueError:
        return _NUL
    except OSError as exc:
        return None if exc.errno == errno.ELOOP else _os_problem(exc)
    return None


def zip_inflation(path: str | os.PathLike, size: int) -> int:
    """For a zip archive: the bytes its members inflate to, checked against the bound (FileLimitError,
    before anything is decompressed). 0 for a file that is not a zip archive."""
    if not is_zip_archive(path):
        return 0
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(max(0, info.file_size) for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return 0  # the reader itself says what is wrong with a damaged archive
    check_allocation(inflated, size, "its compressed contents would inflate to")
    return inflated


def is_zip_archive(path: str | os.PathLike) -> bool:
    """Whether the file starts as a zip archive does (a `torch.save` file, an `.npz`)."""
    with open(path, "rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def check_allocation(needed: int, stored: int, what: str = "its data would take") -> None:
    """FileLimitError unless `needed` bytes are within the bound for a file storing `stored` bytes."""
    allowed = max(MAX_INFLATION * stored, SMALL_ALLOCATION)
    if needed > allowed:
        raise FileLimitError(
            f"{what} {format_bytes(needed)} from {format_bytes(stored)} stored (more than "
            f"{MAX_INFLATION} times what it holds); seqviz refuses a file that would take so much more "
            "memory than it holds"
        )
    available = memory_available()
    if available is not None and needed > MEMORY_SHARE * available:
        raise FileLimitError(
            f"{what} {format_bytes(needed)}, more than this machine has available "
            f"({format_bytes(available)}); close other programs or use a machine with more memory"
        )


def memory_available() -> int | None:
    """Bytes of memory available to a new allocation now (Linux: MemAvailable), else the physical
    memory, else None when the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def format_bytes(n: int) -> str:
    """1536 -> "1.5 KB"; 8.5e9 -> "7.9 GB" (powers of 1024, as memory is counted)."""
    if n < 1024:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} TB"


def read_text_bounded(path: Path, limit: int) -> str:
    """A regular file's text (UTF-8), refused (FileLimitError) when it is over `limit` bytes.

    The size is checked before reading, and the read stops at the limit in case the file grows."""
    size = regular_file(path)
    if size > limit:
        raise FileLimitError(f"it is {format_bytes(size)}; seqviz reads up to {format_bytes(limit)} of it")
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FileLimitError(f"it is over {format_bytes(limit)}; seqviz reads up to that much of it")
    return data.decode("utf-8")
