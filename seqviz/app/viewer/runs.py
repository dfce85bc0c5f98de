"""The app's model work, without Qt: open a model, run text through it, sample the next token.

The window calls these functions from a worker thread (they import torch on first use), so they never
touch widgets and return plain data. Everything about the model goes through the SequenceModel
interface (seqviz.core.model_interface): this module only checks inputs, picks a token from
probabilities the trace already holds, and adds the true answers the lecture tasks know.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqviz.app.viewer import torch_import, what_if
from seqviz.core import trace_cache
from seqviz.core.model_interface import SequenceModel
from seqviz.core.trace import Trace
from seqviz.core.trace_check import nonfinite_arrays
from seqviz.demos import bundled_traces, catalogue


class InputProblem(ValueError):
    """The text cannot be run as it is. `kind`: "empty", "too_long", "unknown_word", "no_text", "no_model"."""

    def __init__(self, kind: str, message: str, num_tokens: int = 0, max_len: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.num_tokens = num_tokens
        self.max_len = max_len


@dataclass(frozen=True)
class Run:
    """One trace of one text: what the window shows."""

    trace: Trace
    text: str  # the text as the person typed it (never shortened)
    truncated_from: int | None = None  # the token count before truncation, if it was truncated
    notes: tuple[str, ...] = field(default=())
    model_text: str = ""  # what the model read (the text, or its truncated prefix)
    edits: tuple = ()  # the edits it ran with (seqviz.edits); gradients must use the same
    masks: tuple[int, ...] = ()  # a masked LM's positions given its mask token (trace option mask_positions)

    @property
    def gradient_options(self) -> dict:
        """The options that recompute this trace's model (for its gradients, row by row)."""
        options: dict = {"edits": list(self.edits)} if self.edits else {}
        if self.masks:
            options["mask_positions"] = list(self.masks)
        return options


def configure_torch() -> None:
    """Leave a core to the GUI: torch's default of one thread per core makes every small op wait for
    spinning threads when the GUI thread (or another program) holds a core; on 2 cores a tiny LSTM
    forward went from ~0.2 ms to 20-100 ms. The person's OMP_NUM_THREADS wins."""
    global _torch_configured
    if _torch_configured:
        return
    _torch_configured = True
    torch_import.preload_libraries()  # the import's longest hold of the GIL, made without it
    import torch

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))


_torch_configured = False


def load(source: str | Any, device: str = "cpu", **load_options: Any) -> SequenceModel:
    """Open a catalogue model by id, or a model file by path (raises seqviz.ModelFileError), or wrap
    an object seqviz opens (a SequenceModel, a torch module: `open_model`, TypeError otherwise), on
    `device` (seqviz.core.devices; a DeviceError names the devices this torch has). `load_options`
    go to `load_model` (what a file lacks: `vocab=`, `heads=`, `nonlinearity=`)."""
    return on_device(_load(source, load_options), device)


def _load(source: str | Any, load_options: dict[str, Any]) -> SequenceModel:
    from seqviz.core.adapters import open_model

    configure_torch()
    if isinstance(source, os.PathLike):  # a pathlib.Path is a path, not a model object
        source = os.fspath(source)
    if not isinstance(source, str):
        return open_model(source)
    if catalogue.find(source) is not None and not load_options:  # with options: load_model refuses them
        return bundled_traces.open_bundled(source)
    from seqviz.core.modelfile import load_model

    module = load_model(source, **load_options)
    if isinstance(module, SequenceModel):  # opened by its own loader (Hugging Face): as it was asked for
        module.source = str(source)  # a cached model's name ("gpt2"), not its snapshot folder
        return module
    name = Path(source).name
    title = getattr(getattr(module, "card", None), "title", "")
    return open_model(module, source=str(source), label=f"{title} ({name})" if title else name)


