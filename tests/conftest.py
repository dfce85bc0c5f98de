"""Shared test setup: Qt without a screen, settings that never touch the person's own, and the
process-wide theme back to light after every test.

QT_QPA_PLATFORM must be set before Qt is imported, so it is set here at import time (unless the caller
chose a platform). SEQVIZ_SETTINGS_DIR points at a throwaway folder for the whole session (subprocesses
inherit it), and at a fresh one per test.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["SEQVIZ_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="seqviz-test-settings-")
os.environ.pop("SEQVIZ_REPORT", None)
# Never the person's Hugging Face cache, never the network: the chooser lists an empty cache unless a
# test builds one (tests/hf_cache_layout.py), and transformers refuses to download.
os.environ["HF_HUB_CACHE"] = tempfile.mkdtemp(prefix="seqviz-test-hf-cache-")
os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def temp_settings_dir(tmp_path, monkeypatch):
    """A fresh, empty settings folder for each test."""
    folder = tmp_path / "settings"
    monkeypatch.setenv("SEQVIZ_SETTINGS_DIR", str(folder))
    return folder


@pytest.fixture
def dialog_log(monkeypatch):
    """No dialogs on screen: errors are recorded as (title, message) through the app's error handler,
    file and folder choosers fail the test unless a test sets `dialog_log.next_file`."""
    from seqviz.app.window import dialogs

    class Log(list):
        next_file: str | None = None

    log = Log()
    previous = dialogs.set_error_handler(lambda title, message, detail=None: log.append((title, message)))

    def choose_file(parent, title, file_filter, folder=""):
        assert log.next_file is not None, f"unexpected file dialog: {title}"
        return log.next_file

    monkeypatch.setattr(dialogs, "choose_file", choose_file)
    monkeypatch.setattr(dialogs, "choose_folder", lambda parent, title: choose_file(parent, title, ""))
    yield log
    dialogs.set_error_handler(previous)


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Tiny tensors on 2 shared cores: torch's second worker thread makes them 10-50x slower, not faster."""
    import torch

    torch.set_num_threads(1)
    yield


@pytest.fixture(autouse=True)
def collect_garbage_between_tests(request):
    """Collect each Qt test's dead wrappers before the next test starts. Left to the cyclic collector,
    they are freed at a random moment of a later test, possibly while pyqtgraph is building items
    (a segfault inside ViewBox.itemChange was seen once that way in a full run)."""
    yield
    if "qtbot" in request.fixturenames:
        gc.collect()


_THEME_MODULE = "seqviz.app.window.theme"


def _theme_left_behind() -> str | None:
    """What is wrong with the process-wide theme now, or None when it is plain light (the theme every
    test starts from: panels, pictures and pixel comparisons depend on it)."""
    module = sys.modules.get(_THEME_MODULE)
    if module is None:  # never imported: nothing can have changed it (core tests stay Qt-free)
        return None
    shown = module.current_theme()
    if shown.name != "light":
        return f"the theme is {shown.name!r}"
    if module.stroke_scale() != 1.0:
        return f"the stroke scale is {module.stroke_scale()}"
    return None


def _light_application() -> None:
    """The text scale of a small window, and the palette and the text size a window's theme gave the
    whole application (seqviz.app.window.appearance), back to the light theme's."""
    module = sys.modules.get(_THEME_MODULE)
    if module is not None:
        module.set_text_scale(1.0)
    appearance = sys.modules.get("seqviz.app.window.appearance")
    if appearance is not None:
        appearance.style_application(module.THEMES["light"])


@pytest.fixture(autouse=True)
def theme_starts_light(request):
    """Fail loudly when a test starts, or ends, with another theme than light: a test that switches
    the theme must use the `theme` fixture (which restores it) or leak into every later test."""
    problem = _theme_left_behind()
    if problem is not None:
        pytest.fail(
            f"{problem} at the start of {request.node.nodeid}: an earlier test leaked it", pytrace=False
        )
    _light_application()
    yield
    problem = _theme_left_behind()
    if problem is not None:
        module = sys.modules[_THEME_MODULE]
        module.set_stroke_scale(1.0)
        module.set_theme("light")  # only this test fails, not every later one
        pytest.fail(
            f"{problem} after {request.node.nodeid}: switch themes with the `theme` fixture", pytrace=False
        )


@pytest.fixture
def theme():
    """A setter for the process-wide theme, `theme("dark")` (returns the Theme, as `set_theme` does);
    light again after the test, whatever it switched to and however it ended."""
    from seqviz.app.window.theme import set_theme

    yield set_theme
    set_theme("light")
    _light_application()
