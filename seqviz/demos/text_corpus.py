"""A person's text file as training data for a character- or word-level language model.

`read_corpus(path, level)` reads the file once (bounded: at most `MAX_TEXT_BYTES`), refuses what cannot
be trained on with a TrainingInputError that says what to do (a missing file, a folder, an empty or
binary file, a text too short), builds the tokenizer and splits the text: the first 90% is read in
training, the last 10% is held out (next-token accuracy on at most `MAX_HELD_OUT_TOKENS` of it, and the
examples to trace come from it).

    char level  the characters of the training text (at most MAX_VOCAB, the most frequent) + <unk>
    word level  words and punctuation marks, lowercase: those seen at least twice in the training text
                (at most MAX_VOCAB, the most frequent) + <unk>
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from seqviz.core.file_limits import FileLimitError, format_bytes, regular_file
from seqviz.core.tokenize import Tokenizer
from seqviz.demos.training_settings import TrainingInputError

MAX_TEXT_BYTES = 50 * 2**20
MIN_CHARS = 2_000  # a page or two: a character model learns spelling and common words from it
MIN_WORDS = 500  # below this hardly a word repeats enough to be predicted
MIN_REPEATED_WORDS = 20  # a word model needs a vocabulary of words it has seen more than once
MAX_VOCAB = 10_000
HELD_OUT_SHARE = 0.1
MAX_HELD_OUT_TOKENS = 20_000
EXAMPLE_CHARS = (60, 100)  # an example to trace: this long, cut at word boundaries
LEVEL_UNITS = {"char": "characters", "word": "words"}


@dataclass
class TextCorpus:
    """A text file, tokenized and split. Ids are (N,) int64 tensors of the tokenizer's ids."""

    name: str  # the file's name, e.g. "notes.txt"
    level: str  # "char" or "word"
    tokenizer: Tokenizer
    train_ids: torch.Tensor  # (N,) the first 90% of the tokens
    held_out_ids: torch.Tensor  # (M,) M <= MAX_HELD_OUT_TOKENS, from the last 10%
    examples: list[str] = field(default_factory=list)  # held-out stretches of 60-100 characters

    @property
    def title(self) -> str:
        return f"{self.name} ({LEVEL_UNITS[self.level]})"

    def check_streams(self, batch_size: int, window: int, arch_label: str) -> None:
        """TrainingInputError unless `batch_size` parallel streams each hold two windows of `window`
        tokens (a pass over the text starts at a random offset below a window)."""
        needed = batch_size * (2 * window + 1)
        have = self.train_ids.numel()
        if have >= needed:
            return
        units = LEVEL_UNITS[self.level]
        largest = have // (2 * window + 1)
        fix = f"use a batch size of {largest} or less, or " if largest >= 1 else ""
        raise TrainingInputError(
            f"{self.name} is too short for batch size {batch_size}: the {arch_label} reads windows of "
            f"{window} {units} from {batch_size} parallel stretches of the text, which needs "
            f"{_tokens_in_text(needed):,} {units}, and the text has {_tokens_in_text(have):,}; "
            f"{fix}choose a longer text"
        )


