"""What a token chip says beyond its label, without Qt: the tokenizer's own piece, whether the token is
special (markup such as "[CLS]" or "</s>", not text), whether a mask can go there, whether it is a word
the model does not know (the chip shows the word, marked, not only "<unk>") and whether the model
generated it.

A trace's `tokens` read as a person reads them (a Hugging Face model's "Ġthe" is " the"); the raw
pieces are in `meta.extra["pieces"]` (output row) and `meta.extra["source_pieces"]` (source row of a
sequence-to-sequence trace), when the tokenizer has its own. Which tokens are special is the model's
to say (`SequenceModel.special_tokens`, raw pieces): the window hands them to the strip.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from seqviz.core.token_display import token_tooltip
from seqviz.core.trace import Trace

_PIECE_KEYS = {"tokens": "pieces", "source": "source_pieces"}


def raw_pieces(trace: Trace, row: str = "tokens") -> list[str] | None:
    """The tokenizer's pieces of `row` ("tokens" or "source"), one per token, if the trace has them."""
    tokens = trace.tokens if row == "tokens" else trace.source_tokens
    pieces = trace.meta.extra.get(_PIECE_KEYS[row])
    if isinstance(pieces, (list, tuple)) and len(pieces) == len(tokens):
        return [str(p) for p in pieces]
    return None


def special_positions(tokens: list[str], pieces: list[str] | None, special: Iterable[str]) -> frozenset[int]:
    """0-based positions whose raw piece (else the token itself) is one of the `special` tokens."""
    special = frozenset(special)
    raw = pieces if pieces is not None else tokens
    return frozenset(i for i, piece in enumerate(raw) if piece in special)


def unknown_positions(unknown: Iterable[str], tokens: list[str], pieces: list[str] | None) -> frozenset[int]:
    """0-based positions of a row of `tokens` whose typed piece is one of the `unknown` words (a trace's
    `meta.unknown`, outside the vocabulary): the model read them as its unknown token."""
    unknown = set(unknown)
    if pieces is None or not unknown:
        return frozenset()
    return frozenset(i for i, piece in enumerate(pieces) if piece in unknown and piece != tokens[i])


def generated_from(trace: Trace) -> int | None:
    """The 0-based position of the first token the model generated (`meta.prompt_length`), or None."""
    given = trace.meta.prompt_length
    return given if given is not None and 0 <= given < trace.num_steps else None


UNKNOWN_NOTE = "not in the model's vocabulary: the model reads it as '{}'"


def chip_tooltip(
    where: str, token: str, piece: str | None = None, special: bool = False, mask_hint: str = ""
) -> str:
    """A chip's hover text, as rich text (QToolTip reads a first line holding "<s>" as a tag
    otherwise): the token exactly, the tokenizer's piece when it differs, and what else applies."""
    lines = [f"{where}: {token_tooltip(token)}"]
    if piece is not None and piece != token:
        lines.append(f"tokenizer piece: {token_tooltip(piece)}")
    if special:
        lines.append("a special token (markup the tokenizer adds, not text)")
    if mask_hint:
        lines.append(mask_hint)
    return "<br>".join(f"<nobr>{html.escape(line)}</nobr>" for line in lines)


def masked(trace: Trace) -> frozenset[int]:
    """0-based positions holding a masked language model's mask token (put on, or typed)."""
    return frozenset(int(p) for p in trace.meta.extra.get("masked", ()))


def mask_hint(trace: Trace, position: int, special: frozenset[int]) -> str:
    """What a double-click on the chip at `position` does to a masked language model's input ("" when
    nothing: other models, special tokens)."""
    if trace.meta.task != "mlm" or position in special:
        return ""
    if position not in masked(trace):
        return "double-click: mask it and see the predictions"
    targets = trace.meta.targets  # the true token of a mask put on a token; -1 for one typed in the text
    if position < len(targets) and targets[position] >= 0:
        return "double-click: take the mask off"
    return "the mask token typed in the text"
