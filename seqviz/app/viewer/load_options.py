"""What a model file needs and does not record, kept with the model: `load_model`'s options.

A file of PyTorch's word_language_model example opens only with its vocabulary (`vocab`: a file of
one word per line or the data folder, or the words themselves), a state dict of its Transformer with
its number of heads (`heads`) and one of an nn.RNN with its nonlinearity (`nonlinearity`): `--vocab`,
`--heads`, `--nonlinearity` on the command line, `Session.load_options[source]` in the window. The
settings (the last model) and scene files keep them beside the model as a JSON object; this module
checks such an object, without Qt.
"""

from __future__ import annotations

from typing import Any

NAMES = ("vocab", "heads", "nonlinearity")
NONLINEARITIES = ("tanh", "relu")
MAX_HEADS = 4096


def options_problem(options: Any) -> str | None:
    """Why `options` is not a set of load options (one line), or None."""
    if not isinstance(options, dict):
        return f"must be an object of {', '.join(NAMES)}"
    unknown = sorted(str(name) for name in options if name not in NAMES)
    if unknown:
        return f"has no option {unknown[0]!r} (only {', '.join(NAMES)})"
    vocab = options.get("vocab")
    words = isinstance(vocab, list) and vocab and all(isinstance(w, str) for w in vocab)
    if vocab is not None and not (isinstance(vocab, str) and vocab) and not words:
        return "vocab must be a file or folder, or a list of words"
    heads = options.get("heads")
    if heads is not None and (type(heads) is not int or not 1 <= heads <= MAX_HEADS):
        return f"heads must be a whole number of attention heads, 1 to {MAX_HEADS}"
    nonlinearity = options.get("nonlinearity")
    if nonlinearity is not None and nonlinearity not in NONLINEARITIES:
        return f"nonlinearity must be {' or '.join(NONLINEARITIES)}"
    return None


def stored(options: dict[str, Any]) -> dict[str, Any]:
    """`options` as a JSON object keeps them: the given ones, a path as text, words as a list."""
    kept: dict[str, Any] = {}
    for name in NAMES:
        value = options.get(name)
        if value is None:
            continue
        if name == "vocab":
            value = list(value) if isinstance(value, list | tuple) else str(value)
        kept[name] = value
    return kept
