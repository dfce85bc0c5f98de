"""Character and word tokenizers with a fixed vocabulary and an unknown token."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

UNK = "<unk>"
PAD = "<pad>"
BOS = "<s>"
EOS = "</s>"
SPECIAL_TOKENS = (UNK, PAD, BOS, EOS)  # markup, not text: never generated, marked on screen
LEVELS = ("char", "word", "space")

_WORD_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


@dataclass
class Tokenizer:
    """Maps text to token ids and back. `level` is "char", "word" (words and punctuation marks) or
    "space" (what lies between whitespace, as is: corpora that are split already, like the
    word_language_model example's "U.S." and "@-@").

    Characters or words outside `vocab` map to UNK (which is always in the vocabulary); `unknown(text)`
    lists them so the app can tell the user.
    """

    vocab: list[str]
    level: str = "char"
    lowercase: bool = False
    #: add UNK when the vocabulary lacks it (new tokenizers); a tokenizer read from a model file must
    #: not, since the model's embedding has no row for it: unknown pieces are then an UnknownTokenError
    add_unknown: bool = True
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"tokenizer level must be 'char', 'word' or 'space', not {self.level!r}")
        if UNK not in self.vocab and self.add_unknown:
            self.vocab = [*self.vocab, UNK]
        self._index = {tok: i for i, tok in enumerate(self.vocab)}

    def split(self, text: str) -> list[str]:
        """Text -> token strings (before vocabulary lookup)."""
        if self.lowercase:
            text = text.lower()
        if self.level == "char":
            return list(text)
        return text.split() if self.level == "space" else _WORD_RE.findall(text)

    def lookup(self, piece: str) -> int | None:
        """The id of `piece`, or of its unaccented form ("nací" -> "naci") when only that is in the
        vocabulary, or None. Lecturers type accents that a model trained on plain text never saw."""
        found = self._index.get(piece)
        if found is None:
            found = self._index.get(strip_accents(piece))
        return found

    def encode(self, text: str | list[str]) -> list[int]:
        pieces = text if isinstance(text, list) else self.split(text)
        unk = self._index.get(UNK)
        if unk is None and (missing := self.unknown(pieces)):
            raise UnknownTokenError(missing, self.level)
        return [unk if (i := self.lookup(p)) is None else i for p in pieces]

    def decode(self, ids: list[int]) -> list[str]:
        return [self.vocab[i] for i in ids]

    def labels(self, text: str | list[str]) -> list[str]:
        """Display labels: the token strings, with unknown ones shown as UNK."""
        return self.decode(self.encode(text))

    def unknown(self, text: str | list[str]) -> list[str]:
        """The pieces of `text` that are not in the vocabulary, in order, without repeats."""
        pieces = text if isinstance(text, list) else self.split(text)
        seen: dict[str, None] = {}
        for p in pieces:
            if self.lookup(p) is None:
                seen.setdefault(p)
        return list(seen)

    def join(self, tokens: list[str]) -> str:
        return "".join(tokens) if self.level == "char" else " ".join(tokens)

    def to_dict(self) -> dict:
        return {"vocab": self.vocab, "level": self.level, "lowercase": self.lowercase}

    @classmethod
    def from_dict(cls, d: dict) -> Tokenizer:
        return cls(
            list(d["vocab"]), d.get("level", "char"), bool(d.get("lowercase", False)), add_unknown=False
        )


class UnknownTokenError(ValueError):
    """Input with pieces outside a vocabulary that has no unknown-word token. `pieces` lists them."""

    def __init__(self, pieces: list[str], level: str = "word") -> None:
        self.pieces = list(pieces)
        what = "character" if level == "char" else "word"
        shown = ", ".join(repr(p) for p in self.pieces[:8]) + (", ..." if len(self.pieces) > 8 else "")
        super().__init__(
            f"Not in this model's vocabulary: {shown}. The model has no unknown-{what} token, so every "
            f"{what} must be one it knows: change or remove {'it' if len(self.pieces) == 1 else 'them'}."
        )


def strip_accents(text: str) -> str:
    """Remove combining marks: "canción" -> "cancion", "ñ" -> "n"."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))
