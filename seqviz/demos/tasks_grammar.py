"""A tiny bilingual (English / Spanish) grammar of tagged sentences, of an exact length when asked.

It feeds two tasks: the filler sentences of the long-range task, and the part-of-speech tagging task.
Spanish is written without accents so that every word can be typed on any keyboard ("nacio", "cancion").
Some words carry two tags on purpose, so a tagger has to read the context:
    English  book, watch, cook, play, drink   NOUN after a determiner, VERB after a pronoun
    Spanish  canto, trabajo, vino, llama, cocina   NOUN or VERB;  bajo  ADJ, ADP or VERB;
             sobre  NOUN or ADP;  el  DET ("el perro") or PRON ("el canta") - only the next word tells.
A sentence is a list of (word, tag) pairs and always ends with "." (PUNCT).
"""

from __future__ import annotations

import random

Tagged = list[tuple[str, str]]
LANGUAGES = ("en", "es")
TAGS = ("ADJ", "ADP", "ADV", "DET", "NOUN", "PRON", "PUNCT", "VERB")

# Sentence templates as chunks, by length in tokens (with the final "."). A chunk has the same length in
# both languages: NP = determiner + noun, NPA = NP with an adjective, PVI / PVT = pronoun + verb.
_CHUNK_LENGTH = {"NP": 2, "NPA": 3, "PVI": 2, "PVT": 2, "VIP": 1, "VTP": 1, "ADV": 1, "ADP": 1, ".": 1}
TEMPLATES = (
    ("PVI", "."),
    ("NP", "VIP", "."),
    ("PVT", "NP", "."),
    ("NP", "VIP", "ADV", "."),
    ("NPA", "VIP", "."),
    ("NP", "VTP", "NP", "."),
    ("PVI", "ADP", "NP", "."),
    ("PVT", "NPA", "."),
    ("NPA", "VTP", "NP", "."),
    ("NP", "VIP", "ADP", "NP", "."),
    ("NP", "VTP", "NPA", "."),
    ("NPA", "VTP", "NPA", "."),
    ("NPA", "VIP", "ADP", "NP", "."),
)
SENTENCE_LENGTHS = sorted({sum(_CHUNK_LENGTH[c] for c in t) for t in TEMPLATES})  # 3 .. 8
_BY_LENGTH = {n: [t for t in TEMPLATES if sum(_CHUNK_LENGTH[c] for c in t) == n] for n in SENTENCE_LENGTHS}

EN = {
    "DET": ("the", "a", "my", "your", "this"),
    "NOUN": ("dog", "cat", "friend", "teacher", "house", "garden", "river", "car", "apple", "letter", "song")
    + ("book", "watch", "cook", "play", "drink"),
    "ADJ": ("big", "small", "old", "new", "red", "happy", "quiet"),
    "PRON": ("we", "they", "you", "i"),
    "VT_PRES": ("like", "see", "want", "find", "read", "watch", "book", "cook", "play", "drink"),
    "VI_PRES": ("sleep", "laugh", "wait", "sing", "cook", "play", "drink"),
    "VT_PAST": ("saw", "liked", "found", "bought", "wanted", "cleaned", "painted"),
    "VI_PAST": ("slept", "laughed", "waited", "sang", "left"),
    "ADP": ("in", "near", "under", "with"),
    "ADV": ("today", "slowly", "again", "often"),
}

# Spanish nouns by gender; determiners and adjectives agree; verbs agree with the pronoun.
ES = {
    "NOUN_M": ("perro", "gato", "libro", "amigo", "jardin", "rio", "coche", "cafe")
    + ("canto", "vino", "trabajo", "sobre"),
    "NOUN_F": ("casa", "amiga", "carta", "manzana", "cancion", "llama", "cocina"),
    "DET_M": ("el", "un", "mi", "este"),
    "DET_F": ("la", "una", "mi", "esta"),
    "ADJ": (("grande", "grande"), ("pequeno", "pequena"), ("viejo", "vieja"), ("nuevo", "nueva"))
    + (("rojo", "roja"), ("tranquilo", "tranquila"), ("bajo", "baja")),
    "PRON_1": ("yo",),
    "PRON_3": ("el", "ella"),
    "VI_PRES_1": ("canto", "trabajo", "bajo", "nado", "como"),
    "VI_PRES_3": ("canta", "trabaja", "baja", "nada", "come", "cocina"),
    "VT_PRES_1": ("leo", "veo", "compro", "como", "llamo"),
    "VT_PRES_3": ("lee", "ve", "compra", "come", "llama", "cocina"),
    "VT_PAST": ("vio", "compro", "encontro", "leyo", "llamo"),
    "VI_PAST": ("vino", "salio", "durmio", "canto", "trabajo", "nado"),
    "ADP": ("en", "con", "bajo", "sobre"),
    "ADV": ("hoy", "ayer", "mucho", "despacio"),
}


