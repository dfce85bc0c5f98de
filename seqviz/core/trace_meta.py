"""TraceMeta: what a trace says about the model and input it came from (docs/trace.md has the contract).

Typed fields replace the untyped dict the app used to read by key: a misspelt field is an
AttributeError, not a silent default. Anything a producer wants to add that is not a field (torch
module options such as `nonlinearity` or `norm_first`) goes to `extra`, so no information is dropped
and `to_dict` / `from_dict` round-trip every trace file, old ones included.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ARCHS = ("rnn", "gru", "lstm", "transformer", "gru-attention", "unknown")
KINDS = ("recurrent", "encoder", "decoder", "encoder-decoder")
TASKS = ("", "lm", "classify", "tag", "seq2seq", "mlm")


@dataclass(frozen=True)
class TraceMeta:
    """Metadata of one trace. Tuples, not lists: a trace is read-only.

    Shapes: T steps (the trace's tokens), S source positions (encoder-decoders), K outputs.
    """

    arch: str = "unknown"  # "rnn", "gru", "lstm", "transformer", "gru-attention"
    kind: str = "recurrent"  # "recurrent", "encoder", "decoder" or "encoder-decoder"
    task: str = ""  # the output head: "lm", "classify", "tag", "seq2seq", "mlm"; "" for a bare module
    causal: bool = True  # step t saw only tokens <= t (encoder-decoders: their decoder)
    num_layers: int = 1
    num_directions: int = 1  # 2 for a bidirectional recurrent model
    hidden_size: int = 0  # H, or d_model for Transformers
    num_heads: int = 0  # attention heads per layer (0: no attention)
    model_id: str = ""  # the bundled id or file the trace came from, if any
    output_labels: tuple[str, ...] = ()  # (K,): what each column of `probs` stands for
    token_ids: tuple[int, ...] = ()  # (T,): the ids the model ran (decoders: what append continues)
    source_ids: tuple[int, ...] = ()  # (S,): encoder-decoders' source
    decoder_input_ids: tuple[int, ...] = ()  # (T,): encoder-decoders' decoder inputs (<s>, y_1, ...)
    output_ids: tuple[int, ...] = ()  # (T,): encoder-decoders' greedy outputs (</s> included)
    output_text: str = ""  # encoder-decoders: the output as text, up to </s>
    decoder_start: str = ""  # encoder-decoders: the token the decoder starts from (its first input)
    targets: tuple[int, ...] = ()  # (T,): the true output per step where known, -1 where not; () unknown
    prompt_length: int | None = None  # generated traces: how many tokens were given
    unknown: tuple[str, ...] = ()  # input words not in the vocabulary (shown as the unknown token)
    input_note: str = ""  # how inputs were made when not the model's own (e.g. vectors per character)
    edits: tuple[str, ...] = ()  # the edits the model ran with (seqviz.edits), described
    gradient_target: str = ""  # y_t of `input_gradient_norm`: "log p(prediction)", "‖h_t‖ of the top layer"
    extra: Mapping[str, Any] = field(default_factory=dict)  # producer specifics, JSON-serialisable

    @property
    def is_recurrent(self) -> bool:
        return self.kind == "recurrent"

    @property
    def target(self) -> int | None:
        """The true class of a classification trace (its last step's target), if known."""
        return self.targets[-1] if self.targets and self.targets[-1] >= 0 else None

    def replace(self, **changes: Any) -> TraceMeta:
        """A copy with `changes`; keys that are not fields go to `extra`."""
        names = _field_names()
        extra = {**self.extra, **{k: v for k, v in changes.items() if k not in names}}
        known = {k: _normalise(k, v) for k, v in changes.items() if k in names and k != "extra"}
        if "extra" in changes:
            extra.update(changes["extra"])
        return dataclasses.replace(self, **known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the fields (lists for tuples) and `extra` flattened beside them."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return {**dict(self.extra), **out}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TraceMeta:
        """Read `to_dict` output, or the untyped dicts of older trace files (unknown keys go to `extra`;
        the keys those files used for the same things are mapped)."""
        data = dict(data or {})
        if "input" in data and "input_note" not in data:
            data["input_note"] = data.pop("input")
        if "target" in data and "targets" not in data:  # a classification file's single answer
            data["targets"] = [data.pop("target")]
        if "decoder_causal" in data:
            data["causal"] = data.pop("decoder_causal")
        if "kind" not in data:
            data["kind"] = "recurrent" if data.get("arch") in ("rnn", "gru", "lstm") else "decoder"
        return cls().replace(**data)


def as_meta(meta: TraceMeta | Mapping[str, Any] | None) -> TraceMeta:
    return meta if isinstance(meta, TraceMeta) else TraceMeta.from_dict(meta)


def _field_names() -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(TraceMeta))


_INT_TUPLES = {"token_ids", "source_ids", "decoder_input_ids", "output_ids", "targets"}


def _normalise(name: str, value: Any) -> Any:
    """Fields hold immutable, plain values whatever a producer passed (lists, numpy ints)."""
    if name in _INT_TUPLES:
        return tuple(int(v) for v in value or ())
    if name in ("output_labels", "unknown", "edits"):
        return tuple(str(v) for v in value or ())
    if name in ("num_layers", "num_directions", "hidden_size", "num_heads"):
        return int(value)
    if name == "causal":
        return bool(value)
    if name == "prompt_length":
        return None if value is None else int(value)
    return value
