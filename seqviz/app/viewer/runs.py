"""The app's model work, without Qt: load a model, run text through it, sample the next token.

The window calls these functions from a worker thread (they import torch on first use), so they never
touch widgets and return plain data. All model maths stays in `seqviz.core`: this module only prepares
inputs, checks them and picks a token from probabilities the trace already holds.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqviz.core.trace import Trace
from seqviz.demos import catalogue

SPECIAL_TOKENS = ("<unk>", "<pad>", "<s>", "</s>")


class InputProblem(ValueError):
    """The text cannot be run as it is. `kind` is "empty", "too_long" or "no_text"."""

    def __init__(self, kind: str, message: str, num_tokens: int = 0, max_len: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.num_tokens = num_tokens
        self.max_len = max_len


@dataclass(frozen=True)
class LoadedModel:
    """A model and what the app needs to know about it."""

    model: Any
    source: str  # a catalogue id or a file path: what the settings remember
    label: str  # shown in the status bar
    examples: tuple[str, ...] = ()
    max_len: int | None = None  # the longest input in tokens, if the model has a limit

    @property
    def tokenizer(self):
        return getattr(self.model, "tokenizer", None)

    @property
    def can_generate(self) -> bool:
        """Decoder-only language models can extend their input by sampling."""
        return getattr(self.model, "task", None) == "lm" and bool(getattr(self.model, "causal", False))


@dataclass(frozen=True)
class Run:
    """One trace of one text: what the window shows."""

    trace: Trace
    text: str  # the text as the person typed it (never shortened)
    truncated_from: int | None = None  # the token count before truncation, if it was truncated
    notes: tuple[str, ...] = field(default=())


def configure_torch() -> None:
    """Leave a core to the GUI: torch's default of one thread per core makes every small op wait for
    spinning threads when the GUI thread (or another program) holds a core; on 2 cores a tiny LSTM
    forward went from ~0.2 ms to 20-100 ms. The person's OMP_NUM_THREADS wins."""
    global _torch_configured
    if _torch_configured:
        return
    _torch_configured = True
    import torch

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))


_torch_configured = False


def load(source: str) -> LoadedModel:
    """Load a catalogue model by id, or a model file by path. Raises seqviz.ModelFileError."""
    configure_torch()
    entry = catalogue.find(source)
    if entry is not None:
        model = catalogue.load(source)
        label = entry.card.get("title") or entry.id
        examples = tuple(entry.examples)
    else:
        from seqviz.core.modelfile import load_model

        model = load_model(source)
        label = Path(source).name
        examples = ()
    card = getattr(model, "card", None)
    examples = examples or tuple(getattr(card, "examples", ()) or ())
    if getattr(card, "title", "") and entry is None:
        label = f"{card.title} ({Path(source).name})"
    return LoadedModel(model, str(source), label, examples, max_input_length(model))


def max_input_length(model: Any) -> int | None:
    """The longest input a model accepts, in tokens (Transformers have positions up to max_len)."""
    for owner in (model, getattr(model, "backbone", None)):
        cfg = getattr(owner, "cfg", None)
        limit = getattr(cfg, "max_len", None) or getattr(owner, "max_len", None)
        if isinstance(limit, int) and limit > 0:
            return limit
    return None


def count_tokens(loaded: LoadedModel, text: str) -> int:
    tok = loaded.tokenizer
    return len(tok.encode(text)) if tok is not None else len(text)


def truncate_text(loaded: LoadedModel, text: str, max_tokens: int) -> str:
    """The longest prefix of `text` that has at most `max_tokens` tokens."""
    lo, hi = 0, len(text)
    while lo < hi:  # token counts grow with the prefix length, so bisect on it
        mid = (lo + hi + 1) // 2
        if count_tokens(loaded, text[:mid]) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def run(loaded: LoadedModel, text: str, truncate: bool = False) -> Run:
    """Trace `text` with the model. Raises InputProblem for empty or too long input."""
    num_tokens = count_tokens(loaded, text)
    if num_tokens == 0:
        raise InputProblem("empty", "The input is empty: type some text to run the model.")
    limit = loaded.max_len
    truncated_from = None
    model_text = text
    if limit is not None and num_tokens > limit:
        if not truncate:
            raise InputProblem(
                "too_long",
                f"The input has {num_tokens} tokens; this model reads at most {limit}.",
                num_tokens,
                limit,
            )
        model_text, truncated_from = truncate_text(loaded, text, limit), num_tokens
    trace = _trace_text(loaded.model, model_text)
    notes = trace_notes(trace)
    if truncated_from is not None:
        notes = (f"Showing the first {limit} of {truncated_from} tokens (the model's limit).", *notes)
    return Run(trace, text, truncated_from, notes)


