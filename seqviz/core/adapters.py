"""The SequenceModel implementations for what seqviz opens today: its own token models, bare torch
recurrent and Transformer modules, and modules that trace themselves (`__seqviz_trace__`).

`open_model(obj)` picks one (the one place that looks at what kind of object it was given).
"""

from __future__ import annotations

import functools
import inspect
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from seqviz.core.edits import apply_edits, split_edits
from seqviz.core.edits import describe as describe_edits
from seqviz.core.edits_values import refuse_value_edits
from seqviz.core.model_interface import SequenceModel
from seqviz.core.tokenize import SPECIAL_TOKENS
from seqviz.core.trace import Trace

CHARACTER_VECTORS = "fixed random vector per character"
_ABLATE_INSTEAD = "AblateHead(layer, head) edits its attention"


class TokenModelAdapter(SequenceModel):
    """A seqviz TokenModel (bundled, saved, or built by the demos): its tokenizer, head and card."""

    def __init__(self, model: Any, source: str = "", label: str = "") -> None:
        card = model.card
        self.module = model
        self.source = source or card.id
        self.label = label or card.title or card.id or "seqviz model"
        self.examples = tuple(card.examples)
        # The lecture task: a text written for one sentiment model fits every sentiment model.
        self.text_domain = f"seqviz:{card.task}" if card.task else ""
        self.head = model.task
        self.output_labels = tuple(model.output_labels)
        self.max_length = _max_len(model)
        vocab = set(model.tokenizer.vocab) | set(model.output_labels)
        self.special_tokens = frozenset(t for t in SPECIAL_TOKENS if t in vocab)
        self.trace_options = frozenset(getattr(model.backbone, "trace_options", ())) | {
            "targets",
            "edits",
            "gradients",
        }
        self.causal = bool(model.causal)

    def tokens(self, text: str) -> list[str]:
        return self.module.tokenizer.labels(text)

    def unknown(self, text: str) -> list[str]:
        return self.module.tokenizer.unknown(text)

    def encode(self, text: str) -> list[int]:
        return self.module.tokenizer.encode(text)

    def decode(self, ids: list[int]) -> str:
        tokenizer = self.module.target_tokenizer or self.module.tokenizer  # outputs: the target side
        return tokenizer.join([self.output_labels[i] for i in ids])

    def extend_text(self, text: str, token_id: int) -> str:
        token = self.output_labels[token_id]
        if self.module.tokenizer.level == "char":
            return text + token
        return f"{text} {token}" if text else token

    def append(self, trace: Trace, text: str, token_id: int) -> Trace:
        from seqviz.core.transformer import DecoderOnlyTransformer

        if isinstance(self.module.backbone, DecoderOnlyTransformer) and trace.meta.token_ids:
            from seqviz.core.generate import append_token  # one row per layer from cached keys/values

            return append_token(self.module, trace, token_id)
        return super().append(trace, text, token_id)

    def _trace(self, inputs: Any, gradients: bool = False, **options: Any) -> Trace:
        tr = self._plain_trace(inputs, **options)
        return _with_gradients(self, tr, inputs, options) if gradients else tr

    def _plain_trace(
        self, inputs: Any, targets: Sequence[Any] | None = None, edits: Sequence[Any] = (), **options: Any
    ) -> Trace:
        weights, values = split_edits(edits)
        module = apply_edits(self.module, weights)
        if values:  # states set while the recurrent stack (or the GRU decoder) runs
            if module.arch == "transformer":
                refuse_value_edits(values, f"{self.label} is a Transformer: it", _ABLATE_INSTEAD)
            options["edits"] = values
        tr = module.__seqviz_trace__(inputs, **options)
        if targets is not None:
            tr.meta = tr.meta.replace(targets=self._target_ids(targets, tr.num_steps))
        return _with_edits(tr, edits)

    def _target_ids(self, targets: Sequence[Any], steps: int) -> list[int]:
        """Output indices of the true answers: labels or ids, None where not known (-1)."""
        index = {label: i for i, label in enumerate(self.output_labels)}
        ids = [
            -1 if t is None else int(t) if isinstance(t, (int, np.integer)) else index.get(t, -1)
            for t in targets
        ]
        if self.head != "classify" and len(ids) != steps:
            raise ValueError(f"targets= gives {len(ids)} answers for {steps} steps; give one per step")
        return ids


