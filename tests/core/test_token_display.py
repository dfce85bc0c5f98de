"""The one rule for how a token reads: whitespace and controls visible, words and special tokens intact."""

from __future__ import annotations

import pytest

from seqviz.core.token_display import display_token, token_tooltip


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("", "\u2205"),  # an empty token still has a visible label
        (" ", "\u2423"),
        ("\n", "\u23ce"),
        ("\t", "\u21e5"),
        ("\r", "\u21e4"),
        ("\r\n", "\u21e4\u23ce"),
        ("a\tb", "a\u21e5b"),
        ("new york", "new york"),  # a space between words stays a space
        (" the", "\u2423the"),  # a leading-space piece shows its space
        ("york ", "york\u2423"),
        ("new  york", "new\u2423\u2423york"),  # two spaces cannot pass for one
        ("  ", "\u2423\u2423"),
        ("<unk>", "<unk>"),
        ("</s>", "</s>"),
        ("<s>", "<s>"),
        ("[CLS]", "[CLS]"),
        ("france", "france"),
        ("état", "état"),
        ("\u00a0", "\u27e8U+00A0\u27e9"),  # a no-break space is not an ordinary space
        ("a\u200bb", "a\u27e8U+200B\u27e9b"),  # a zero-width space would be invisible
        ("\x07", "\u27e8U+0007\u27e9"),
    ],
)
def test_display_token(token, shown):
    assert display_token(token) == shown


def test_tokens_that_differ_read_differently():
    tokens = ["", " ", "\n", "\t", "\r", "\r\n", "  ", " a", "a ", "a b", "a  b", "\u00a0", "a", "<s>"]
    assert len({display_token(t) for t in tokens}) == len(tokens)


def test_display_is_never_shortened():
    assert display_token("x" * 300) == "x" * 300


@pytest.mark.parametrize(
    ("token", "tip"),
    [
        ("\r", "'\\r' (carriage return)"),
        ("", "'' (empty token)"),
        (" ", "' ' (space)"),
        ("\n", "'\\n' (line break)"),
        ("\t", "'\\t' (tab)"),
        ("\u00a0", "'\\xa0' (no-break space)"),
        ("new york", "'new york'"),
        ("<unk>", "'<unk>'"),
    ],
)
def test_tooltip_gives_the_exact_piece(token, tip):
    assert token_tooltip(token) == tip
