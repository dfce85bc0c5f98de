"""The load options kept with a model (seqviz.app.viewer.load_options): what settings and scene files
accept, and what they keep."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqviz.app.viewer.load_options import options_problem, stored
from seqviz.app.window.settings import AppSettings


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({}, None),
        ({"vocab": "data/wikitext-2", "heads": 2, "nonlinearity": "relu"}, None),
        ({"vocab": ["the", "cat"]}, None),
        ([], "must be an object of vocab, heads, nonlinearity"),
        ({"vocab": "v.txt", "code": "x"}, "has no option 'code' (only vocab, heads, nonlinearity)"),
        ({"vocab": 3}, "vocab must be a file or folder, or a list of words"),
        ({"vocab": []}, "vocab must be a file or folder, or a list of words"),
        ({"heads": True}, "heads must be a whole number of attention heads, 1 to 4096"),
        ({"heads": 0}, "heads must be a whole number of attention heads, 1 to 4096"),
        ({"nonlinearity": "sigmoid"}, "nonlinearity must be tanh or relu"),
    ],
)
def test_what_a_file_may_hold(options, problem):
    assert options_problem(options) == problem


def test_paths_are_kept_as_text_and_words_as_a_list():
    kept = stored({"vocab": Path("data") / "wikitext-2", "heads": None, "nonlinearity": "tanh"})
    assert kept == {"vocab": "data/wikitext-2", "nonlinearity": "tanh"}
    assert stored({"vocab": ("a", "b")}) == {"vocab": ["a", "b"]}


def test_settings_read_anything_else_as_no_options():
    settings = AppSettings()
    settings.model_options = {"vocab": "v.txt", "heads": 4}
    assert AppSettings().model_options == {"vocab": "v.txt", "heads": 4}
    for junk in ("not json", '{"heads": -1}', "[1, 2]", "[" * 5000):
        settings.qsettings.setValue("session/model_options", junk)
        assert AppSettings().model_options == {}


def test_a_scene_refuses_options_that_are_no_load_options(tmp_path):
    from seqviz.app.scenes.scene_file import Scene, SceneError

    base = {"format": "seqviz-scene", "version": 2, "model": "longrange-lstm", "text": "hello"}
    with pytest.raises(SceneError, match='"model_options" heads must be a whole number'):
        Scene.from_dict(base | {"model_options": {"heads": "two"}})
    run = {"model": "longrange-gru", "model_options": {"code": "x"}}
    with pytest.raises(SceneError, match=r'"compare\[\].model_options" has no option \'code\''):
        Scene.from_dict(base | {"compare": [run]})
    scene = Scene.from_dict(base | {"model_options": {"vocab": "v.txt", "heads": 2}}, tmp_path)
    assert scene.model_options == {"vocab": str(tmp_path / "v.txt"), "heads": 2}
