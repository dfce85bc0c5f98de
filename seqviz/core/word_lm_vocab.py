"""The vocabulary of a PyTorch word_language_model example model: its `corpus.dictionary.idx2word`.

The example's data.Corpus builds the dictionary from `train.txt`, `valid.txt` and `test.txt` of its
data folder (in that order): every line split on whitespace, plus '<eos>' at the end of each line,
each word numbered in order of first appearance. Its model files hold the weights but not this list,
so seqviz takes it as `vocab=`:
- a text file, one word per line in id order (the dictionary written out, `WRITE_VOCAB`), or
- the data folder itself, read as data.Corpus reads it, or
- the list of words (in Python: `corpus.dictionary.idx2word`).
Without one, a `vocab.txt` or a `data/<corpus>/` folder beside the model file is used if its size
fits the model (`vocabulary_beside`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from seqviz.core.file_limits import FileLimitError, path_problem, regular_file
from seqviz.core.statedict import ModelFileError

CORPUS_FILES = ("train.txt", "valid.txt", "test.txt")
LINE_END = "<eos>"
#: A shell line that writes vocab.txt, run in the example's folder (its data.py reads the corpus).
WRITE_VOCAB = (
    "python -c \"import data; d = data.Corpus('data/wikitext-2').dictionary; "
    "open('vocab.txt', 'w', encoding='utf8').write('\\n'.join(d.idx2word) + '\\n')\""
)
EXAMPLE_WORDS = 40  # an example text is at most this many words


@dataclass(frozen=True)
class Vocabulary:
    """The words by id, where they came from (for messages and the card), and a text to start from."""

    words: list[str]
    source: str
    example: str


def read_vocabulary(vocab: str | os.PathLike[str] | Sequence[str]) -> Vocabulary:
    """A vocabulary file, a data folder (as data.Corpus reads it) or a list of words. ModelFileError
    (naming the file) for anything that is not one."""
    if isinstance(vocab, str | os.PathLike):
        path = Path(vocab)
        problem = path_problem(path)  # a name too long for the file system, a file used as a folder
        if problem is not None:
            raise ModelFileError(f"cannot read the vocabulary {str(path)[:80]}: {problem}")
        if path.is_dir():
            return corpus_vocabulary(path)
        if not path.exists():
            raise ModelFileError(f"cannot read the vocabulary {path}: no such file or folder")
        return _file_vocabulary(path)  # a FIFO or a device: refused by _lines, unread
    words = list(vocab)
    if not all(isinstance(w, str) for w in words):
        raise TypeError("vocab= takes a file, a data folder or a list of words (str)")
    _check_words(words, "the vocabulary list", lambda i: f"entry {i}")
    return Vocabulary(words, f"a list of {len(words)} words", _example_from_words(words))


def vocabulary_beside(model_path: Path, size: int) -> Vocabulary | None:
    """The vocabulary of `size` words found beside a model file, or None: `vocab.txt` in its folder,
    else a corpus folder under its `data/` (the example writes model.pt beside data/wikitext-2)."""
    folder = model_path.parent
    corpora = sorted(p for p in (folder / "data").glob("*") if (p / CORPUS_FILES[0]).is_file())
    for candidate in [folder / "vocab.txt", *corpora]:
        if candidate.exists():
            try:
                found = read_vocabulary(candidate)
            except ModelFileError:
                continue  # not a vocabulary: the message asks for one
            if len(found.words) == size:
                return found
    return None


def corpus_vocabulary(folder: Path) -> Vocabulary:
    """data.Corpus's dictionary: the words of train, valid and test in order of first appearance."""
    missing = [name for name in CORPUS_FILES if not (folder / name).is_file()]
    if missing:
        raise ModelFileError(
            f"cannot read the corpus {folder}: it has no {', '.join(missing)} (the example's data.Corpus "
            f"reads {', '.join(CORPUS_FILES)} from its data folder, e.g. data/wikitext-2)"
        )
    index: dict[str, int] = {}
    for name in CORPUS_FILES:
        for line in _lines(folder / name):  # as the example reads them: universal newlines
            for word in line.split() + [LINE_END]:
                index.setdefault(word, len(index))
    example = _first_sentence(_lines(folder / "valid.txt")) or _example_from_words(list(index))
    return Vocabulary(list(index), f"the corpus in {folder}", example)


def _file_vocabulary(path: Path) -> Vocabulary:
    lines = _lines(path)
    words = [line.rstrip("\r\n") for line in lines]
    while words and not words[-1].strip():  # a trailing newline or blank lines at the end
        words.pop()
    for number, word in enumerate(words, 1):
        if len(word.split()) > 1:
            raise ModelFileError(
                f"cannot read the vocabulary {path}: line {number} holds {word[:60]!r}, more than one "
                "word; a vocabulary file has one word per line (for a corpus, give its folder)"
            )
    words = [w.strip() for w in words]
    _check_words(words, f"the vocabulary {path}", lambda i: f"line {i + 1}")
    return Vocabulary(words, path.name, _example_from_words(words))


def _lines(path: Path) -> list[str]:
    try:
        regular_file(path)  # a FIFO would block the read forever, a device never end it
    except FileLimitError as exc:
        raise ModelFileError(f"cannot read {path}: {exc}") from None
    try:
        with open(path, encoding="utf8") as f:
            return list(f)
    except UnicodeDecodeError as exc:
        raise ModelFileError(
            f"cannot read {path}: it is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def _check_words(words: list[str], what: str, where) -> None:
    if not words:
        raise ModelFileError(f"cannot read {what}: it has no words")
    first: dict[str, int] = {}
    for i, word in enumerate(words):
        if not word:
            raise ModelFileError(f"cannot read {what}: {where(i)} is empty; every id needs its word")
        if word in first:
            raise ModelFileError(
                f"cannot read {what}: {word!r} is both {where(first[word])} and {where(i)}; each word "
                "has one id"
            )
        first[word] = i


def _first_sentence(lines: list[str]) -> str:
    """The first sentence of the first line of prose (not a '= heading ='), at most EXAMPLE_WORDS words."""
    for line in lines:
        words = line.split()
        if words and words[0] != "=":
            end = words.index(".") + 1 if "." in words else len(words)
            return " ".join(words[: min(end, EXAMPLE_WORDS)])
    return ""


def _example_from_words(words: list[str]) -> str:
    """Without a corpus: the first words of the vocabulary (in order of first appearance in training,
    so roughly the start of its text), without markup such as '<eos>' and '<unk>'."""
    plain = [w for w in words if not (w.startswith("<") and w.endswith(">"))]
    return " ".join(plain[:12])