def _en_chunk(chunk: str, rng: random.Random) -> Tagged:
    pick = rng.choice
    if chunk == "NP":
        return [(pick(EN["DET"]), "DET"), (pick(EN["NOUN"]), "NOUN")]
    if chunk == "NPA":
        return [(pick(EN["DET"]), "DET"), (pick(EN["ADJ"]), "ADJ"), (pick(EN["NOUN"]), "NOUN")]
    if chunk in ("PVI", "PVT"):
        verbs = EN["VI_PRES"] if chunk == "PVI" else EN["VT_PRES"]
        return [(pick(EN["PRON"]), "PRON"), (pick(verbs), "VERB")]
    if chunk in ("VIP", "VTP"):
        return [(pick(EN["VI_PAST"] if chunk == "VIP" else EN["VT_PAST"]), "VERB")]
    if chunk in ("ADV", "ADP"):
        return [(pick(EN[chunk]), chunk)]
    return [(".", "PUNCT")]


def _es_chunk(chunk: str, rng: random.Random) -> Tagged:
    pick = rng.choice
    if chunk in ("NP", "NPA"):
        gender = pick("MF")
        words = [(pick(ES[f"DET_{gender}"]), "DET"), (pick(ES[f"NOUN_{gender}"]), "NOUN")]
        if chunk == "NPA":  # Spanish adjectives follow the noun and agree with it
            words.append((pick(ES["ADJ"])[gender == "F"], "ADJ"))
        return words
    if chunk in ("PVI", "PVT"):
        person = pick("13")
        kind = "VI_PRES" if chunk == "PVI" else "VT_PRES"
        return [(pick(ES[f"PRON_{person}"]), "PRON"), (pick(ES[f"{kind}_{person}"]), "VERB")]
    if chunk in ("VIP", "VTP"):
        return [(pick(ES["VI_PAST"] if chunk == "VIP" else ES["VT_PAST"]), "VERB")]
    if chunk in ("ADV", "ADP"):
        return [(pick(ES[chunk]), chunk)]
    return [(".", "PUNCT")]


def sentence(rng: random.Random, lang: str, length: int | None = None) -> Tagged:
    """One tagged sentence in `lang` ("en" or "es"); exactly `length` tokens if given (3 to 8)."""
    if length is not None and length not in _BY_LENGTH:
        raise ValueError(f"sentence length must be one of {SENTENCE_LENGTHS}, not {length}")
    template = rng.choice(_BY_LENGTH[length] if length is not None else TEMPLATES)
    chunk = _en_chunk if lang == "en" else _es_chunk
    return [pair for c in template for pair in chunk(c, rng)]


def filler(rng: random.Random, lang: str, length: int) -> Tagged:
    """Whole sentences with exactly `length` tokens in all (0, or 3 and more)."""
    if length in (1, 2) or length < 0:
        raise ValueError("a filler has 0 or at least 3 tokens")
    words: Tagged = []
    remaining = length
    while remaining:
        # a sentence length that leaves a remainder we can still fill (0 or >= 3)
        fits = [n for n in SENTENCE_LENGTHS if n <= remaining and (remaining - n == 0 or remaining - n >= 3)]
        n = rng.choice(fits)
        words += sentence(rng, lang, n)
        remaining -= n
    return words


def word_tags(lang: str | None = None) -> dict[str, set[str]]:
    """Every word the grammar can produce (in one language, or both) with the tags it can carry."""
    tags: dict[str, set[str]] = {".": {"PUNCT"}}
    for table, code in ((EN, "en"), (ES, "es")):
        if lang not in (None, code):
            continue
        for key, entries in table.items():
            tag = "VERB" if key.startswith("V") else key.split("_")[0]
            for entry in entries:
                for word in entry if isinstance(entry, tuple) else (entry,):
                    tags.setdefault(word, set()).add(tag)
    return tags


def vocabulary(lang: str | None = None) -> set[str]:
    return set(word_tags(lang))


def ambiguous_words() -> set[str]:
    """Words that carry more than one tag in the grammar (a tagger must use their context)."""
    return {w for w, t in word_tags().items() if len(t) > 1}
