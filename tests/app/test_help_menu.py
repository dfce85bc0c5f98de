"""The Help menu: the keys (read from the window's own actions), what each panel shows, the README's
guide to the app, and an About box with the versions of seqviz and what it runs on."""

from __future__ import annotations

import platform
from importlib import metadata

import pytest
from PySide6.QtCore import qVersion
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QDialog, QMessageBox, QTextBrowser
from traces import lstm_trace, shown

from seqviz.app import MainWindow
from seqviz.app.window import help_menu
from seqviz.app.window.docks import panel_classes


@pytest.fixture
def window(qtbot, dialog_log):
    w = shown(qtbot, MainWindow(), (1400, 860))
    w.show_trace(lstm_trace(T=6))
    return w


def shown_text(dialog) -> str:
    return dialog.findChild(QTextBrowser, "helpText").toPlainText()


def test_help_is_the_last_menu_with_keys_panels_guide_and_about(window):
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus[-1] == "&Help"
    entries = [action.text() for action in window.help_menu.actions() if not action.isSeparator()]
    assert entries == ["Keys and mouse", "The panels", "Guide: Using the app", "About seqviz"]
    assert window.help_actions["keys"].shortcut().toString() == "F1"


def test_the_keys_are_every_key_the_window_has(window):
    window.help_actions["keys"].trigger()
    dialog = window.findChild(QDialog, "helpKeys")
    assert dialog is not None and dialog.isVisible()
    text = shown_text(dialog)
    for key, what in [
        ("Space", "Play / pause"),
        ("Right", "One step forward"),
        ("Ctrl+Q", "Quit seqviz"),
        ("Ctrl+1", "The hidden state and the gates large"),
        ("F1", "Every key and mouse gesture"),
        ("Ctrl+Shift+C", "Copy the whole window as a picture"),
    ]:
        assert key in text and what in text, key
    assert "Click a token" in text and "Ctrl+click a cell" in text  # the mouse too
    window.help_actions["keys"].trigger()  # again: the same dialog comes forward
    assert len(window.findChildren(QDialog, "helpKeys")) == 1


def test_every_panel_has_a_description_for_a_student(window):
    names = ["tokens", *(cls.name for cls in panel_classes()), "difference"]
    for name in names:
        assert len(help_menu.PANEL_HELP.get(name, "")) > 40, name
    window.help_actions["panels"].trigger()
    text = shown_text(window.findChild(QDialog, "helpPanels"))
    for title in ("Hidden state", "Gates", "Attention", "Output", "Selected units", "Gradient flow"):
        assert title in text
    assert "forget f" in text and "View › Layout" in text


def test_the_guide_is_the_readmes_section_on_using_the_app(window):
    section = help_menu.readme_section()
    assert section is not None and section.startswith("## Using the app")
    assert "### Command line" in section and "## Bundled models" not in section
    window.help_actions["readme"].trigger()
    dialog = window.findChild(QDialog, "helpReadme")
    text = shown_text(dialog)
    assert "Right / Left" in text and "The whole README" in text


def test_about_names_the_versions(window):
    window.help_actions["about"].trigger()
    box = window.findChild(QMessageBox, "helpAbout")
    assert box is not None and box.isVisible()
    text = box.text()
    for name, version in [
        ("seqviz", metadata.version("seqviz")),
        ("Python", platform.python_version()),
        ("Qt", qVersion()),
        ("PySide6-Essentials", metadata.version("PySide6-Essentials")),
        ("pyqtgraph", metadata.version("pyqtgraph")),
        ("numpy", metadata.version("numpy")),
        ("torch", metadata.version("torch")),
    ]:
        assert f"<td>{name}</td><td>&nbsp;{version}</td>" in text, name
    box.close()


def block_geometry(browser: QTextBrowser) -> dict[str, tuple[float, int]]:
    """Each text block of the browser (a table cell) by its text: (its left edge, its line count)."""
    document, found = browser.document(), {}
    block = document.begin()
    while block.isValid():
        rect = document.documentLayout().blockBoundingRect(block)
        found[block.text()] = (rect.x(), block.layout().lineCount())
        block = block.next()
    return found


@pytest.mark.parametrize("name", ["light", "presentation"])
def test_the_keys_column_is_as_narrow_as_its_keys_and_no_description_wraps(window, theme, name):
    from seqviz.app.window import appearance

    appearance.apply_theme(window, name)  # the `theme` fixture puts light back
    dialog = help_menu.show_keys(window)
    browser = dialog.findChild(QTextBrowser, "helpText")
    blocks = block_geometry(browser)
    keys, action = blocks["Ctrl+3"], next(v for k, v in blocks.items() if k.startswith("One column like"))
    at_most = dialog.width() >= int(dialog.screen().availableGeometry().width() * 0.9)  # a small screen
    assert keys[1] == 1 and (action[1] == 1 or at_most)  # the dialog is as wide as its longest line
    bold = browser.font()
    bold.setBold(True)
    shortcuts = help_menu.key_rows(window)[: -len(help_menu.MOUSE_HELP)]
    widest = max(QFontMetrics(bold).horizontalAdvance(k) for k, _ in shortcuts)
    assert widest <= action[0] - keys[0] <= widest + 40
