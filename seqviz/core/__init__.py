"""The Qt-free core: traces of sequence models, model files and tokenizers.

Importing this package does not import torch; the functions that need it import it on first use, so a
window can be on screen before torch has loaded.
"""

from seqviz.core.trace import Trace, TraceFileError

__all__ = ["Trace", "TraceFileError", "trace", "load_model", "save_model", "ModelFileError"]


def __getattr__(name: str):
    if name == "trace":
        from seqviz.core.api import trace

        return trace
    if name in ("load_model", "save_model", "ModelFileError"):
        from seqviz.core import modelfile

        return getattr(modelfile, name)
    raise AttributeError(f"module 'seqviz.core' has no attribute {name!r}")
