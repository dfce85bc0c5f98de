"""SequenceModel: everything the app (or a script) may ask of a model it opened — one interface for all.

Bundled and saved seqviz models, bare torch modules and (next) Hugging Face and users' PyTorch models
implement it, so the app never dispatches on a class name and never assumes a tokenizer: it asks the
model how text splits into tokens, how a token reads, which tokens are special, how long an input may be,
what the output head is, whether it generates, and how to trace. `seqviz.core.adapters.open_model(obj)`
wraps a torch object in the right implementation.

Text in, text out: `tokens(text)` are the pieces the model reads; `extend_text(text, token_id)` is `text`
with one more output token, written so that the tokenizer reads it back as the same pieces plus that one
(for subword tokenizers this is decoding ids, never pasting strings).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

from seqviz.core.token_display import display_token
from seqviz.core.trace import Trace

HEADS = ("lm", "classify", "tag", "seq2seq", "mlm", "")  # "" = no output head (a bare module, an encoder)


class UnknownOptionError(TypeError):
    """`trace(..., option=...)` named an option this model does not take; the message lists those it does."""


class SequenceModel(ABC):
    """One opened model. Subclasses set the attributes in their constructor and implement the methods.

    Attributes:
        module       the torch object being traced (an nn.Module)
        source       how it was opened: a bundled id or a file path ("" when built in code)
        label        a short human name for titles and pictures
        examples     texts to start from (the first is the default input)
        text_domain  which texts fit this model: models with equal, non-empty domains read the same
                     texts (the app keeps the text when switching between them, and not otherwise)
        head         the output head: "lm" (next token), "classify", "tag", "seq2seq", "mlm" (masked
                     language model: what fits at each position) or "" (none)
        output_labels what each output column stands for (K,)
        max_length   the longest input in tokens, or None
        special_tokens tokens that are markup, not text (never generated, marked in the token strip)
        trace_options the keyword options `trace` accepts
        causal       whether step t sees only tokens <= t
    """

    module: Any = None
    source: str = ""
    label: str = ""
    examples: tuple[str, ...] = ()
    text_domain: str = ""
    head: str = ""
    output_labels: tuple[str, ...] = ()
    max_length: int | None = None
    special_tokens: frozenset[str] = frozenset()
    trace_options: frozenset[str] = frozenset()
    causal: bool = True

    # text and tokens ------------------------------------------------------------------------------
    @abstractmethod
    def tokens(self, text: str) -> list[str]:
        """The pieces the model reads for `text` (unknown pieces as the model's unknown token)."""

    def encode(self, text: str) -> list[int]:
        """The token ids of `text` (what the model's embedding reads)."""
        raise TypeError(f"{self.label or type(self.module).__name__} reads vectors, not token ids")

    def decode(self, ids: list[int]) -> str:
        """Text for output ids (`output_labels`), as the tokenizer joins its pieces."""
        raise TypeError(f"{self.label or type(self.module).__name__} has no output vocabulary")

    def count_tokens(self, text: str) -> int:
        return len(self.tokens(text))

    def unknown(self, text: str) -> list[str]:
        """Pieces of `text` the model cannot represent (shown as its unknown token), without repeats."""
        return []

    def display(self, token: str) -> str:
        """How a token reads on screen (chips, axes, tooltips, equations)."""
        return display_token(token)

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` that has at most `max_tokens` tokens."""
        lo, hi = 0, len(text)
        while lo < hi:  # token counts grow with the prefix length, so bisect on it
            mid = (lo + hi + 1) // 2
            if self.count_tokens(text[:mid]) <= max_tokens:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo]

    # generation -----------------------------------------------------------------------------------
    @property
    def can_generate(self) -> bool:
        """Causal language models extend their input one sampled token at a time."""
        return self.head == "lm" and self.causal

    def generation_banned(self) -> tuple[int, ...]:
        """Output ids generation never picks: the special tokens."""
        return tuple(i for i, label in enumerate(self.output_labels) if label in self.special_tokens)

    def extend_text(self, text: str, token_id: int) -> str:
        """`text` with output token `token_id` appended, as the tokenizer will read it again."""
        raise NotImplementedError(f"{self.label or type(self).__name__} does not generate")

    def next_token_probs(self, trace: Trace) -> Any:
        """(K,) the distribution of the token after the last of `trace`, which generation samples from
        (models with a large vocabulary keep it beside their top-k: `next_probs`)."""
        return trace["next_probs"] if "next_probs" in trace else trace["probs"][-1]

    def append(self, trace: Trace, text: str, token_id: int) -> Trace:
        """The trace of `extend_text(text, token_id)`. Models with a key/value cache extend `trace`
        instead of tracing again; the result is the same."""
        return self.trace(self.extend_text(text, token_id))

    # tracing --------------------------------------------------------------------------------------
    def trace(self, inputs: Any, **options: Any) -> Trace:
        """Run the model over `inputs` (text, tokens, or what the module takes) once; see docs/trace.md."""
        check_options(self, options)
        return self._trace(inputs, **options)

    @abstractmethod
    def _trace(self, inputs: Any, **options: Any) -> Trace:
        """The trace, with options already checked."""

    def gradient_map(self, trace: Trace, options: dict[str, Any]) -> Any:
        """The input-gradient map of `trace` (a seqviz.core.gradients_map.InputGradients) for models that
        differentiate themselves (Hugging Face); None lets seqviz.core.gradients_map choose."""
        return None


def check_options(model: SequenceModel, options: Iterable[str]) -> None:
    unknown = sorted(set(options) - model.trace_options)
    if unknown:
        takes = ", ".join(sorted(model.trace_options)) or "none"
        name = model.label or type(model.module).__name__
        raise UnknownOptionError(
            f"{name} has no trace option {', '.join(map(repr, unknown))}; the options it takes: {takes}"
        )
