"""The Help menu: the keys, what each panel shows, the README's "Using the app" section, and an About
box with the versions of seqviz and what it runs on.

The keys are read from the window's own actions when the list opens, so a new command with a key is
listed without a change here; the panels' descriptions are written for a student (PANEL_HELP), one per
panel the window can dock (a test fails for a panel without one). Versions come from the installed
packages' metadata: the About box never imports torch or transformers to ask them.
"""

from __future__ import annotations

import html
import platform
import re
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import QUrl, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QTextBrowser, QVBoxLayout, QWidget

README_SECTION = "Using the app"
#: what a student sees in each panel, by panel name
PANEL_HELP = {
    "tokens": "The input as a row of tokens above every panel. The current token is highlighted and "
    "the future faded (or hidden: View › Hide the future). Click a token to go to its step.",
    "hidden": "The hidden state h_t: one row per unit, one column per step, revealed up to the "
    "current step, and the current vector as bars. Click a cell to follow that unit over time.",
    "gates": "The gates of a GRU (update z, reset r, candidate n) or an LSTM (input i, forget f, "
    "output o, candidate g and the cell state c), each as units × steps, and the cell's equation "
    "with the selected unit's numbers at this step.",
    "attention": "For a Transformer or an attention model: how much each query (the step) attends to "
    "each key, for one layer and head; every head as a thumbnail; lines from the current token.",
    "output": "What the model outputs at this step: next-token or class probabilities, the tags, or "
    "the translated token, with the true answer marked where it is known.",
    "units": "The selected units over all steps as lines, with the step cursor; click a heatmap cell "
    "or Ctrl+click for more units.",
    "gradients": "Gradient flow: how much each earlier token influences this step's prediction, "
    "‖∂y_t/∂x_s‖, as bars, as the whole map, and against the distance (vanishing gradients).",
    "find_units": "Find the units that matter: those on within a span of tokens, or those that "
    "differ most between this text and another; follow them, match them, set them to B's values.",
    "difference": "For two compared runs: B − A of one array where the shapes match.",
}
MOUSE_HELP = (
    ("Click a token", "go to its step"),
    ("Click a heatmap cell", "go to that step and follow that unit over time"),
    ("Ctrl+click a cell", "add the unit to the followed ones"),
    ("Right-click a unit or a head", "what if: set it to 0, hold it, clamp a gate, ablate the head"),
    ("Double-click a token", "mask it (masked language models)"),
    ("Esc in the text field", "back to stepping with the arrow keys"),
)
PACKAGES = ("PySide6-Essentials", "pyqtgraph", "numpy", "torch", "safetensors", "Pillow", "transformers")


def install(window) -> None:
    """Add the Help menu, last in the window's menu bar; its actions are `window.help_actions`."""
    menu = window.menuBar().addMenu("&Help")
    entries = {
        "keys": ("Keys and mouse", "Every key and mouse gesture", lambda: show_keys(window), "F1"),
        "panels": ("The panels", "What each panel shows", lambda: show_panels(window), None),
        "readme": (
            f"Guide: {README_SECTION}",
            "The README's guide to the app",
            lambda: show_readme(window),
            None,
        ),
        "about": ("About seqviz", "Versions of seqviz and what it runs on", lambda: show_about(window), None),
    }
    window.help_actions = {}
    for key, (text, tip, slot, keys) in entries.items():
        if key == "about":
            menu.addSeparator()
        action = menu.addAction(text)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        if keys:
            action.setShortcut(QKeySequence(keys))
            window.addAction(action)  # the key works wherever the focus is
        window.help_actions[key] = action
    window.help_menu = menu


# what the dialogs say ---------------------------------------------------------------------------------
def key_rows(window) -> list[tuple[str, str]]:
    """(keys, what they do) for every action of the window that has a key, then the mouse gestures."""
    rows, seen = [], set()
    for action in window.findChildren(QAction):
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        what = (action.statusTip() or action.text()).replace("&", "")
        if keys and (tuple(keys), what) not in seen:
            seen.add((tuple(keys), what))
            rows.append((" / ".join(keys), what))
    rows.sort(key=lambda row: (len(row[0]) > 6, row[0]))  # plain keys first
    return rows + list(MOUSE_HELP)


def panel_rows(window) -> list[tuple[str, str]]:
    """(title, what it shows) for every panel of the window, the token strip first."""
    return [(panel.title, PANEL_HELP.get(name, "")) for name, panel in window.panels.items()]


def versions() -> list[tuple[str, str]]:
    """(name, version) of seqviz, Python, Qt and the packages it uses; "not installed" for missing
    optional ones."""
    rows = [("seqviz", _version("seqviz")), ("Python", platform.python_version()), ("Qt", qVersion())]
    return rows + [(name, _version(name)) for name in PACKAGES]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def readme_section(title: str = README_SECTION) -> str | None:
    """The README's section `title` (Markdown, up to the next section of its level), from the
    checkout's README.md or, installed, the package's description; None if neither has it."""
    path = readme_path()
    try:
        text = path.read_text(encoding="utf-8") if path else None
    except OSError:
        text = None
    if text is None:
        try:
            text = metadata.metadata("seqviz").get_payload() or ""
        except metadata.PackageNotFoundError:
            return None
    found = re.search(rf"^(#+) {re.escape(title)}\s*$", text, flags=re.MULTILINE)
    if found is None:
        return None
    level = len(found.group(1))
    after = re.search(rf"^#{{1,{level}}} ", text[found.end() :], flags=re.MULTILINE)
    return text[found.start() : found.end() + (after.start() if after else len(text))].strip()


