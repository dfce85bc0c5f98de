"""A Hugging Face tokenizer seen as seqviz sees tokens: ids, the raw pieces, and how each piece reads.

`Pieces(tokenizer)` wraps a transformers tokenizer: `encode(text)` gives the ids the model reads
(special tokens included, as the tokenizer adds them), `raw(ids)` the tokenizer's own pieces and
`shown(ids)` the pieces as a person reads them (seqviz.core.hf.tokens), `unknown(text)` the stretches
of text that became the unknown token, and `extend(text, id)` the text with one more token, written
by decoding ids (never by pasting a piece).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seqviz.core.hf.tokens import marker_style, piece_text


class Pieces:
    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.style = marker_style(tokenizer)
        self.special = frozenset(str(t) for t in tokenizer.all_special_tokens)
        self.special_ids = frozenset(int(i) for i in tokenizer.all_special_ids)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=True)["input_ids"])

    def raw(self, ids: Sequence[int]) -> list[str]:
        pieces = self.tokenizer.convert_ids_to_tokens([int(i) for i in ids])
        return [p if p is not None else f"<{i}>" for p, i in zip(pieces, ids, strict=True)]

    def shown(self, ids: Sequence[int]) -> list[str]:
        return [piece_text(p, self.style, self.special) for p in self.raw(ids)]

    def vocabulary(self, size: int) -> tuple[str, ...]:
        """How each of the `size` output ids reads (ids beyond the tokenizer read '<id>')."""
        return tuple(self.shown(range(size)))

    def unknown(self, text: str) -> list[str]:
        """Stretches of `text` read as the unknown token, without repeats."""
        unk = self.tokenizer.unk_token_id
        if unk is None:
            return []
        try:
            enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        except (NotImplementedError, TypeError, ValueError):  # tokenizers without offsets
            return []
        found: list[str] = []
        for i, (start, end) in zip(enc["input_ids"], enc["offset_mapping"], strict=True):
            if i == unk and text[start:end] not in found:
                found.append(text[start:end])
        return found

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode([int(i) for i in ids], clean_up_tokenization_spaces=False)

    def extend(self, text: str, token_id: int) -> str:
        """`text` and one more token: the decoded text of its ids and the token, keeping `text` as typed
        when that decoding starts with the decoding of `text` alone."""
        ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        before, after = self.decode(ids), self.decode([*ids, int(token_id)])
        return text + after[len(before) :] if after.startswith(before) else after
