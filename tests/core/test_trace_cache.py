"""Stored traces (seqviz.core.trace_cache): found only for the same model file and text, never a broken
file, never an error for a folder that cannot be written."""

from __future__ import annotations

import numpy as np
import pytest

from seqviz.core import trace_cache
from seqviz.core.trace import Trace


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(trace_cache.CACHE_DIR_ENV, str(folder))
    return folder


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"weights " * 100)
    return path


def small_trace(T: int = 5, seed: int = 0) -> Trace:
    rng = np.random.default_rng(seed)
    hidden = np.tanh(rng.normal(size=(T, 1, 1, 4))).astype(np.float32)
    probs = rng.dirichlet(np.ones(3), T).astype(np.float32)
    meta = {"arch": "rnn", "hidden_size": 4, "task": "lm", "output_labels": ["a", "b", "c"]}
    return Trace({"hidden": hidden, "probs": probs}, tokens=list("abcab")[:T], meta=meta)


def test_a_stored_trace_is_found_for_the_same_model_file_and_text(model_file, cache):
    trace = small_trace()
    path = trace_cache.store(model_file, "a b c a b", trace)
    assert path is not None and path.parent == cache
    found = trace_cache.find(model_file, "a b c a b")
    assert found is not None and trace_cache.same_trace(found, trace)
    assert trace_cache.find(model_file, "a b c a") is None  # another text


def test_a_changed_model_file_never_finds_the_old_trace(model_file):
    trace_cache.store(model_file, "abc", small_trace())
    model_file.write_bytes(model_file.read_bytes().replace(b"weights", b"Weights", 1))  # retrained
    assert trace_cache.find(model_file, "abc") is None


def test_one_trace_is_kept_per_model_the_last_text(model_file, cache):
    trace_cache.store(model_file, "first", small_trace())
    trace_cache.store(model_file, "second", small_trace(seed=1))
    assert len(list(cache.glob("*.npz"))) == 1
    assert trace_cache.find(model_file, "first") is None
    assert trace_cache.find(model_file, "second") is not None


def test_a_damaged_or_missing_file_is_no_trace(model_file, cache):
    path = trace_cache.store(model_file, "abc", small_trace())
    path.write_bytes(b"PK\x03\x04 not a zip")
    assert trace_cache.find(model_file, "abc") is None
    assert trace_cache.find(model_file.with_name("missing.safetensors"), "abc") is None


def test_a_folder_that_cannot_be_written_keeps_nothing_and_raises_nothing(model_file, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    monkeypatch.setenv(trace_cache.CACHE_DIR_ENV, str(blocker / "cache"))
    assert trace_cache.store(model_file, "abc", small_trace()) is None
    assert trace_cache.find(model_file, "abc") is None


def test_a_trace_too_big_to_be_a_preview_is_not_kept(model_file, monkeypatch):
    monkeypatch.setattr(trace_cache, "MAX_STORED_BYTES", 100)
    assert trace_cache.store(model_file, "abc", small_trace()) is None


def test_the_cache_follows_the_settings_folder_unless_named(tmp_path, monkeypatch):
    monkeypatch.delenv(trace_cache.CACHE_DIR_ENV)
    monkeypatch.setenv(trace_cache.SETTINGS_DIR_ENV, str(tmp_path / "settings"))
    assert trace_cache.cache_dir() == tmp_path / "settings" / "cache"
    monkeypatch.delenv(trace_cache.SETTINGS_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert trace_cache.cache_dir() == tmp_path / "xdg" / "seqviz" / "traces"


def test_same_trace_sees_one_changed_number_token_or_metadata_field():
    a = small_trace()
    assert trace_cache.same_trace(a, small_trace())
    hidden = np.array(a["hidden"])
    hidden[2, 0, 0, 1] = np.nextafter(hidden[2, 0, 0, 1], np.float32(2))  # one bit
    assert not trace_cache.same_trace(a, Trace({**a, "hidden": hidden}, a.tokens, a.meta))
    assert not trace_cache.same_trace(a, Trace(dict(a), ["x", *a.tokens[1:]], a.meta))
    assert not trace_cache.same_trace(a, Trace(dict(a), a.tokens, a.meta.replace(hidden_size=5)))
    assert not trace_cache.same_trace(a, Trace({"hidden": a["hidden"]}, a.tokens, a.meta))
    nan = np.array(a["hidden"])
    nan[0] = np.nan  # a diverged model's NaN is the same NaN
    assert trace_cache.same_trace(
        Trace({**a, "hidden": nan}, a.tokens, a.meta), Trace({**a, "hidden": nan}, a.tokens, a.meta)
    )