class TorchModuleAdapter(SequenceModel):
    """A bare nn.RNN/GRU/LSTM or torch Transformer module. Inputs are vectors; text is fed as one fixed
    pseudo-random vector per character, so any text can be stepped through its dynamics."""

    def __init__(self, module: Any, source: str = "", label: str = "") -> None:
        import torch.nn as nn

        from seqviz.core.transformer_trace import trace_transformer

        self.module = module
        self.source = source
        self.label = label or type(module).__name__
        self.text_domain = "characters"  # any text: one vector per character
        self._recurrent = isinstance(module, nn.RNNBase)
        if self._recurrent:
            from seqviz.core.recurrent import trace_recurrent

            self._tracer, self.width = trace_recurrent, module.input_size
            self.causal = not module.bidirectional
        else:
            self._tracer, self.width = trace_transformer, _d_model(module)
            self.causal = False  # unless a causal mask is given
        self.trace_options = _keyword_names(self._tracer, skip=("module", "model", "inputs")) | {
            "edits",
            "gradients",
        }

    def tokens(self, text: str) -> list[str]:
        return list(text)

    def _trace(self, inputs: Any, gradients: bool = False, **options: Any) -> Trace:
        tr = self._plain_trace(inputs, **options)
        return _with_gradients(self, tr, inputs, options) if gradients else tr

    def _plain_trace(self, inputs: Any, edits: Sequence[Any] = (), **options: Any) -> Trace:
        weights, values = split_edits(edits)
        module = apply_edits(self.module, weights)
        tracer = self._tracer
        if values:  # states set while the recurrent stack runs (seqviz.core.recurrent_edits)
            if not self._recurrent:
                refuse_value_edits(values, f"{self.label} is a Transformer: it", _ABLATE_INSTEAD)
            from seqviz.core.recurrent_edits import trace_edited

            tracer = functools.partial(trace_edited, edits=values)
        if not isinstance(inputs, str):
            return _with_edits(tracer(module, inputs, **options), edits)
        if not inputs:
            raise ValueError("the input is empty: type at least one character")
        import torch

        dtype = next(module.parameters()).dtype
        x = torch.from_numpy(character_vectors(inputs, self.width)).to(dtype)
        tr = tracer(module, x, **{"tokens": list(inputs), **options})
        tr.meta = tr.meta.replace(input_note=CHARACTER_VECTORS)
        return _with_edits(tr, edits)


class TracingModuleAdapter(SequenceModel):
    """A module that traces itself (`__seqviz_trace__(inputs, **options)`), e.g. the project's
    Transformer backbones traced on token ids. It reads ids, not text."""

    def __init__(self, module: Any, source: str = "", label: str = "") -> None:
        self.module = module
        self.source, self.label = source, label or type(module).__name__
        self.trace_options = _keyword_names(module.__seqviz_trace__, skip=("inputs",))
        self.causal = bool(getattr(module, "causal", True))

    def tokens(self, text: str) -> list[str]:
        raise TypeError(f"a {type(self.module).__name__} reads token ids, not text")

    def _trace(self, inputs: Any, **options: Any) -> Trace:
        return self.module.__seqviz_trace__(inputs, **options)


def open_model(obj: Any, *, source: str = "", label: str = "") -> SequenceModel:
    """`obj` as a SequenceModel: itself if it already is one, else the implementation for its kind.
    Raises a TypeError that names what seqviz opens."""
    if isinstance(obj, SequenceModel):
        return obj
    _refuse_meta_weights(obj)
    from seqviz.core.seqmodel import TokenModel

    if isinstance(obj, TokenModel):
        return TokenModelAdapter(obj, source, label)
    from seqviz.core.hf.loading import is_transformers_model

    pair = isinstance(obj, tuple) and len(obj) == 2 and is_transformers_model(obj[0])
    if pair or is_transformers_model(obj):  # a Hugging Face model, or (model, tokenizer)
        from seqviz.core.hf.pretrained import open_pretrained

        model, tokenizer = obj if pair else (obj, None)
        return open_pretrained(model, tokenizer, source=source, label=label)
    import torch.nn as nn

    from seqviz.core.transformer_trace import is_transformer

    if isinstance(obj, nn.RNNBase) or is_transformer(obj):
        _refuse_own_forward(obj)
        return TorchModuleAdapter(obj, source, label)
    if callable(getattr(obj, "__seqviz_trace__", None)):
        return TracingModuleAdapter(obj, source, label)
    raise TypeError(
        f"seqviz cannot trace a {type(obj).__name__}; it takes nn.RNN, nn.GRU, nn.LSTM, torch's "
        "Transformer encoder/decoder layers and stacks, seqviz models (seqviz.load_model) and Hugging Face "
        "models (a transformers model, or (model, tokenizer))"
    )


