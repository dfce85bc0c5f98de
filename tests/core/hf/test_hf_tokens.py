"""Tokenizers' pieces as a person reads them: byte-level 'Ġ', SentencePiece '▁', WordPiece '##'."""

from __future__ import annotations

import pytest
from hf_folders import folder

from seqviz.core import hf
from seqviz.core.hf.tokens import BYTE_LEVEL, METASPACE, PLAIN, WORDPIECE, marker_style, piece_text
from seqviz.core.token_display import display_token


def byte_piece(text: str) -> str:
    """`text` as a byte-level BPE piece (each UTF-8 byte as its printable stand-in)."""
    from seqviz.core.hf.tokens import byte_of_char

    char_of = {b: c for c, b in byte_of_char().items()}
    return "".join(char_of[b] for b in text.encode("utf-8"))


@pytest.mark.parametrize(
    ("piece", "style", "text"),
    [
        ("\u0120the", BYTE_LEVEL, " the"),
        ("\u010a", BYTE_LEVEL, "\n"),
        (byte_piece("é"), BYTE_LEVEL, "é"),
        (byte_piece("☃")[:2], BYTE_LEVEL, "<0xE2><0x98>"),  # part of a character: its bytes
        ("<|endoftext|>", BYTE_LEVEL, "<|endoftext|>"),
        ("\u2581the", METASPACE, " the"),
        ("<0x0A>", METASPACE, "\n"),
        ("<0xE2>", METASPACE, "<0xE2>"),
        ("##ing", WORDPIECE, "ing"),
        ("##", WORDPIECE, "##"),
        ("play", WORDPIECE, "play"),
        ("word", PLAIN, "word"),
    ],
)
def test_piece_text(piece, style, text):
    assert piece_text(piece, style, frozenset({"<|endoftext|>"})) == text


@pytest.mark.parametrize(
    ("model_type", "style", "before", "after"),
    [
        ("gpt2", BYTE_LEVEL, [], []),
        ("llama", METASPACE, ["<s>"], []),
        ("bert", WORDPIECE, ["[CLS]"], ["[SEP]"]),
        ("t5", METASPACE, [], ["</s>"]),
    ],
)
def test_each_tokenizer_reads_as_text(model_type, style, before, after):
    """The pieces read back as the text (markers turned into spaces, WordPiece's '##' dropped), with
    the special tokens the tokenizer adds as they are. (How words split depends on the tokenizer each
    test session trains.)"""
    model = hf.load_folder(folder(model_type))
    text = "hello world, the fox"
    assert marker_style(model.tokenizer) == style
    shown = model.tokens(text)
    inner = shown[len(before) : len(shown) - len(after)]
    assert shown[: len(before)] == before and shown[len(shown) - len(after) :] == after
    joined = "".join(inner)
    if style == WORDPIECE:  # words split on spaces and punctuation; no marker is left in a piece
        assert joined == text.replace(" ", "") and not any(p.startswith("##") for p in inner)
        return
    assert joined == (" " + text if style == METASPACE else text)  # SentencePiece: a space before it all
    assert not any(marker in "".join(shown) for marker in ("\u0120", "\u2581"))
    assert "\u2423" in display_token(next(p for p in inner if p.startswith(" ")))  # ␣: a visible space


def test_a_tokenizer_without_a_backend_is_read_from_its_vocabulary():
    class Slow:
        def get_vocab(self):
            return {"\u2581the": 0, "\u2581a": 1, "b": 2}

    assert marker_style(Slow()) == METASPACE