def readme_path() -> Path | None:
    """README.md of the checkout seqviz runs from (an installed copy has none)."""
    path = Path(__file__).resolve().parents[3] / "README.md"
    return path if path.is_file() else None


# dialogs ----------------------------------------------------------------------------------------------
def _table(rows: list[tuple[str, str]], header: tuple[str, str]) -> str:
    """An HTML table whose first column is as wide as its longest entry, never wrapped (Qt shares the
    width out by the cells' contents: unwrappable, the keys keep their line and the descriptions get
    the rest)."""
    first = "style='white-space:nowrap; padding:2px 14px 2px 0'"
    cells = "".join(
        f"<tr><td {first}><b>{html.escape(a)}</b></td><td>{html.escape(b)}</td></tr>" for a, b in rows
    )
    titles = [html.escape(title) for title in header]
    head = f"<tr><th {first} align=left>{titles[0]}</th><th align=left>{titles[1]}</th></tr>"
    return f"<table cellspacing=0>{head}{cells}</table>"


def _text_dialog(
    window, name: str, title: str, text: str, markdown: bool = False, folder: str | None = None
) -> QDialog:
    """A non-modal dialog showing `text` (HTML or Markdown), one per kind: opened again, it comes forward."""
    dialog = window.findChild(QDialog, name)
    if dialog is None:
        dialog = QDialog(window)
        dialog.setObjectName(name)
        layout = QVBoxLayout(dialog)
        browser = QTextBrowser(objectName="helpText")
        browser.setOpenExternalLinks(True)
        layout.addWidget(browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.close)
        layout.addWidget(buttons)
        dialog.resize(720, 560)
    dialog.setWindowTitle(title)
    browser = dialog.findChild(QTextBrowser, "helpText")
    if folder is not None:
        browser.setSearchPaths([folder])  # where relative pictures are found
    browser.setMarkdown(text) if markdown else browser.setHtml(text)
    dialog.show()
    dialog.raise_()
    return dialog


def show_keys(window) -> QDialog:
    """The keys, then the mouse gestures in a table of their own (in one, "Right-click a unit or a
    head" widened the keys' column and wrapped the descriptions)."""
    keys = key_rows(window)[: -len(MOUSE_HELP)]
    text = _table(keys, ("Keys", "Action")) + "<p></p>" + _table(list(MOUSE_HELP), ("Mouse", "Action"))
    dialog = _text_dialog(window, "helpKeys", "Keys and mouse", text)
    _widen_to_lines(dialog)
    return dialog


def _widen_to_lines(dialog: QDialog) -> None:
    """Widen `dialog` until its text needs no wrapping (a theme's large text wrapped every
    description), by 90% of the screen at most."""
    browser = dialog.findChild(QTextBrowser, "helpText")
    document = browser.document().clone()
    document.setTextWidth(-1)  # laid out without wrapping: its width is the longest line's
    margins = browser.width() - browser.viewport().width() + dialog.width() - browser.width()
    wanted = int(document.size().width()) + margins + 4
    screen = dialog.screen().availableGeometry()
    dialog.resize(max(dialog.width(), min(wanted, int(screen.width() * 0.9))), dialog.height())


def show_panels(window) -> QDialog:
    intro = "<p>Every panel is a dock: move it, close it, reopen it from View; View › Layout has a "
    intro += "layout for each lesson.</p>"
    return _text_dialog(window, "helpPanels", "The panels", intro + _table(panel_rows(window), ("Panel", "")))


def show_readme(window) -> QDialog | None:
    section = readme_section()
    if section is None:
        QMessageBox.information(window, "Guide", "The README is not installed with this copy of seqviz.")
        return None
    path = readme_path()
    if path is not None:
        section += f"\n\n[The whole README]({QUrl.fromLocalFile(str(path)).toString()})"
    # the section's pictures (docs/...) are found beside the README
    folder = str(path.parent) if path is not None else None
    title = f"Guide: {README_SECTION}"
    return _text_dialog(window, "helpReadme", title, section, markdown=True, folder=folder)


def show_about(window: QWidget) -> QMessageBox:
    rows = "".join(
        f"<tr><td>{html.escape(n)}</td><td>&nbsp;{html.escape(v)}</td></tr>" for n, v in versions()
    )
    text = (
        "<h3>seqviz</h3><p>See inside sequence models, token by token: hidden states, gates, attention "
        f"and gradients of RNN, GRU, LSTM and Transformer models.</p><table>{rows}</table>"
    )
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About seqviz", text, QMessageBox.StandardButton.Ok, window)
    box.setObjectName("helpAbout")
    box.open()
    return box
