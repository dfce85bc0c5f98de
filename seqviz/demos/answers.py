"""The true answers for text a user types, read with the lecture tasks' own rules (no model involved).

The output panel marks the true label at each step when a trace carries `targets`; for held-out examples
the generator supplies them, for typed text this module does, from the generators' own tables and rules:

    known_answers("sentiment", "the food was not very good".split())  -> [None] * 5 + ["negative"]
    known_answers("pos", "el canta .".split())                          -> ["PRON", "VERB", "PUNCT"]

An answer is given only where the rules fix it; anything else (an unknown word, a word whose tag the
grammar leaves open, a task without rules such as a language model) is None, so nothing false is marked.
"""

from __future__ import annotations

from functools import cache
from itertools import product

from seqviz.core.tokenize import strip_accents
from seqviz.demos import tasks_grammar as grammar
from seqviz.demos import tasks_sentiment as sentiment

Slot = tuple[str, dict[tuple[str, ...], object], bool]  # name, word sequences it takes -> value, optional
_BASE_FORM = {"liked": "like", "loved": "love", "enjoyed": "enjoy"}  # as in tasks_sentiment._feeling_clause
Pattern = tuple[tuple[frozenset[str], str], ...]  # one shape of a sentence: (words allowed, tag) per token


def known_answers(task_name: str, words: list[str]) -> list[str | None] | None:
    """The true output per token of `words` (tokenizer pieces) for `task_name`, None where the task's
    rules do not decide it; None for a task without rules (language models, "untrained")."""
    words = [strip_accents(w.lower()) for w in words]  # the tasks write Spanish without accents
    if task_name == "sentiment":  # many-to-one: only the last step has an answer
        return [None] * (len(words) - 1) + [_review_label(words)] if words else []
    if task_name == "pos":
        return _tags(words)
    return None


# --- sentiment: [prefix] clause [but clause], the last clause decides (tasks_sentiment.review) -------


def _phrases(entries, value=True) -> dict[tuple[str, ...], object]:
    """Table entries ("the movie", or ("la pelicula", "f")) -> {("the", "movie"): value or gender}."""
    return {tuple((e if isinstance(e, str) else e[0]).split()): value or e[1] for e in entries}


@cache
def _clauses(lang: str) -> tuple[list[Slot], list[Slot], Slot]:
    """The adjective clause and the feeling clause of `lang` as slots in reading order, and the prefix."""
    table = sentiment.EN if lang == "en" else sentiment.ES
    subject = _phrases(table["subjects"], "m" if lang == "en" else None)
    adjective: dict[tuple[str, ...], object] = {}  # (form,) -> (polarity, strong, genders it agrees with)
    for words, polarity, strong in table["adjectives"]:
        for gender, form in zip("mf", (words, words) if lang == "en" else words, strict=True):
            genders = adjective.get((form,), (0, 0, set()))[2] | {gender}
            adjective[(form,)] = (polarity, strong, genders)
    # A feeling phrase maps straight to its label. Only positive feelings are negated, as the generator
    # does ("did not hate" is left out as unclear); English negates the base form ("i did not like").
    feeling: dict[tuple[str, ...], object] = {}
    for phrase, polarity, strong in table["feelings"]:
        feeling[tuple(phrase.split())] = sentiment.label(polarity, strong, False)
        if polarity > 0:
            negated_words = ("did", "not", _BASE_FORM[phrase]) if lang == "en" else ("no", *phrase.split())
            feeling[negated_words] = sentiment.label(polarity, strong, True)
    negated: Slot = ("negated", {("not" if lang == "en" else "no",): True}, True)
    verb: Slot = ("verb", _phrases(table["verbs"]), False)
    adjective_clause = [("subject", subject, False), *((verb, negated) if lang == "en" else (negated, verb))]
    intensified: Slot = ("intensified", _phrases(table["intensifiers"]), True)
    adjective_clause += [intensified, ("adjective", adjective, False)]
    feeling_clause = [("i", {("i",): True}, False)] if lang == "en" else []
    feeling_clause += [("feeling", feeling, False), ("subject", subject, False)]
    return adjective_clause, feeling_clause, ("prefix", _phrases(table["prefixes"]), True)


def _match(words: list[str], slots: list[Slot]) -> dict[str, object] | None:
    """{slot name: value} of a reading of all of `words` as `slots` (absent = optional slot unused)."""
    if not slots:
        return None if words else {}
    (name, phrases, optional), rest = slots[0], slots[1:]
    if optional and (found := _match(words, rest)) is not None:
        return found
    for phrase, value in phrases.items():
        found = _match(words[len(phrase) :], rest) if tuple(words[: len(phrase)]) == phrase else None
        if found is not None:
            return {name: value, **found}
    return None


