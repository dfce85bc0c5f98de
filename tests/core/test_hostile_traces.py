"""Hostile and broken trace files (issue 15): a trace is checked against its contract (docs/trace.md)
when it is loaded, and refused with one line; special files are refused unread; compressed arrays may
not inflate beyond the bound. (A trace handed to the window: tests/app/test_hostile_scenes.py.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import seqviz
from seqviz.core import file_limits
from seqviz.core.trace import Trace, TraceFileError
from seqviz.core.trace_check import trace_problem
from seqviz.core.trace_meta import TraceMeta

T = 5


def write_trace(path: Path, arrays: dict, header: dict | bytes, compressed: bool = False) -> Path:
    """A trace file as Trace.save lays it out, with whatever arrays and header the test wants."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    save = np.savez_compressed if compressed else np.savez
    with open(path, "wb") as fh:
        save(fh, **arrays, __seqviz_meta__=np.frombuffer(raw, np.uint8))
    return path


def good_arrays(steps: int = T) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "hidden": rng.normal(size=(steps, 2, 1, 4)).astype(np.float32),
        "attention": np.full((2, 3, steps, steps), 1 / steps, np.float32),
        "probs": np.full((steps, 3), 1 / 3, np.float32),
    }


def good_header(steps: int = T) -> dict:
    meta = {"arch": "transformer", "kind": "decoder", "task": "lm", "output_labels": ["a", "b", "c"]}
    return {"tokens": list("abcde"[:steps]), "meta": meta}


def refused(path: Path, *fragments: str) -> str:
    with pytest.raises(TraceFileError) as err:
        Trace.load(path)
    message = str(err.value)
    assert path.name in message and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_a_trace_of_the_contract_loads(tmp_path):
    trace = Trace.load(write_trace(tmp_path / "ok.npz", good_arrays(), good_header()))
    assert trace.num_steps == T and trace.names() == ["hidden", "attention", "probs"]


def test_every_kind_of_real_trace_keeps_the_contract(tmp_path):
    import torch

    for model in ("untrained-lstm", "untrained-transformer"):
        trace = seqviz.trace(seqviz.load_model(model), "hello world", gradients=True)
        assert Trace.load(trace.save(tmp_path / f"{model}.npz")).names() == trace.names()
    lstm = torch.nn.LSTM(3, 6, 2, proj_size=2, bidirectional=True)  # hidden of 2 units, gates of 6
    assert trace_problem(seqviz.trace(lstm, torch.randn(4, 3))) is None


# Tiny files that take gigabytes ----------------------------------------------------------------------


def test_a_compressed_trace_that_would_inflate_beyond_the_bound_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(file_limits, "SMALL_ALLOCATION", 2**20)
    arrays = {"hidden": np.zeros((T, 1, 1, 2**20), np.float32)}  # 20 MB of zeros, a few KB deflated
    path = write_trace(tmp_path / "bomb.npz", arrays, good_header(), compressed=True)
    assert path.stat().st_size < 100_000
    refused(path, "its compressed contents would inflate to 20.0 MB")


def test_a_compressed_trace_within_the_bound_loads(tmp_path):
    path = write_trace(tmp_path / "small.npz", good_arrays(), good_header(), compressed=True)
    assert Trace.load(path).num_steps == T


def test_an_array_of_two_million_rows_for_five_tokens_is_refused(tmp_path):
    arrays = {**good_arrays(), "probs": np.zeros((2_000_000, 3), np.float32)}
    refused(
        write_trace(tmp_path / "rows.npz", arrays, good_header()), "probs has shape (2000000, 3)", "T = 5"
    )


# Special files ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_fifo_given_as_a_trace_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.npz")
    refused(tmp_path / "pipe.npz", "named pipe (FIFO)")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="a device file")
def test_dev_zero_as_a_trace_is_refused_unread():
    with pytest.raises(TraceFileError, match="/dev/zero: it is a device"):
        Trace.load("/dev/zero")


