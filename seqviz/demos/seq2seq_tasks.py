"""Task (d): dates spelled out in English or Spanish words -> ISO digits, a small translation task.

    "the third of march two thousand and five"   -> "2005-03-03"
    "march the third nineteen eighty four"       -> "1984-03-03"
    "el tres de marzo de dos mil cinco"          -> "2005-03-03"

The source is word-level and the target character-level, so lengths differ; the year comes last in the
words but first in the digits, so a good cross-attention map is visibly not a diagonal. Everything is
generated from a seed: the same seed gives the same pairs, another seed gives fresh held-out data.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass

from seqviz.core.tokenize import BOS, EOS, PAD, Tokenizer

FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
LANGUAGES = ("en", "es")


def _words(text: str) -> list[str]:
    return text.split()


EN_MONTHS = _words("january february march april may june july august september october november december")
ES_MONTHS = _words("enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre")
MONTH_WORDS = frozenset(EN_MONTHS + ES_MONTHS)

_EN_UNITS = _words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
)
_EN_TENS = _words("_ _ twenty thirty forty fifty sixty seventy eighty ninety")
_EN_ORDINAL_UNITS = _words(
    "_ first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"
)
_EN_ORDINAL_TENS = {20: "twentieth", 30: "thirtieth"}

_ES_UNITS = _words(
    "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince "
    "dieciséis diecisiete dieciocho diecinueve veinte veintiuno veintidós veintitrés veinticuatro "
    "veinticinco veintiséis veintisiete veintiocho veintinueve"
)
_ES_TENS = _words("_ _ _ treinta cuarenta cincuenta sesenta setenta ochenta noventa")
ACCENT_DROP_RATE = 0.3  # people type "veintidos" on English keyboards; the model should know both


def english_number(n: int) -> str:
    """0 <= n < 100 in English words: 84 -> "eighty four"."""
    if n < 20:
        return _EN_UNITS[n]
    tens, unit = divmod(n, 10)
    return _EN_TENS[tens] + (f" {_EN_UNITS[unit]}" if unit else "")


def english_ordinal(n: int) -> str:
    """1 <= n <= 31 as an English ordinal: 23 -> "twenty third"."""
    if n < 20:
        return _EN_ORDINAL_UNITS[n]
    if n in _EN_ORDINAL_TENS:
        return _EN_ORDINAL_TENS[n]
    tens, unit = divmod(n, 10)
    return f"{_EN_TENS[tens]} {_EN_ORDINAL_UNITS[unit]}"


def english_year(year: int, rng: random.Random) -> str:
    """1900..2099: "nineteen oh five", "two thousand and five", "twenty twelve" or "two thousand and twelve".

    From 2010 on both English forms occur, half and half.
    """
    century, rest = divmod(year, 100)
    if century == 19:
        if rest == 0:
            return "nineteen hundred"
        return "nineteen " + (f"oh {_EN_UNITS[rest]}" if rest < 10 else english_number(rest))
    if rest == 0:
        return "two thousand"
    if rest >= 10 and rng.random() < 0.5:
        return "twenty " + english_number(rest)
    return "two thousand and " + english_number(rest)


def spanish_number(n: int) -> str:
    """0 <= n < 100 in Spanish words: 84 -> "ochenta y cuatro"."""
    if n < 30:
        return _ES_UNITS[n]
    tens, unit = divmod(n, 10)
    return _ES_TENS[tens] + (f" y {_ES_UNITS[unit]}" if unit else "")


def spanish_year(year: int) -> str:
    """1900..2099: "mil novecientos ochenta y cuatro", "dos mil cinco"."""
    century, rest = divmod(year, 100)
    words = "mil novecientos" if century == 19 else "dos mil"
    return words + (f" {spanish_number(rest)}" if rest else "")


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def spell_date(date: dt.date, language: str, rng: random.Random) -> str:
    """A date in words. English has two word orders (day first or month first); Spanish one."""
    if language == "en":
        day, month, year = english_ordinal(date.day), EN_MONTHS[date.month - 1], english_year(date.year, rng)
        if rng.random() < 0.5:
            return f"the {day} of {month} {year}"
        return f"{month} the {day} {year}"
    if language == "es":
        day = "primero" if date.day == 1 else spanish_number(date.day)
        text = f"el {day} de {ES_MONTHS[date.month - 1]} de {spanish_year(date.year)}"
        return strip_accents(text) if rng.random() < ACCENT_DROP_RATE else text
    raise ValueError(f"unknown language {language!r}; expected one of {LANGUAGES}")


@dataclass(frozen=True)
class DatePair:
    source: str  # words, e.g. "el tres de marzo de dos mil cinco"
    target: str  # ISO digits, e.g. "2005-03-03"
    language: str


def random_date(rng: random.Random) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))


def make_pairs(n: int, seed: int, languages: tuple[str, ...] = LANGUAGES) -> list[DatePair]:
    """`n` random date pairs, the same for the same seed; languages alternate at random."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        date, language = random_date(rng), rng.choice(languages)
        pairs.append(DatePair(spell_date(date, language, rng), date.isoformat(), language))
    return pairs


def _all_source_words() -> list[str]:
    words = set(MONTH_WORDS) | set(_EN_UNITS) | set(_EN_TENS[2:]) | set(_EN_ORDINAL_UNITS[1:])
    words |= set(_EN_ORDINAL_TENS.values()) | {"the", "of", "and", "oh", "hundred", "thousand"}
    words |= set(_ES_UNITS) | set(_ES_TENS[3:]) | {"el", "de", "y", "mil", "novecientos", "primero"}
    words |= {strip_accents(w) for w in words}
    return sorted(words)


SOURCE_VOCAB = [PAD, *_all_source_words()]
TARGET_VOCAB = [PAD, BOS, EOS, *"0123456789-"]


def source_tokenizer() -> Tokenizer:
    """Word-level, lowercased; unknown words map to <unk>."""
    return Tokenizer(list(SOURCE_VOCAB), "word", lowercase=True)


def target_tokenizer() -> Tokenizer:
    """Character-level digits and "-", plus <pad> (0), <s> (1) and </s> (2)."""
    return Tokenizer(list(TARGET_VOCAB), "char")


def month_position(source_tokens: list[str]) -> int:
    """Index of the month word in a tokenised source (the alignment tests look there)."""
    return next(i for i, tok in enumerate(source_tokens) if tok in MONTH_WORDS)


EXAMPLES = [
    "the third of march two thousand and five",
    "el tres de marzo de dos mil cinco",
    "july the fourth nineteen seventy six",
    "el veinticuatro de diciembre de mil novecientos noventa y nueve",
    "the twenty ninth of february twenty twenty four",
]
