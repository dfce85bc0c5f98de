"""The Qt-free core: traces of sequence models, model files and tokenizers.

Importing this package does not import torch; the functions that need it import it on first use, so a
window can be on screen before torch has loaded.
"""

from typing import Any

from seqviz.core.trace import Trace, TraceFileError

__all__ = ["Trace", "TraceFileError", "trace", "load_model", "save_model", "ModelFileError"]


# Defined after the import above on purpose: importing the submodule seqviz.core.trace binds the name
# `trace` on this package to the module; this function takes the name back (a submodule is bound only
# when first loaded, so later imports of seqviz.core.trace do not undo it).
def trace(model: Any, inputs: Any, **kw: Any) -> Trace:
    """Run `model` over `inputs` once and return a Trace. See `seqviz.core.api.trace`."""
    from seqviz.core.api import trace as _trace

    return _trace(model, inputs, **kw)


def __getattr__(name: str):
    if name in ("load_model", "save_model", "ModelFileError"):
        from seqviz.core import modelfile

        return getattr(modelfile, name)
    raise AttributeError(f"module 'seqviz.core' has no attribute {name!r}")