def test_a_trace_name_too_long_is_a_message(tmp_path):
    with pytest.raises(TraceFileError, match="name is too long"):
        Trace.load(tmp_path / ("x" * 300 + ".npz"))


# Traces are trusted no more ------------------------------------------------------------------------------

BROKEN = {
    "hidden of the wrong rank": (
        {"hidden": np.zeros((T, 4), np.float32)},
        {},
        "hidden has 2 axes (5, 4), not 4",
    ),
    "no hidden states": ({"hidden": None}, {}, "no hidden states"),
    "T = 0": (
        {"hidden": np.zeros((0, 2, 1, 4), np.float32), "attention": None, "probs": None},
        {"tokens": []},
        "no steps (T = 0)",
    ),
    "complex values": (
        {"hidden": np.zeros((T, 2, 1, 4), np.complex64)},
        {},
        "hidden holds complex64 values, not floats",
    ),
    "strings": ({"probs": np.array([["a"] * 3] * T)}, {}, "probs holds str"),
    "tokens that do not match": ({}, {"tokens": list("abc")}, "hidden has shape (5, 2, 1, 4): its T is 5"),
    "attention of another T": (
        {"attention": np.zeros((2, 3, T + 1, T + 1), np.float32)},
        {},
        "attention has shape (2, 3, 6, 6): its T is 6, where the trace has T = 5",
    ),
    "attention of another depth": (
        {"attention": np.zeros((3, 3, T, T), np.float32)},
        {},
        "its L is 3, where the trace has L = 2",
    ),
    "labels that do not match the outputs": (
        {},
        {"meta": {"output_labels": ["a", "b"]}},
        "probs has shape (5, 3): its K is 3",
    ),
    "tokens of the wrong type": ({}, {"tokens": [1, 2, 3, 4, 5]}, "its tokens are not a list of text"),
    "num_layers as text": ({}, {"meta": {"num_layers": "two"}}, "num_layers is 'two', not a whole number"),
    "output labels as a number": (
        {},
        {"meta": {"output_labels": 5}},
        "output_labels is 5, not a list of text",
    ),
    "causal as text": ({}, {"meta": {"causal": "yes"}}, "causal is 'yes', not true or false"),
    "an unknown task": ({}, {"meta": {"task": "poetry"}}, "meta.task is 'poetry'"),
    "targets beyond the outputs": (
        {},
        {"meta": {"targets": [0, 1, 2, 7, -1]}},
        "targets holds outputs outside",
    ),
    "targets of another length": ({}, {"meta": {"targets": [0, 1]}}, "targets has 2 entries for 5 steps"),
    "metadata not an object": ({}, {"meta": [1, 2]}, "its metadata is not a JSON object"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_trace_that_breaks_its_contract_is_refused_with_one_line(tmp_path, case):
    array_changes, header_changes, fragment = BROKEN[case]
    arrays = {k: v for k, v in {**good_arrays(), **array_changes}.items() if v is not None}
    header = good_header()
    for key, value in header_changes.items():
        header[key] = {**header["meta"], **value} if key == "meta" and isinstance(value, dict) else value
    refused(write_trace(tmp_path / "broken.npz", arrays, header), "not a valid seqviz trace", fragment)


def test_an_object_array_never_suggests_loading_it_unsafely(tmp_path):
    arrays = {"hidden": np.array([{"evil": 1}] * T, dtype=object)}
    message = refused(write_trace(tmp_path / "objects.npz", arrays, good_header()), "Python objects")
    assert "allow_pickle" not in message and "unsafe" not in message


def test_a_typed_trace_from_a_script_is_checked_too():
    meta = TraceMeta(kind="decoder", num_layers="2")  # a dataclass takes anything
    trace = Trace(good_arrays(), list("abcde"), meta)
    assert trace_problem(trace) == "its meta.num_layers is '2', not a whole number"
    assert trace_problem("not a trace") == "it is a str, not a seqviz Trace"
