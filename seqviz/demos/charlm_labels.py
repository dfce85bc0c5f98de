"""What each character of a Python source text is: inside a string, a docstring or a comment; how deep in
brackets; how far indented; at which column. The code LSTM's cells are measured against these.

Python's own `tokenize` finds strings, comments and brackets, so the labels are exact for any code it
reads (an escaped quote, a "#" inside a string, a bracket in a comment are what Python says they are).

Labels are per step, as the trace's arrays are: step t holds the state after reading character t. The
opening quote of a string is therefore inside it (after reading it, the model is in the string), the
closing quote outside; a comment runs from its "#" to the character before the line break.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

import numpy as np

OPENING, CLOSING = "([{", ")]}"
_STRING_END = getattr(tokenize, "FSTRING_END", None)  # Python 3.12+ splits f-strings into pieces
_STRING_START = getattr(tokenize, "FSTRING_START", None)


@dataclass(frozen=True)
class CodeLabels:
    """Per-character labels of a text of T characters; arrays (T,)."""

    string: np.ndarray  # bool: inside a one-line string literal ('...', "...", f"...")
    docstring: np.ndarray  # bool: inside a triple-quoted string
    comment: np.ndarray  # bool: inside a comment
    depth: np.ndarray  # int: open brackets after this character (outside strings and comments)
    indent: np.ndarray  # int: leading spaces of this character's line
    column: np.ndarray  # int: position in the line, 0 at its first character
    known: int  # characters before this offset were read by tokenize; later ones (an unfinished
    # string or bracket at the end of the text) carry no string, comment or bracket labels


def line_offsets(text: str) -> list[int]:
    """Offset of the first character of each line (tokenize's rows are 1-based: row r starts at [r-1])."""
    starts = [0]
    starts.extend(i + 1 for i, ch in enumerate(text) if ch == "\n")
    return starts


def layout(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(indent, column), (T,) each: the leading spaces of each character's line, its place in the line."""
    indent = np.zeros(len(text), dtype=np.int64)
    column = np.zeros(len(text), dtype=np.int64)
    at = 0
    for line in text.splitlines(keepends=True):
        n = len(line)
        indent[at : at + n] = len(line) - len(line.lstrip(" "))
        column[at : at + n] = np.arange(n)
        at += n
    return indent, column


def _tokens(text: str) -> tuple[list[tokenize.TokenInfo], bool]:
    """tokenize's tokens of `text`, as far as it reads; and whether it read to the end."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            out.append(tok)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return out, False
    return out, True


def _string_spans(tokens: list[tokenize.TokenInfo]):
    """(start, end, text) of each string literal; a 3.12+ f-string's pieces joined into one span."""
    opened = None
    for tok in tokens:
        if tok.type == _STRING_START and opened is None:
            opened = tok
        elif tok.type == _STRING_END and opened is not None:
            yield opened.start, tok.end, opened.string + tok.string
            opened = None
        elif tok.type == tokenize.STRING and opened is None:
            yield tok.start, tok.end, tok.string


def code_labels(text: str) -> CodeLabels:
    """The labels of every character of `text` (T characters)."""
    starts = line_offsets(text)

    def offset(pos: tuple[int, int]) -> int:
        return starts[pos[0] - 1] + pos[1]

    tokens, complete = _tokens(text)
    size = len(text)
    string, docstring, comment = (np.zeros(size, dtype=bool) for _ in range(3))
    for start, end, literal in _string_spans(tokens):
        quote = len(literal) - len(literal.lstrip("rRbBuUfF"))  # the prefix is outside: f"...
        triple = literal[quote : quote + 3] in ('"""', "'''")
        (docstring if triple else string)[offset(start) + quote : offset(end) - 1] = True
    step = np.zeros(size, dtype=np.int64)  # +1 at an opening bracket, -1 at a closing one
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            comment[offset(tok.start) : offset(tok.end)] = True
        elif tok.type == tokenize.OP and tok.string in OPENING + CLOSING:
            step[offset(tok.start)] = 1 if tok.string in OPENING else -1
    known = size if complete else (offset(tokens[-1].end) if tokens else 0)
    indent, column = layout(text)
    return CodeLabels(string, docstring, comment, np.cumsum(step), indent, column, known)