def _clause_label(words: list[str], lang: str, prefixed: bool) -> str | None:
    adjective_clause, feeling_clause, prefix = _clauses(lang)
    found = _match(words, [prefix, *feeling_clause] if prefixed else feeling_clause)
    if found is not None:
        return found["feeling"]
    found = _match(words, [prefix, *adjective_clause] if prefixed else adjective_clause)
    if found is None:
        return None
    polarity, strong, genders = found["adjective"]
    negated, intensified = "negated" in found, "intensified" in found
    if found["subject"] not in genders or (negated and intensified and polarity < 0):
        return None  # "la comida fue bueno"; "not very bad", which the task says has no agreed meaning
    return sentiment.label(polarity, strong or intensified, negated)


def _review_label(words: list[str]) -> str | None:
    """The label of a whole review in one language, or None if any part of it is not the task's."""
    for lang, but in sentiment.BUT.items():
        cut = words.index(but) if words.count(but) == 1 else len(words)
        first = _clause_label(words[:cut], lang, prefixed=True)
        last = _clause_label(words[cut + 1 :], lang, prefixed=False) if cut < len(words) else first
        if first and last:
            return last
    return None


# --- pos: sentences of tasks_grammar; a tag is known where every reading of the sentence agrees -----


@cache
def _sentence_patterns(lang: str) -> list[Pattern]:
    """Every sentence shape of `lang`: each of tasks_grammar.TEMPLATES with each shape of its chunks,
    spelled out as tasks_grammar._en_chunk / _es_chunk write them. Spanish determiner, noun and adjective
    agree in gender, pronoun and verb in person, so each agreement is a shape of its own."""
    table = grammar.EN if lang == "en" else grammar.ES

    def slot(key: str, tag: str) -> tuple[frozenset[str], str]:
        return frozenset(table[key]), tag

    if lang == "en":
        noun_phrases = [(slot("DET", "DET"), slot("NOUN", "NOUN"))]
        adjective_phrases = [(slot("DET", "DET"), slot("ADJ", "ADJ"), slot("NOUN", "NOUN"))]
        verbs = {v: [(slot("PRON", "PRON"), slot(f"V{v}_PRES", "VERB"))] for v in "IT"}
    else:  # the adjective follows the noun
        noun_phrases = [(slot(f"DET_{g}", "DET"), slot(f"NOUN_{g}", "NOUN")) for g in "MF"]
        adjectives = [(frozenset(pair[g == "F"] for pair in table["ADJ"]), "ADJ") for g in "MF"]
        adjective_phrases = [(*np, adj) for np, adj in zip(noun_phrases, adjectives, strict=True)]
        verbs = {v: [(slot(f"PRON_{p}", "PRON"), slot(f"V{v}_PRES_{p}", "VERB")) for p in "13"] for v in "IT"}
    chunks = {"NP": noun_phrases, "NPA": adjective_phrases, "PVI": verbs["I"], "PVT": verbs["T"]}
    chunks |= {"VIP": [(slot("VI_PAST", "VERB"),)], "VTP": [(slot("VT_PAST", "VERB"),)]}
    chunks |= {c: [(slot(c, c),)] for c in ("ADV", "ADP")} | {".": [((frozenset("."), "PUNCT"),)]}
    return [sum(parts, ()) for t in grammar.TEMPLATES for parts in product(*(chunks[c] for c in t))]


def _tags(words: list[str]) -> list[str | None]:
    """Tags sentence by sentence (each ends at "."; the last may be unfinished, still being typed)."""
    tags: list[str | None] = []
    while len(tags) < len(words):
        rest = words[len(tags) :]
        tags += _sentence_tags(rest[: rest.index(".") + 1] if "." in rest else rest)
    return tags


def _sentence_tags(words: list[str]) -> list[str | None]:
    """A tag where every reading agrees: the sentence shapes the words fit (or, unfinished, begin).
    Spanish "el" alone is DET or PRON; "el canta" makes it PRON."""
    finished = words[-1] == "."
    readings = {
        tuple(tag for _, tag in pattern[: len(words)])
        for lang in grammar.LANGUAGES
        for pattern in _sentence_patterns(lang)
        if (len(pattern) == len(words) if finished else len(pattern) > len(words))
        and all(word in allowed for word, (allowed, _) in zip(words, pattern, strict=False))
    }
    if not readings:  # not a sentence of the grammar: only the words with a single tag are certain
        known = _word_tags()  # word -> the tags it can carry
        return [next(iter(known[w])) if len(known.get(w, ())) == 1 else None for w in words]
    return [column[0] if len(set(column)) == 1 else None for column in zip(*readings, strict=True)]


_word_tags = cache(grammar.word_tags)