def on_device(model: SequenceModel, device: str) -> SequenceModel:
    """`model`, moved to `device` when that is not the CPU (models that can move have `to_device`).
    Raises seqviz.core.devices.DeviceError when this torch lacks the device or the model cannot go."""
    from seqviz.core.devices import DeviceError, check_device

    device = check_device(device)
    if device == "cpu":
        return model
    move = getattr(model, "to_device", None)
    if move is None:
        raise DeviceError(f"{model.label} runs on the CPU only: open it with --device cpu")
    move(device)
    return model


def run(
    model: SequenceModel,
    text: str,
    truncate: bool = False,
    edits: tuple = (),
    made_for: int | None = None,
    masks: tuple[int, ...] = (),
) -> Run:
    """Trace `text` with the model (and `edits`, seqviz.edits; a masked LM with its mask token on the
    0-based positions `masks`). Edits made for a text of `made_for` steps are fitted to this one's
    (what_if.fit_to_length). Raises InputProblem for empty, too long or unreadable input."""
    from seqviz.core.tokenize import UnknownTokenError

    try:
        return _run(model, text, truncate, tuple(edits), made_for, tuple(masks))
    except UnknownTokenError as exc:  # a vocabulary without an unknown token: name the word
        raise InputProblem("unknown_word", str(exc)) from None


def _run(
    model: SequenceModel, text: str, truncate: bool, edits: tuple, made_for: int | None, masks: tuple
) -> Run:
    num_tokens = model.count_tokens(text)
    if num_tokens == 0:
        raise InputProblem("empty", "The input is empty: type some text to run the model.")
    limit = model.max_length
    truncated_from = None
    model_text = text
    if limit is not None and num_tokens > limit:
        if not truncate:
            raise InputProblem(
                "too_long",
                f"The input has {num_tokens} tokens; {model.label} reads at most {limit}.",
                num_tokens,
                limit,
            )
        model_text, truncated_from = model.truncate(text, limit), num_tokens
    dropped: tuple[str, ...] = ()
    if made_for is not None and model.head != "seq2seq":  # a seq2seq model's steps are its outputs
        steps = num_tokens if truncated_from is None else model.count_tokens(model_text)
        edits, dropped = what_if.fit_to_length(edits, made_for, steps)
    trace = bundled_traces.trace_text(model, model_text, edits, masks)
    notes = trace_notes(trace, edits)
    if dropped:
        notes = (*notes, f"Edits past the end of this text were dropped: {'; '.join(dropped)}.")
    if truncated_from is not None:
        notes = (f"Showing the first {limit} of {truncated_from} tokens (the model's limit).", *notes)
    return Run(trace, text, truncated_from, notes, model_text, tuple(edits), masks)


def trace_notes(trace: Trace, edits: tuple = ()) -> tuple[str, ...]:
    """What a person must know to read this trace correctly, one sentence each. `edits`: the edits it
    was traced with, described as the panels number things (default: the trace's own descriptions)."""
    notes = []
    if not trace.meta.causal:
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
    unknown = trace.meta.unknown
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:12]) + (", ..." if len(unknown) > 12 else "")
        notes.append(f"Not in the model's vocabulary (it reads its unknown token; outlined in red): {shown}")
    if trace.meta.edits:
        described = what_if.describe_all(edits) if edits else trace.meta.edits
        notes.append(
            f"Edited model ({', '.join(described)}): every number is what the edited model computes."
        )
    if trace.meta.input_note:
        notes.append(f"This model has no tokenizer: each step's input is a {trace.meta.input_note}.")
    diverged = nonfinite_arrays(trace)
    if diverged:
        shown = ", ".join(diverged[:4]) + (", ..." if len(diverged) > 4 else "")
        notes.append(
            f"The model diverged: {shown} hold NaN or infinite values, drawn as empty cells (NaN) or "
            "at the end of the colour scale (inf); the numbers are what the model computes."
        )
    return tuple(notes)


# Stored traces: the start-up preview ----------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """A bundled model's stored trace of a text (seqviz.core.trace_cache), shown while the model loads."""

    source: str  # the catalogue id
    label: str  # as the loaded model will be labelled
    text: str
    trace: Trace
    examples: tuple[str, ...]


