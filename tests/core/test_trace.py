"""Trace: the mapping interface, and save/load of .npz trace files (round trip, bad files, atomic)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seqviz.core.trace import Trace, TraceFileError


def sample_trace() -> Trace:
    rng = np.random.default_rng(0)
    arrays = {
        "hidden": rng.standard_normal((4, 2, 1, 3)).astype(np.float32),
        "cell": rng.standard_normal((4, 2, 1, 3)).astype(np.float32),
        "probs": rng.random((4, 5), dtype=np.float32),
    }
    meta = {"arch": "lstm", "num_layers": 2, "causal": True, "output_labels": ["a", "é", "c", "d", "e"]}
    return Trace(arrays, tokens=["the", "cat", "sät", "."], meta=meta, source_tokens=["x", "y"])


def test_mapping_interface_and_defaults() -> None:
    tr = Trace({"hidden": np.zeros((3, 1, 1, 2), np.float64)}, meta={"arch": "rnn"})
    assert tr["hidden"].dtype == np.float32
    assert tr.names() == ["hidden"] and len(tr) == 1 and "hidden" in tr
    assert tr.tokens == ["1", "2", "3"] and tr.num_steps == 3
    assert tr.arch == "rnn" and tr.is_recurrent
    with pytest.raises(KeyError, match="has no array 'cell'; it has hidden"):
        tr["cell"]


def test_save_load_round_trip_keeps_arrays_tokens_and_metadata(tmp_path: Path) -> None:
    tr = sample_trace()
    path = tr.save(tmp_path / "run.npz")
    assert path == tmp_path / "run.npz"
    back = Trace.load(path)
    assert back.names() == tr.names()
    for name in tr.names():
        assert back[name].dtype == np.float32
        np.testing.assert_array_equal(back[name], tr[name])
    assert back.tokens == tr.tokens
    assert back.source_tokens == ["x", "y"]
    assert back.meta == tr.meta
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]  # no temporary file left behind


def test_save_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "run.npz"
    sample_trace().save(path)
    Trace({"hidden": np.ones((2, 1, 1, 1), np.float32)}, meta={"arch": "gru"}).save(path)
    assert Trace.load(path).arch == "gru"


def test_loading_a_missing_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.npz"
    with pytest.raises(TraceFileError, match="nowhere.npz: no such file"):
        Trace.load(path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not a readable seqviz trace"),
        (np.random.default_rng(1).bytes(300), "not a readable seqviz trace"),
        (b"PK\x03\x04 truncated zip", "not a readable seqviz trace"),
    ],
)
def test_loading_garbage_raises_trace_file_error_naming_the_file(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "garbage.npz"
    path.write_bytes(content)
    with pytest.raises(TraceFileError, match=f"garbage.npz: {problem}"):
        Trace.load(path)


def test_loading_an_npz_without_metadata_says_it_is_not_a_trace(tmp_path: Path) -> None:
    path = tmp_path / "plain.npz"
    np.savez(path, hidden=np.zeros((2, 1, 1, 3), np.float32))
    with pytest.raises(TraceFileError, match="plain.npz: not a seqviz trace"):
        Trace.load(path)


@pytest.mark.parametrize("header", [b"not json", b"[1, 2]", b"\xff\xfe", b'{"meta": 5}'])
def test_loading_a_corrupt_header_raises_trace_file_error(tmp_path: Path, header: bytes) -> None:
    path = tmp_path / "bad_header.npz"
    np.savez(path, hidden=np.zeros((2, 1, 1, 3), np.float32), __seqviz_meta__=np.frombuffer(header, np.uint8))
    with pytest.raises(TraceFileError, match="bad_header.npz"):
        Trace.load(path)


def test_loading_an_object_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pickled.npz"
    meta = np.frombuffer(json.dumps({"meta": {}, "tokens": []}).encode(), np.uint8)
    np.savez(path, hidden=np.array([{"evil": 1}], dtype=object), __seqviz_meta__=meta)
    with pytest.raises(TraceFileError, match="pickled.npz"):
        Trace.load(path)


def test_save_into_a_missing_directory_fails_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        sample_trace().save(tmp_path / "missing" / "run.npz")
    assert list(tmp_path.iterdir()) == []


def test_failed_save_keeps_the_old_file_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run.npz"
    sample_trace().save(path)
    before = path.read_bytes()

    def write_half_then_fail(fh, **arrays) -> None:
        fh.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        Trace({"hidden": np.zeros((1, 1, 1, 1), np.float32)}).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]
