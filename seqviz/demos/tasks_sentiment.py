"""Task (b), sentiment (many-to-one): one class for a whole review, read at its last word.

    the food was very good                  -> very positive
    the movie was not good                  -> negative
    la comida no es buena                   -> negative
    the hotel was great but the food was bad -> negative   (after "but", the second clause decides)

Rules (the same in both languages): an adjective is mildly or strongly positive or negative; an
intensifier ("very", "muy", ...) makes a mild one strong; a negation ("not", "no", "did not") turns the
polarity round and leaves it mild ("not great" -> negative, "not bad" -> positive). Spanish words are written
without accents; adjectives agree with the gender of the noun.
"""

from __future__ import annotations

import random

from seqviz.demos.tasks_base import Example, Task

LABELS = ("very negative", "negative", "positive", "very positive")

EN = {
    "subjects": ("the movie", "the food", "the service", "the book", "the hotel", "the song", "the game")
    + ("this movie", "my room", "the teacher"),
    "verbs": ("was", "is"),
    "intensifiers": ("very", "really", "extremely", "so"),
    "prefixes": ("honestly", "overall", "i think", "in the end"),
    # (word, polarity +1/-1, strong)
    "adjectives": (("good", 1, False), ("nice", 1, False), ("fun", 1, False), ("interesting", 1, False))
    + (("great", 1, True), ("excellent", 1, True), ("wonderful", 1, True), ("amazing", 1, True))
    + (("bad", -1, False), ("boring", -1, False), ("poor", -1, False), ("slow", -1, False))
    + (("terrible", -1, True), ("awful", -1, True), ("horrible", -1, True)),
    "feelings": (("liked", 1, False), ("loved", 1, True), ("hated", -1, True), ("enjoyed", 1, False)),
}
ES = {
    # (words, gender)
    "subjects": (("la pelicula", "f"), ("la comida", "f"), ("el servicio", "m"), ("el libro", "m"))
    + (("el hotel", "m"), ("la cancion", "f"), ("el juego", "m"), ("mi cuarto", "m"), ("la clase", "f")),
    "verbs": ("es", "fue"),
    "intensifiers": ("muy", "realmente", "super", "bastante"),
    "prefixes": ("sinceramente", "en general", "creo que", "al final"),
    # ((masculine, feminine), polarity, strong)
    "adjectives": ((("bueno", "buena"), 1, False), (("divertido", "divertida"), 1, False))
    + ((("interesante", "interesante"), 1, False), (("agradable", "agradable"), 1, False))
    + ((("excelente", "excelente"), 1, True), (("genial", "genial"), 1, True))
    + ((("maravilloso", "maravillosa"), 1, True), (("increible", "increible"), 1, True))
    + ((("malo", "mala"), -1, False), (("aburrido", "aburrida"), -1, False), (("lento", "lenta"), -1, False))
    + ((("terrible", "terrible"), -1, True), (("horrible", "horrible"), -1, True))
    + ((("pesimo", "pesima"), -1, True),),
    # "me gusto X" (+), "me encanto X" (++), "odie X" (--)
    "feelings": (("me gusto", 1, False), ("me encanto", 1, True), ("odie", -1, True)),
}
BUT = {"en": "but", "es": "pero"}


def label(polarity: int, strong: bool, negated: bool) -> str:
    if negated:  # turned round, and never strong: "not great" is negative, not very negative
        polarity, strong = -polarity, False
    if polarity > 0:
        return "very positive" if strong else "positive"
    return "very negative" if strong else "negative"


def _adjective_clause(rng: random.Random, lang: str) -> tuple[list[str], str, str]:
    """ "the food was not very good" -> (words, label, phenomenon)."""
    table = EN if lang == "en" else ES
    if lang == "en":
        subject, gender = rng.choice(table["subjects"]), "m"
    else:
        subject, gender = rng.choice(table["subjects"])
    adjective, polarity, strong = rng.choice(table["adjectives"])
    word = adjective if lang == "en" else adjective[gender == "f"]
    negated = rng.random() < 0.4
    # intensify only mild adjectives ("very great" is odd), and under negation only positive ones
    # ("not very good" is negative; "not very bad" has no agreed meaning)
    intensified = not strong and rng.random() < 0.5 and (not negated or polarity > 0)
    middle = [rng.choice(table["intensifiers"])] if intensified else []
    verb = rng.choice(table["verbs"])
    if lang == "en":
        words = [*subject.split(), verb, *(["not"] if negated else []), *middle, word]
    else:
        words = [*subject.split(), *(["no"] if negated else []), verb, *middle, word]
    phenomenon = "negation" if negated else "intensifier" if intensified else "plain"
    return words, label(polarity, strong or intensified, negated), phenomenon


def _feeling_clause(rng: random.Random, lang: str) -> tuple[list[str], str, str]:
    """ "i did not like the movie" / "no me gusto la pelicula" -> (words, label, phenomenon)."""
    table = EN if lang == "en" else ES
    verb, polarity, strong = rng.choice(table["feelings"])
    negated = rng.random() < 0.4 and polarity > 0  # "did not hate" is rare; keep the clear cases
    if lang == "en":
        base = {"liked": "like", "loved": "love", "enjoyed": "enjoy"}.get(verb, verb)
        words = ["i", "did", "not", base] if negated else ["i", verb]
        words += rng.choice(table["subjects"]).split()
    else:
        words = [*(["no"] if negated else []), *verb.split(), *rng.choice(table["subjects"])[0].split()]
    return words, label(polarity, strong, negated), "negation" if negated else "plain"


def review(rng: random.Random, lang: str) -> tuple[list[str], str, str]:
    """A review in `lang`: (words, label, phenomenon)."""
    clause = _adjective_clause if rng.random() < 0.75 else _feeling_clause
    words, lab, phenomenon = clause(rng, lang)
    if rng.random() < 0.2:
        words = [*rng.choice((EN if lang == "en" else ES)["prefixes"]).split(), *words]
    if rng.random() < 0.25:  # contrast: the clause after "but" decides
        second, lab, _ = _adjective_clause(rng, lang)
        words, phenomenon = [*words, BUT[lang], *second], "contrast"
    return words, lab, phenomenon


class SentimentTask(Task):
    name = "sentiment"
    kind = "classify"
    title = "Sentiment"
    description = (
        "many-to-one: a review's sentiment (4 classes) read at its last word; negation, intensifiers and "
        "'but' (English and Spanish)"
    )
    examples = (
        "the movie was not very good",
        "the food was really bad",
        "la comida no es buena",
        "el hotel fue excelente pero la comida fue muy mala",
        "i did not like the book",
        "the service was not bad",
    )

    def vocabulary(self) -> list[str]:
        words = {"i", "did", "not", "like", "love", "enjoy", "no", *BUT.values()}
        for table in (EN, ES):
            for key in ("subjects", "verbs", "intensifiers", "prefixes", "adjectives", "feelings"):
                for entry in table[key]:
                    first = entry[0] if isinstance(entry, tuple) else entry
                    for text in first if isinstance(first, tuple) else (first,):
                        words.update(text.split())
        return sorted(words)

    def output_labels(self) -> list[str]:
        return list(LABELS)

    def sample(self, rng: random.Random, n: int) -> list[Example]:
        out = []
        for _ in range(n):
            lang = rng.choice(("en", "es"))
            words, lab, phenomenon = review(rng, lang)
            targets = (None,) * (len(words) - 1) + (lab,)
            out.append(Example(tuple(words), targets, (len(words) - 1,), phenomenon, {"lang": lang}))
        return out
