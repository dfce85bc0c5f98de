"""Listing the local Hugging Face cache: where it is, which models are complete, which snapshot."""

from __future__ import annotations

import os

import pytest
from hf_cache_layout import add_cached_repo, config

from seqviz.core import hf_cache
from seqviz.core.hf_cache import cache_dir, cached_models, find_cached


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "hub"
    folder.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(folder))
    return folder


def test_the_cache_is_where_huggingface_hub_looks(tmp_path, monkeypatch):
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "huggingface" / "hub"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "huggingface" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert cache_dir() == tmp_path / "hf" / "hub"
    monkeypatch.setenv("HUGGINGFACE_HUB_CACHE", str(tmp_path / "legacy"))
    assert cache_dir() == tmp_path / "legacy"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "new"))
    assert cache_dir() == tmp_path / "new"


def test_complete_models_are_listed_with_what_their_config_says(cache):
    add_cached_repo(
        cache, "gpt2", {"config.json": config("gpt2", "GPT2LMHeadModel"), "model.safetensors": b"w"}
    )
    add_cached_repo(
        cache,
        "google-bert/bert-base-uncased",
        {"config.json": config("bert", "BertForMaskedLM"), "pytorch_model.bin": b"w", "vocab.txt": "[CLS]"},
    )
    add_cached_repo(
        cache,
        "org/sharded",
        {"config.json": config("llama", "LlamaForCausalLM"), "model.safetensors.index.json": "{}"},
    )
    listed = cached_models()
    assert [m.repo_id for m in listed] == ["google-bert/bert-base-uncased", "gpt2", "org/sharded"]
    bert = listed[0]
    assert (bert.model_type, bert.architecture, bert.summary) == (
        "bert",
        "BertForMaskedLM",
        "BertForMaskedLM",
    )
    assert (bert.folder / "vocab.txt").read_text() == "[CLS]"
    assert find_cached("gpt2").folder == listed[1].folder
    assert find_cached("google-bert/bert-base-uncased") == bert


def test_downloads_cut_short_and_other_repos_are_not_listed(cache):
    add_cached_repo(cache, "no-weights", {"config.json": config("gpt2", "GPT2LMHeadModel")})
    add_cached_repo(cache, "no-config", {"model.safetensors": b"w"})
    snapshot = add_cached_repo(
        cache, "lost-blob", {"config.json": config("gpt2", "X"), "model.safetensors": b"w"}
    )
    (snapshot / "model.safetensors").resolve().unlink()  # the link is left dangling
    add_cached_repo(cache, "bad-config", {"config.json": "{not json", "model.safetensors": b"w"})
    (cache / "datasets--org--data" / "snapshots").mkdir(parents=True)
    (cache / "models--not-a-folder").write_text("")
    assert cached_models() == []
    assert all(find_cached(name) is None for name in ("no-weights", "no-config", "lost-blob", "bad-config"))


def test_the_snapshot_is_the_one_main_points_at_else_the_newest(cache):
    weights = {"model.safetensors": b"w"}
    add_cached_repo(
        cache, "m", {"config.json": config("gpt2", "Old"), **weights}, commit="a" * 40, main=False
    )
    add_cached_repo(cache, "m", {"config.json": config("gpt2", "New"), **weights}, commit="b" * 40)
    assert find_cached("m").architecture == "New"
    (cache / "models--m" / "refs" / "main").unlink()
    os.utime(cache / "models--m" / "snapshots" / ("a" * 40), (4e9, 4e9))  # the newest now
    assert find_cached("m").architecture == "Old"


def test_names_that_are_not_repo_ids_find_nothing(cache):
    for name in ("", "/etc", "../x", "a/b/c", "a/../b"):
        assert find_cached(name) is None


def test_a_missing_cache_lists_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "never-made"))
    assert cached_models() == [] and find_cached("gpt2") is None


def test_huggingface_hub_reads_the_same_cache(cache):
    """The layout the tests build is the library's own: its scanner finds the same repos."""
    scan = pytest.importorskip("huggingface_hub").scan_cache_dir
    add_cached_repo(
        cache, "gpt2", {"config.json": config("gpt2", "GPT2LMHeadModel"), "model.safetensors": b"w"}
    )
    add_cached_repo(
        cache, "org/name", {"config.json": config("bert", "BertModel"), "model.safetensors": b"v"}
    )
    info = scan(cache)
    assert sorted(r.repo_id for r in info.repos) == [m.repo_id for m in hf_cache.cached_models()]
    library = {r.repo_id: next(iter(r.revisions)).snapshot_path for r in info.repos}
    assert all(library[m.repo_id] == m.folder for m in hf_cache.cached_models())
