"""How a token reads on screen: the one rule every chip, axis, tooltip and equation follows.

`display_token(token)` is what a person reads; `token_tooltip(token)` is the exact piece, for hover text.
Both are plain text: a rich-text context (a QLabel showing HTML, the gate equations) escapes the result
with `html.escape` afterwards, so "<unk>" and "</s>" stay visible instead of being read as tags. Narrow
views shorten the result afterwards (`shorten`, below), never the raw token.

A model's tokenizer may later say how its own pieces read (subword markers such as "Ġ", "▁" or "##").
Callers therefore treat the rule as a value of type `TokenDisplay`: today every caller uses the
module-level `display_token`; a model that knows better can supply another function of the same type.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

TokenDisplay = Callable[[str], str]  # token -> what a person reads

EMPTY = "\u2205"  # ∅ an empty token (some tokenizers emit one) must still take up a visible chip
SPACE = "\u2423"  # ␣ a space a reader could not otherwise see
# Each symbol is in DejaVu Sans (Qt's usual fallback on Linux); the Control Pictures block (␍, ␊) is not,
# and would be drawn as empty boxes.
_SYMBOLS = {
    "\n": "\u23ce",  # ⏎ the Return key: a line break
    "\t": "\u21e5",  # ⇥ the Tab key
    "\r": "\u21e4",  # ⇤ back to the start of the line: a carriage return
}
_NAMES = {"": "empty token", " ": "space", "\n": "line break", "\t": "tab", "\r": "carriage return"}
_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}  # controls, format characters, spaces, separators


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in _INVISIBLE


def display_token(token: str) -> str:
    """What a person reads for `token`; every character that prints nothing is made visible.

    - "" (an empty token) reads "∅".
    - " " reads "␣" where a reader could not see it: at either end of the token, or next to another
      space or invisible character. A single space between two printing characters stays a space, so a
      multi-word token reads "new york", while " the" (a leading-space piece) reads "␣the".
    - "\\n" reads "⏎", "\\t" reads "⇥", "\\r" reads "⇤" ("\\r\\n" reads "⇤⏎").
    - Any other character that prints nothing (control and format characters such as U+200B, other
      spaces such as U+00A0, line and paragraph separators) reads as its code point, "⟨U+00A0⟩".
    - Everything else is kept as it is: "<unk>", "</s>", "[CLS]" and ordinary words are unchanged.

    The result is never shortened; a literal "␣" or "∅" in the text reads the same as the symbol
    (`token_tooltip` tells them apart).
    """
    if token == "":
        return EMPTY
    last = len(token) - 1
    shown = []
    for i, ch in enumerate(token):
        if ch == " ":
            between = 0 < i < last and not _invisible(token[i - 1]) and not _invisible(token[i + 1])
            shown.append(" " if between else SPACE)
        elif ch in _SYMBOLS:
            shown.append(_SYMBOLS[ch])
        elif _invisible(ch):
            shown.append(f"\u27e8U+{ord(ch):04X}\u27e9")
        else:
            shown.append(ch)
    return "".join(shown)


def token_tooltip(token: str) -> str:
    """The exact piece for hover text: Python's quoted form (escapes show every character), followed
    by a name for an empty token and for a lone whitespace character, e.g. "'\\r' (carriage return)"."""
    name = _NAMES.get(token)
    if name is None and len(token) == 1 and _invisible(token):
        name = unicodedata.name(token, "").lower() or f"U+{ord(token):04X}"
    return repr(token) if name is None else f"{repr(token)} ({name})"


def shorten(text: str, max_chars: int) -> str:
    """`text` cut to `max_chars` characters, the last one an ellipsis when cut (after display_token)."""
    return text if len(text) <= max_chars else text[: max_chars - 1] + "\u2026"
