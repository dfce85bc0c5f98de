"""Other people's models in the window: the local Hugging Face cache in the model chooser, and
File > Open model folder."""

from __future__ import annotations

import pytest
from hf_cache_layout import add_cached_repo, config
from PySide6.QtCore import Qt

from seqviz.app.window import other_models
from seqviz.app.window.main_window import MainWindow
from seqviz.app.window.toolbar import SOURCE_ROLE


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "hub"
    folder.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(folder))
    return folder


def chooser_rows(window: MainWindow) -> list[tuple[str, str | None, bool]]:
    """(text, source, enabled) of every row of the model chooser."""
    model = window.toolbar.model_combo.model()
    return [
        (
            model.item(r).text(),
            model.item(r).data(SOURCE_ROLE),
            bool(model.item(r).flags() & Qt.ItemFlag.ItemIsEnabled),
        )
        for r in range(model.rowCount())
    ]


def test_the_chooser_lists_the_models_of_the_local_cache(qtbot, cache):
    add_cached_repo(
        cache, "gpt2", {"config.json": config("gpt2", "GPT2LMHeadModel"), "model.safetensors": b"w"}
    )
    add_cached_repo(
        cache, "org/tiny-bert", {"config.json": config("bert", "BertForMaskedLM"), "model.safetensors": b"w"}
    )
    add_cached_repo(cache, "half-downloaded", {"config.json": config("gpt2", "GPT2LMHeadModel")})
    add_cached_repo(
        cache, "openai/whisper-tiny", {"config.json": config("whisper", "X"), "model.safetensors": b"w"}
    )
    window = MainWindow(lazy_panels=True)
    qtbot.addWidget(window)
    rows = chooser_rows(window)
    header = rows.index(("HUGGING FACE CACHE", None, False))
    group = rows[header + 1 :]
    assert group[:2] == [
        ("gpt2 \u2014 GPT-2, GPT2LMHeadModel", "gpt2", True),
        ("org/tiny-bert \u2014 BERT, BertForMaskedLM", "org/tiny-bert", True),
    ]
    assert not any(
        "half-downloaded" in text or "whisper" in text for text, _, _ in rows
    )  # not a model it traces
    chosen = []
    window.toolbar.modelChosen.connect(chosen.append)
    window.toolbar.model_combo.activated.emit(header + 1)  # a person picks gpt2
    assert chosen == ["gpt2"]


def test_without_the_extra_the_cached_models_say_how_to_add_it(qtbot, cache, monkeypatch):
    add_cached_repo(
        cache, "gpt2", {"config.json": config("gpt2", "GPT2LMHeadModel"), "model.safetensors": b"w"}
    )
    monkeypatch.setattr(other_models, "hf_available", lambda: False)
    window = MainWindow(lazy_panels=True)
    qtbot.addWidget(window)
    rows = chooser_rows(window)
    assert rows[-1] == (
        'to open these, install the Hugging Face extra: pip install "seqviz[hf]"',
        None,
        False,
    )


def test_an_empty_cache_adds_nothing_to_the_chooser(qtbot, cache):
    window = MainWindow(lazy_panels=True)
    qtbot.addWidget(window)
    assert not any(text == "HUGGING FACE CACHE" for text, _, _ in chooser_rows(window))


def test_open_model_folder_opens_the_folder_chosen(qtbot, dialog_log, tmp_path, monkeypatch):
    window = MainWindow(lazy_panels=True)
    qtbot.addWidget(window)
    opened = []
    monkeypatch.setattr(window, "open_model", lambda source, **kw: opened.append((source, kw)))
    file_menu = window.menuBar().actions()[0].menu()
    assert window.commands.open_folder in file_menu.actions()
    dialog_log.next_file = str(tmp_path)
    window.commands.open_folder.trigger()
    assert opened == [(str(tmp_path), {"wait": False})]


def test_list_models_adds_the_cached_models_it_traces(cache, capsys):
    from seqviz import cli

    add_cached_repo(
        cache, "gpt2", {"config.json": config("gpt2", "GPT2LMHeadModel"), "model.safetensors": b"w"}
    )
    add_cached_repo(
        cache, "openai/whisper-tiny", {"config.json": config("whisper", "X"), "model.safetensors": b"w"}
    )
    assert cli.main(["--list-models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "gpt2  transformer  hf-cache  GPT-2, GPT2LMHeadModel (Hugging Face cache)"
    assert not any("whisper" in line for line in lines)
