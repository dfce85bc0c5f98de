"""The text the code LSTM learns from: Python's own standard library, read from the running interpreter.

Every Python ships its standard library as source, so the corpus needs no download and no data file:
`build_corpus(TRAIN_MODULES)` reads a fixed, sorted list of modules (top-level ones and modules of
packages such as asyncio, email, json, logging, unittest) from `sysconfig`'s "stdlib" folder,
takes the first MAX_FILE_CHARS characters of each (cut at a line end, so a few long modules do not
dominate) and joins them, one blank line between files. The held-out text, for the card's bits per
character and next-character accuracy, is made the same way from other modules (HELD_OUT_MODULES).

The same Python gives the same bytes (a test checks it); another patch release may differ by a few
edited lines, and a module missing from it is skipped, so the card records the Python version and the
files and characters used. Every module listed exists in CPython 3.8-3.13: none of those PEP 594
removed; a module that became a package (zipfile in 3.12, pathlib in 3.13) is read from its `__init__.py`.

Vocabulary: the 95 printable ASCII characters and the newline (VOCAB). The tokenizer reads any other
character as the app reads typed text: an accented letter as its plain letter ("é" -> "e"), anything
else (a tab, a form feed, "→", "—") as <unk>. The standard library is ASCII nearly everywhere (the
training text has 12 <unk> in 4.3 million characters), and the model never
generates one (the app bans special tokens).
"""

from __future__ import annotations

import hashlib
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from seqviz.core.tokenize import Tokenizer

VOCAB: tuple[str, ...] = ("\n", *(chr(c) for c in range(32, 127)))
MAX_FILE_CHARS = 60_000
FILE_SEPARATOR = "\n"  # each file ends with a line break: one more makes a blank line between files

# Modules that read as ordinary Python (classes, functions, docstrings, comments), not data tables.
_TRAIN_NAMES = """
    abc argparse ast base64 bdb cmd code codecs codeop compileall configparser contextlib copy copyreg
    csv dataclasses difflib dis enum filecmp fileinput fnmatch ftplib functools genericpath getopt
    gettext glob gzip hashlib hmac imaplib inspect io ipaddress keyword linecache locale lzma mailbox
    mimetypes netrc ntpath numbers opcode operator optparse os pathlib pdb pickle pickletools pkgutil
    platform plistlib poplib posixpath pprint profile pstats py_compile pyclbr quopri random reprlib
    rlcompleter runpy secrets selectors shelve shutil signal site smtplib socket socketserver ssl stat
    statistics struct subprocess symtable tabnanny tarfile tempfile threading timeit token tokenize
    trace traceback tracemalloc tty types typing uuid warnings wave weakref zipapp zipimport
    asyncio.base_events asyncio.events asyncio.futures asyncio.locks asyncio.queues asyncio.streams
    asyncio.tasks collections concurrent.futures._base concurrent.futures.process
    concurrent.futures.thread ctypes email.feedparser email.headerregistry email.message email.utils
    http.client http.cookiejar http.cookies http.server importlib._bootstrap
    importlib._bootstrap_external json json.decoder json.encoder logging logging.config logging.handlers
    multiprocessing.connection multiprocessing.managers multiprocessing.pool multiprocessing.process
    multiprocessing.queues unittest.case unittest.loader unittest.main unittest.mock unittest.result
    unittest.runner urllib.parse urllib.request wsgiref.handlers xml.dom.minidom xml.etree.ElementTree
    xmlrpc.client xmlrpc.server zipfile
"""
TRAIN_MODULES: tuple[str, ...] = tuple(sorted(_TRAIN_NAMES.split()))
HELD_OUT_MODULES: tuple[str, ...] = (
    "bisect",
    "calendar",
    "colorsys",
    "fractions",
    "heapq",
    "queue",
    "sched",
    "shlex",
    "string",
    "textwrap",
)


@dataclass(frozen=True)
class Corpus:
    """Text read from the standard library, and where it came from (for the model's card)."""

    text: str
    files: tuple[tuple[str, int], ...]  # (path relative to the stdlib folder, characters taken)
    missing: tuple[str, ...]  # listed modules this Python does not have
    python: str  # e.g. "3.11.7"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def record(self) -> dict:
        """What the card keeps: enough to rebuild this text, or to see why another Python's differs."""
        return {
            "python": self.python,
            "characters": len(self.text),
            "sha256": self.sha256,
            "max_file_chars": MAX_FILE_CHARS,
            "files": {path: chars for path, chars in self.files},
            "missing": list(self.missing),
        }


def stdlib_dir() -> Path:
    """The running interpreter's standard library sources, e.g. /usr/lib/python3.11."""
    return Path(sysconfig.get_paths()["stdlib"])


def module_source(name: str, stdlib: Path) -> Path | None:
    """The source of module `name` ("json.decoder"): `<stdlib>/json/decoder.py`, or `.../__init__.py`
    for a package; None if neither exists."""
    base = stdlib.joinpath(*name.split("."))
    for path in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def read_head(path: Path, max_chars: int = MAX_FILE_CHARS) -> str:
    """The file's first `max_chars` characters, cut back to the last whole line; line ends as "\\n"."""
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > max_chars:
        text = text[: text.rindex("\n", 0, max_chars) + 1]
    return text if text.endswith("\n") else text + "\n"


def build_corpus(modules: tuple[str, ...], max_file_chars: int = MAX_FILE_CHARS) -> Corpus:
    """The heads of `modules`, in the given order, joined by a blank line."""
    stdlib = stdlib_dir()
    parts, files, missing = [], [], []
    for name in modules:
        path = module_source(name, stdlib)
        if path is None:
            missing.append(name)
            continue
        text = read_head(path, max_file_chars)
        parts.append(text)
        files.append((path.relative_to(stdlib).as_posix(), len(text)))
    python = ".".join(str(v) for v in sys.version_info[:3])
    return Corpus(FILE_SEPARATOR.join(parts), tuple(files), tuple(missing), python)


def code_tokenizer() -> Tokenizer:
    """A character tokenizer over VOCAB plus <unk>, case kept."""
    return Tokenizer(list(VOCAB), "char")