def stored_preview(source: Any, text: str | None, device: str = "cpu") -> Preview | None:
    """The stored trace of `text` (None: the model's first example) by the bundled model `source`, or
    None: not a bundled model, not on the CPU, or nothing stored. Never imports torch."""
    entry = catalogue.find(source) if isinstance(source, str) else None
    if entry is None or entry.path is None or device != "cpu":
        return None
    text = text if text is not None else next(iter(entry.examples), "")
    trace = trace_cache.find(entry.path, text) if text else None
    if trace is None:
        return None
    return Preview(source, entry.card.get("title") or entry.id, text, trace, entry.examples)


def keep_shown(run: Run, shown: Trace | None) -> Run:
    """`run` holding the trace on screen, `shown`, in place of its own when the two are identical (the
    panels keep what they show, the step included); else `run` as it is."""
    if shown is None or run.trace is shown or not trace_cache.same_trace(run.trace, shown):
        return run
    return dataclasses.replace(run, trace=shown)


def remember(model: SequenceModel, run: Run, device: str = "cpu") -> None:
    """Keep the trace of a bundled model's plain run (no edits, masks or truncation; on the CPU) for
    the next start, which shows it while the model loads."""
    path = bundled_traces.model_file(model.source) if isinstance(model.source, str) else None
    if path is None or device != "cpu" or run.edits or run.masks or run.truncated_from is not None:
        return
    trace_cache.store(path, run.text, run.trace)


# Generation ---------------------------------------------------------------------------------------


def sample_next(
    probs: np.ndarray, temperature: float, rng: np.random.Generator, banned: tuple[int, ...] = ()
) -> int:
    """Pick the next token id from probs (V,): greedy when temperature <= 0, else sample p**(1/T)."""
    from seqviz.core.inference import pick_token

    with np.errstate(divide="ignore"):
        log_probs = np.log(np.asarray(probs, np.float64))  # 0 -> -inf: never picked
    return pick_token(log_probs, temperature, rng, banned)


def generate_one(model: SequenceModel, run_now: Run, temperature: float, rng: np.random.Generator) -> Run:
    """Append one sampled token to the input of `run_now` and trace the longer text."""
    if not model.can_generate:
        raise InputProblem("no_text", f"{model.label} does not generate: it is not a causal language model.")
    limit = model.max_length
    if run_now.truncated_from is not None or (limit is not None and run_now.trace.num_steps >= limit):
        raise InputProblem("too_long", "The input has reached the model's length limit.", max_len=limit)
    probs = model.next_token_probs(run_now.trace)  # (V,): top-k traces keep the last step's in full
    token_id = sample_next(probs, temperature, rng, model.generation_banned())
    text = model.extend_text(run_now.text, token_id)
    if run_now.edits:  # an edited model has no cache of its own: trace the longer text with the edits
        new = run(model, text, edits=run_now.edits, made_for=run_now.trace.num_steps)
        return dataclasses.replace(new, trace=generated(new.trace, run_now.trace))
    trace = generated(model.append(run_now.trace, run_now.text, token_id), run_now.trace)
    return Run(trace, text, notes=trace_notes(trace), model_text=text)


def generated(trace: Trace, before: Trace) -> Trace:
    """`trace` (`before` and the tokens generated after it) marked as generated from where `before`'s
    typed tokens end (`meta.prompt_length`), keeping `before`'s typed pieces (an unknown word's)."""
    prompt = before.meta.prompt_length
    changes: dict = {"prompt_length": before.num_steps if prompt is None else prompt}
    pieces = before.meta.extra.get("pieces")
    if isinstance(pieces, (list, tuple)) and "pieces" not in trace.meta.extra:
        changes["pieces"] = [*pieces, *trace.tokens[len(pieces) :]]
    trace.meta = trace.meta.replace(**changes)
    return trace
