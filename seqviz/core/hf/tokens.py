"""How a tokenizer's pieces read on screen: the text a piece stands for, its marker turned into what it
means.

- byte-level BPE (GPT-2, RoBERTa, BART, Qwen): each character stands for a byte ('Ġ' is a space, 'Ċ' a
  line break); the bytes are decoded as UTF-8 ("Ġthe" reads " the"; a byte that is only part of a
  character reads "<0xE2>").
- SentencePiece (T5, Llama, Mistral, Marian): '▁' is a space ("▁the" reads " the"); byte pieces such as
  "<0x0A>" read as the character when it is one byte.
- WordPiece (BERT, DistilBERT): "##" marks a piece that continues a word ("##ing" reads "ing").
- Special tokens ("[CLS]", "</s>", "<|endoftext|>") read as themselves.

seqviz.core.token_display then makes spaces and line breaks visible (" the" shows as "␣the"), as for
every model; the raw piece is kept for tooltips (`trace.meta.extra["pieces"]`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

BYTE_LEVEL, METASPACE, WORDPIECE, PLAIN = "byte-level", "sentencepiece", "wordpiece", "plain"
_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")


@functools.cache
def byte_of_char() -> dict[str, int]:
    """The inverse of byte-level BPE's byte -> printable character table (GPT-2's bytes_to_unicode)."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars = list(printable)
    shifted = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + shifted)
            shifted += 1
    return {chr(c): b for b, c in zip(printable, chars, strict=True)}


def marker_style(tokenizer: Any) -> str:
    """Which marker convention the tokenizer's pieces use (BYTE_LEVEL, METASPACE, WORDPIECE or PLAIN),
    from its decoder when it has a `tokenizers` backend, else from its vocabulary."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    decoder = repr(getattr(backend, "decoder", None))
    for style, names in (
        (BYTE_LEVEL, ("ByteLevel",)),
        (WORDPIECE, ("WordPiece",)),
        (METASPACE, ("Metaspace",)),
    ):
        if any(name in decoder for name in names):
            return style
    if "Replace" in decoder and "\u2581" in decoder:  # Llama's decoder: Replace('▁', ' '), ByteFallback, ...
        return METASPACE
    return _style_of_vocabulary(tokenizer.get_vocab())


def _style_of_vocabulary(vocab: Iterable[str]) -> str:
    counts = {BYTE_LEVEL: 0, METASPACE: 0, WORDPIECE: 0}
    for piece in vocab:
        if piece.startswith("\u0120"):
            counts[BYTE_LEVEL] += 1
        elif piece.startswith("\u2581"):
            counts[METASPACE] += 1
        elif piece.startswith("##"):
            counts[WORDPIECE] += 1
    style, count = max(counts.items(), key=lambda item: item[1])
    return style if count else PLAIN


def piece_text(piece: str | None, style: str, special: frozenset[str] = frozenset()) -> str:
    """The text `piece` stands for, in the tokenizer's `style` (special tokens as they are)."""
    if piece is None:
        return ""
    if piece in special:
        return piece
    if style == BYTE_LEVEL:
        return _bytes_text(piece)
    if style == METASPACE:
        return _BYTE_PIECE.sub(_one_byte, piece.replace("\u2581", " "))
    if style == WORDPIECE and piece.startswith("##") and len(piece) > 2:
        return piece[2:]
    return piece


def _bytes_text(piece: str) -> str:
    table = byte_of_char()
    if any(ch not in table for ch in piece):  # an added token: not byte-encoded
        return piece
    data = bytes(table[ch] for ch in piece)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # part of a character: whole characters as text, loose bytes as <0xNN>
        return "".join(_utf8_parts(data))


def _utf8_parts(data: bytes) -> list[str]:
    parts, i = [], 0
    while i < len(data):
        for end in range(min(len(data), i + 4), i, -1):
            try:
                parts.append(data[i:end].decode("utf-8"))
                i = end
                break
            except UnicodeDecodeError:
                continue
        else:
            parts.append(f"<0x{data[i]:02X}>")
            i += 1
    return parts


def _one_byte(match: re.Match) -> str:
    """SentencePiece's byte fallback: '<0x0A>' is a line break; a byte of a longer character stays."""
    value = int(match.group(1), 16)
    return chr(value) if value < 0x80 else match.group(0)
