"""Importing torch in a worker thread without freezing the window for long.

`import torch` takes 2-3 s, and the window stays interactive meanwhile because the import runs in a
worker thread (seqviz.app.viewer.jobs). But an import holds the GIL while it loads a shared library, and
loading libtorch_cpu.so (434 MB, thousands of static initializers) held it for 0.2-0.6 s in one piece:
the window froze that long (measured: the longest pause of a thread running Python during the import,
540-670 ms on a loaded 2-core machine; 220-260 ms with the libraries loaded first as below).

`preload_libraries` loads torch's C++ libraries first through libc's own dlopen, called by ctypes as a
foreign function: ctypes releases the GIL during such a call, so their initializers run beside the
window. The import then finds them loaded. They are the libraries without Python in them (no Py*
symbols: their initializers cannot touch the interpreter); the Python bindings load with the import
as usual. Linux only; whatever goes wrong leaves the import to load everything as it always does.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("seqviz")

#: torch's libraries without Python in them, dependencies first
PURE_LIBRARIES = ("libc10.so", "libtorch_cpu.so")


def preload_libraries() -> bool:
    """Load PURE_LIBRARIES with the GIL released, before `import torch`. True if they were loaded;
    False (and nothing done) elsewhere than Linux, once torch is imported, or when they are not found."""
    if not sys.platform.startswith("linux") or "torch" in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec("torch")  # finds the package; imports nothing
        folder = Path(spec.origin).parent / "lib" if spec is not None and spec.origin else None
        paths = [folder / name for name in PURE_LIBRARIES] if folder is not None else []
        if not paths or not all(p.is_file() for p in paths):
            return False
        dlopen = ctypes.CDLL(None).dlopen  # libc's: a foreign call, made without the GIL
        dlopen.restype, dlopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]
        # the flags Python uses for extension modules (RTLD_NOW), local as the import would load them
        return all(dlopen(os.fsencode(p), os.RTLD_NOW | os.RTLD_LOCAL) for p in paths)
    except (OSError, AttributeError, ValueError) as exc:
        log.debug("torch's libraries not preloaded: %s", exc)
        return False
