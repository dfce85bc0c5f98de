"""seqviz: see inside sequence models, token by token.

Public API (see README):
    seqviz.trace(model, inputs, **kw) -> seqviz.Trace
    seqviz.load_model(path_or_id), seqviz.save_model(model, path), seqviz.ModelFileError
    seqviz.show(model_or_trace, text=None): the window on it (seqviz.app.show)
    seqviz.edits (what-if edits), seqviz.unit_search (find the units that matter)
"""

from seqviz.core import Trace, TraceFileError, trace

__version__ = "0.1.0"
__all__ = [
    "Trace",
    "TraceFileError",
    "trace",
    "load_model",
    "save_model",
    "ModelFileError",
    "show",
    "__version__",
]


def __getattr__(name: str):
    # Lazy: `import seqviz` must not import torch (the app shows its window first).
    if name in ("load_model", "save_model", "ModelFileError"):
        import seqviz.core as core

        return getattr(core, name)
    if name == "show":  # Qt only when asked for: scripts that only trace never import it
        from seqviz.app.show import show

        return show
    raise AttributeError(f"module 'seqviz' has no attribute {name!r}")