def _tokens_in_text(train_tokens: int) -> int:
    """The length of a whole text whose training part (90%) has `train_tokens` tokens."""
    return -(-train_tokens * 10 // 9)


def read_text(path: str | os.PathLike) -> str:
    """The text of a file for training (UTF-8, a byte order mark dropped, newlines as "\\n"); else a
    TrainingInputError saying what is wrong with it."""
    name = Path(path).name or str(path)
    try:
        size = regular_file(path)
    except FileLimitError as exc:
        problem = str(exc)
        if problem == "no such file":
            raise TrainingInputError(f"there is no file {path}; choose an existing text file") from None
        if "a directory" in problem:
            raise TrainingInputError(f"{path} is a folder; choose a text file (.txt) in it") from None
        raise TrainingInputError(f"cannot read {path}: {problem}") from None
    if size > MAX_TEXT_BYTES:
        raise TrainingInputError(
            f"{name} is {format_bytes(size)}; seqviz trains on text files of up to "
            f"{format_bytes(MAX_TEXT_BYTES)}: save a part of it as a new file and choose that"
        )
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_TEXT_BYTES + 1)
    except OSError as exc:
        raise TrainingInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not data:
        raise TrainingInputError(
            f"{name} is empty; choose a text file with at least {MIN_CHARS:,} characters"
        )
    try:
        if b"\0" in data:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TrainingInputError(
            f"{name} is not plain text; save it as UTF-8 text (.txt) and choose it again"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_corpus(path: str | os.PathLike, level: str) -> TextCorpus:
    """Read, check, tokenize and split a text file (see the module's docstring)."""
    text = read_text(path)
    name = Path(path).name
    if level == "char":
        _check_length(name, len(text.strip()), MIN_CHARS, "characters", "a character-level")
        tokenizer, ids = _char_ids(name, text)
    else:
        pieces = Tokenizer([], "word", lowercase=True).split(text)
        _check_length(name, len(pieces), MIN_WORDS, "words", "a word-level")
        tokenizer, ids = _word_ids(name, pieces)
    split = _split(ids.numel())
    held_start = len(text) - int(len(text) * HELD_OUT_SHARE)
    return TextCorpus(
        name=name,
        level=level,
        tokenizer=tokenizer,
        train_ids=ids[:split],
        held_out_ids=ids[split : split + MAX_HELD_OUT_TOKENS],
        examples=stretches(text[held_start:], 3) or stretches(text, 1),
    )


def _split(n: int) -> int:
    """Where the held-out last 10% of `n` tokens begins."""
    return n - max(1, int(n * HELD_OUT_SHARE))


def _check_length(name: str, count: int, least: int, units: str, model: str) -> None:
    if count < least:
        other = " (or train a character-level model)" if units == "words" else ""
        raise TrainingInputError(
            f"{name} is too short: it has {count:,} {units}, and {model} model needs at least {least:,} "
            f"to learn from; choose a longer text{other}"
        )


def _char_ids(name: str, text: str) -> tuple[Tokenizer, torch.Tensor]:
    """The characters' tokenizer and the text's ids (N,), counted with numpy: a text of 50 MB as a
    list of characters would take gigabytes."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # (N,) code points
    split = _split(codes.size)
    seen, counts = np.unique(codes[:split], return_counts=True)
    tokenizer = _tokenizer(name, {chr(c): int(n) for c, n in zip(seen, counts, strict=True)}, "char")
    every = np.unique(codes)  # held-out characters too: they map as the tokenizer maps them
    table = np.array([tokenizer.encode([chr(c)])[0] for c in every], dtype=np.int64)
    return tokenizer, torch.from_numpy(table[np.searchsorted(every, codes)])


def _word_ids(name: str, pieces: list[str]) -> tuple[Tokenizer, torch.Tensor]:
    """The words' tokenizer and the text's ids (N,)."""
    tokenizer = _tokenizer(name, Counter(pieces[: _split(len(pieces))]), "word")
    index = {w: tokenizer.encode([w])[0] for w in set(pieces)}  # each distinct word looked up once
    return tokenizer, torch.tensor([index[w] for w in pieces], dtype=torch.long)


def _tokenizer(name: str, counts: dict[str, int], level: str) -> Tokenizer:
    """The vocabulary of the training text: its most frequent pieces (words: seen at least twice)."""
    least = 2 if level == "word" else 1
    # most frequent first; ties in alphabetical order, so the same text gives the same vocabulary
    ranked = sorted((p for p, n in counts.items() if n >= least), key=lambda p: (-counts[p], p))
    kept = ranked[:MAX_VOCAB]
    if level == "word" and len(kept) < MIN_REPEATED_WORDS:
        raise TrainingInputError(
            f"{name} has only {len(kept)} different words that occur twice or more; a word-level model "
            f"needs at least {MIN_REPEATED_WORDS}: choose a longer text or train a character-level model"
        )
    return Tokenizer(sorted(kept), level, lowercase=level == "word")


def stretches(text: str, count: int) -> list[str]:
    """Up to `count` stretches of `text` of EXAMPLE_CHARS characters, cut at word boundaries, with
    runs of white space (newlines too) as one space: texts to type into the app and trace."""
    # start after the first line end or full stop (the text may begin mid-sentence, mid-word)
    ends = [at for at in (text.find("\n", 0, 400), text.find(". ", 0, 400)) if at >= 0]
    words = text[min(ends) + 1 :].split() if ends else text.split()[1:]
    shortest, longest = EXAMPLE_CHARS
    out: list[str] = []
    at = 0
    while len(out) < count and at < len(words):
        taken: list[str] = []
        while at < len(words) and len(" ".join([*taken, words[at]])) <= longest:
            taken.append(words[at])
            at += 1
        if len(" ".join(taken)) >= shortest:
            out.append(" ".join(taken))
        at += 1 if not taken else 0  # a word longer than `longest` is skipped
        at += 5  # the next example starts a little further on
    return out