def _trace_text(model: Any, text: str) -> Trace:
    from seqviz.core.api import trace as trace_model

    if getattr(model, "tokenizer", None) is not None or hasattr(model, "__seqviz_trace__"):
        return trace_model(model, text)
    input_size = getattr(model, "input_size", None)
    if input_size is None:
        raise InputProblem("no_text", f"seqviz cannot feed text to a {type(model).__name__}.")
    # A bare nn.RNN/GRU/LSTM from a state dict has no tokenizer: feed each character as a fixed
    # pseudo-random vector, so its dynamics can still be stepped through.
    import torch

    x = torch.from_numpy(character_vectors(text, input_size))
    dtype = next(model.parameters()).dtype
    tr = trace_model(model, x.to(dtype))
    meta = {**tr.meta, "input": "fixed random vector per character", "unknown": []}
    return Trace(tr, tokens=list(text), meta=meta)


def character_vectors(text: str, size: int) -> np.ndarray:
    """(len(text), size) float32: one fixed standard-normal vector per distinct character."""
    rows = [np.random.default_rng(zlib.crc32(ch.encode("utf-8"))).standard_normal(size) for ch in text]
    return np.asarray(rows, dtype=np.float32).reshape(len(text), size)


def trace_notes(trace: Trace) -> tuple[str, ...]:
    """What a person must know to read this trace correctly, one sentence each."""
    notes = []
    if trace.meta.get("causal") is False:
        if trace.is_recurrent:
            notes.append(
                "Bidirectional model: it reads the whole input at once, so step t shows position t, "
                "not what the model knew so far."
            )
        else:
            notes.append(
                "Encoder: every position attends to the whole input at once, so step t shows position t, "
                "not what the model knew so far."
            )
    unknown = trace.meta.get("unknown") or []
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:12]) + (", ..." if len(unknown) > 12 else "")
        notes.append(f"Not in the model's vocabulary, shown as <unk>: {shown}")
    if trace.meta.get("input") == "fixed random vector per character":
        notes.append("This model file has no tokenizer: each character is fed as a fixed random vector.")
    return tuple(notes)


# Generation ---------------------------------------------------------------------------------------


def sample_next(
    probs: np.ndarray, temperature: float, rng: np.random.Generator, banned: tuple[int, ...] = ()
) -> int:
    """Pick the next token id from probs (V,): greedy when temperature <= 0, else sample p**(1/T)."""
    from seqviz.core.generate import pick_token

    with np.errstate(divide="ignore"):
        log_probs = np.log(np.asarray(probs, np.float64))  # 0 -> -inf: never picked
    return pick_token(log_probs, temperature, rng, banned)


def extend_text(loaded: LoadedModel, text: str, token: str) -> str:
    """`text` with one more token appended, as the tokenizer would split it again."""
    tok = loaded.tokenizer
    if tok is None or getattr(tok, "level", "char") == "char":
        return text + token
    return f"{text} {token}" if text else token


def generate_one(loaded: LoadedModel, run_now: Run, temperature: float, rng: np.random.Generator) -> Run:
    """Append one sampled token to the input of `run_now` and trace the longer text."""
    if not loaded.can_generate:
        raise InputProblem("no_text", "Only decoder-only language models can generate.")
    if run_now.truncated_from is not None or (
        loaded.max_len is not None and run_now.trace.num_steps >= loaded.max_len
    ):
        raise InputProblem(
            "too_long", "The input has reached the model's length limit.", max_len=loaded.max_len
        )
    labels = list(getattr(loaded.model, "output_labels", None) or run_now.trace.meta.get("output_labels", []))
    banned = tuple(i for i, label in enumerate(labels) if label in SPECIAL_TOKENS)
    token_id = sample_next(run_now.trace["probs"][-1], temperature, rng, banned)
    text = extend_text(loaded, run_now.text, labels[token_id])
    appended = _append_from_cache(loaded.model, run_now.trace, token_id)
    if appended is None:  # recurrent models: tracing the longer text is fast enough
        return run(loaded, text)
    return Run(appended, text, notes=trace_notes(appended))


def _append_from_cache(model: Any, trace: Trace, token_id: int) -> Trace | None:
    """Transformer decoders extend the trace from cached keys and values (seqviz.core.generate)."""
    if type(getattr(model, "backbone", None)).__name__ != "DecoderOnlyTransformer":
        return None
    if "token_ids" not in trace.meta:
        return None
    from seqviz.core.generate import append_token

    return append_token(model, trace, token_id)
