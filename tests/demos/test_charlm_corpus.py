"""The code LSTM's data: the standard-library corpus, the per-character labels of code, and the
truncated-BPTT batches. No training here (tests/demos/test_code_lstm.py checks the bundled model)."""

from __future__ import annotations

import random

import numpy as np
import torch

from seqviz.demos import charlm_corpus as corpus
from seqviz.demos.charlm_labels import code_labels
from seqviz.demos.charlm_train import parallel_streams, windows


def test_the_corpus_is_the_same_text_every_time_and_records_where_it_came_from() -> None:
    first, again = corpus.build_corpus(corpus.TRAIN_MODULES), corpus.build_corpus(corpus.TRAIN_MODULES)
    assert first.text == again.text and first.sha256 == again.sha256
    assert 1_000_000 <= len(first.text) <= 6_000_000, "a few MB at most"
    record = first.record()
    assert record["python"].count(".") == 2 and record["sha256"] == first.sha256
    assert sum(record["files"].values()) + len(first.files) - 1 == len(first.text)  # + separators
    assert all(0 < n <= corpus.MAX_FILE_CHARS for n in record["files"].values())
    assert "argparse.py" in record["files"] and record["missing"] == []


def test_held_out_modules_are_other_files() -> None:
    train = corpus.build_corpus(corpus.TRAIN_MODULES).record()["files"]
    held_out = corpus.build_corpus(corpus.HELD_OUT_MODULES).record()["files"]
    assert held_out and set(train).isdisjoint(held_out)


def test_modules_of_packages_are_read_and_a_missing_module_is_recorded() -> None:
    built = corpus.build_corpus(("heapq", "no_such_module_here", "json.decoder", "json"))
    assert built.missing == ("no_such_module_here",)
    assert [path for path, _ in built.files] == ["heapq.py", "json/decoder.py", "json/__init__.py"]


def test_a_file_is_cut_at_a_line_end(tmp_path) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(b"a = 1\r\nbb = 22\r\nccc = 333")
    assert corpus.read_head(path, 12) == "a = 1\n"  # the cut falls inside the second line
    assert corpus.read_head(path, 1000) == "a = 1\nbb = 22\nccc = 333\n"


def test_the_vocabulary_is_printable_ascii_and_newline_and_reads_the_rest_as_the_app_does() -> None:
    tok = corpus.code_tokenizer()
    assert len(tok.vocab) == 97 and "\n" in tok.vocab and "~" in tok.vocab and "\t" not in tok.vocab
    assert tok.labels("é\tx→") == ["e", "<unk>", "x", "<unk>"]
    text = corpus.build_corpus(corpus.TRAIN_MODULES).text
    unknown = sum(1 for i in tok.encode(text) if tok.vocab[i] == "<unk>")
    assert unknown < 100, "the standard library is ASCII nearly everywhere"


def test_code_labels_follow_pythons_tokenizer() -> None:
    text = "def f(x):  # (a\n    s = 'it''s' + \"#\"\n    return g([x], '''d''')\n"
    lab = code_labels(text)

    def marked(flags: np.ndarray) -> str:
        return "".join(ch for ch, on in zip(text, flags, strict=True) if on)

    # 'it''s' is two literals; each is marked from its opening quote, its closing quote is outside
    assert marked(lab.string) == "'it's\"#"
    assert marked(lab.comment) == "# (a"
    assert marked(lab.docstring) == "'''d''"
    assert lab.depth[text.index("x")] == 1 and lab.depth[text.index("[") + 1] == 2
    assert lab.depth[text.index(":")] == 0, "the bracket in the comment does not count"
    assert lab.indent[text.index("return")] == 4 and lab.indent[0] == 0
    assert lab.column[text.index("s =")] == 4 and lab.known == len(text)


def test_an_unfinished_string_at_the_end_stops_the_labels_there() -> None:
    text = 'x = (1,\ny = """never closed\n'
    lab = code_labels(text)
    assert lab.known < len(text) and not lab.docstring.any()
    assert lab.indent.shape == lab.column.shape == (len(text),)


def test_batches_are_contiguous_streams_read_one_window_after_another() -> None:
    ids = torch.arange(1000)
    streams = parallel_streams(ids, 4)  # (4, 250): stream b is ids[250 b : 250 (b + 1)]
    assert streams.shape == (4, 250) and streams[2, 0] == 500
    stream = windows(streams, 10, random.Random(0))
    x, y, fresh = next(stream)
    x2, _, fresh2 = next(stream)
    assert fresh and not fresh2 and x.shape == y.shape == (4, 10)
    assert torch.equal(y[:, :-1], x[:, 1:]) and torch.equal(x2[:, 0], x[:, -1] + 1)