def _refuse_meta_weights(obj: Any) -> None:
    """A module on the "meta" device has shapes but no values: say so, not torch's bare message."""
    parameters = getattr(obj, "parameters", None)
    if not callable(parameters):
        return
    try:
        on_meta = any(p.is_meta for p in parameters())
    except Exception:  # parameters() of something that is no torch module: open_model says what it takes
        return
    if on_meta:
        raise ValueError(
            f"the {type(obj).__name__} has its weights on the 'meta' device (shapes, no values), so "
            "there is nothing to trace: load its weights first (module.to_empty(device='cpu'), then "
            "module.load_state_dict(...))"
        )


def _refuse_own_forward(module: Any) -> None:
    """A subclass of a torch module with its own forward computes something else than torch's module
    does; seqviz traces torch's computation, so the arrays would not be what the module computes."""
    for part in [module, *getattr(module, "layers", ())]:
        torch_class = next(c for c in type(part).__mro__ if c.__module__.startswith("torch.nn"))
        if type(part).forward is not torch_class.forward:
            raise TypeError(
                f"seqviz cannot trace a {type(part).__name__}: it is an nn.{torch_class.__name__} with its "
                f"own forward(), and seqviz traces nn.{torch_class.__name__}'s computation, which would not "
                f"be what your forward() computes; trace the plain nn.{torch_class.__name__} it uses, or "
                "give seqviz the inputs your forward() feeds it"
            )


def _with_edits(trace: Trace, edits: Sequence[Any]) -> Trace:
    """The trace says which edits made it (pictures and the window mark an edited run)."""
    if edits:
        trace.meta = trace.meta.replace(edits=describe_edits(edits))
    return trace


def _with_gradients(model: SequenceModel, trace: Trace, inputs: Any, options: dict[str, Any]) -> Trace:
    from seqviz.core.gradients_map import with_input_gradients  # torch: imported when asked for

    return with_input_gradients(model, trace, module_inputs(model, inputs), options)


def module_inputs(model: SequenceModel, inputs: Any) -> Any:
    """What the module itself read: a bare module's text as its character vectors, else `inputs`."""
    if isinstance(model, TorchModuleAdapter) and isinstance(inputs, str):
        return character_vectors(inputs, model.width)
    return inputs


def character_vectors(text: str, size: int) -> np.ndarray:
    """(len(text), size) float32: one fixed standard-normal vector per distinct character (seeded by
    the character, so the same text always gives the same inputs)."""
    rows = [np.random.default_rng(zlib.crc32(ch.encode("utf-8"))).standard_normal(size) for ch in text]
    return np.asarray(rows, dtype=np.float32).reshape(len(text), size)


def _max_len(model: Any) -> int | None:
    """The longest input a model accepts, in tokens (Transformers have positions up to max_len)."""
    for owner in (model, getattr(model, "backbone", None)):
        limit = getattr(getattr(owner, "cfg", None), "max_len", None) or getattr(owner, "max_len", None)
        if isinstance(limit, int) and limit > 0:
            return limit
    return None


def _d_model(module: Any) -> int:
    layer = module.layers[0] if hasattr(module, "layers") else module
    return int(layer.self_attn.embed_dim)


def _keyword_names(fn: Any, skip: tuple[str, ...]) -> frozenset[str]:
    """The keyword options a tracer takes: its named parameters after the model and the inputs."""
    params = inspect.signature(fn).parameters.values()
    return frozenset(
        p.name
        for p in params
        if p.name not in skip and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"
    )
