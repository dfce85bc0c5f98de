"""Scenes, headless export, the export dialogs, the launch and the benchmark scripts drive the window
only through its public API (MainWindow, ViewerModel, Session, their parts): read statically, none of
them touches an underscore attribute of another object or imports an underscore name of another
module. A private name may change with its owner; a public one is documented and kept."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = [
    "seqviz/app/scenes/in_window.py",
    "seqviz/app/export/headless.py",
    "seqviz/app/export/dialogs.py",
    "seqviz/app/window/launch.py",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "bench").glob("*.py")),
]
OWN = ("self", "cls")  # an object's own attributes, in its own methods
# the standard library's own ways to end a process, not the window's (launch.exit_now): os._exit is
# documented; atexit._run_exitfuncs runs what Python's exit would (the interpreter's atexit step)
STANDARD = ("os._exit", "atexit._run_exitfuncs")
NAME_FUNCTIONS = ("getattr", "setattr", "hasattr", "delattr")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_own(node: ast.expr) -> bool:
    """`self`, `cls` or `super()`: the object's own (or its base class's) attributes."""
    if isinstance(node, ast.Name):
        return node.id in OWN
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


def private_uses(source: str, filename: str = "<source>") -> list[str]:
    """Each use of another object's or module's private name in `source`, as "file:line: code"."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Attribute) and _private(node.attr) and not _is_own(node.value):
            if ast.unparse(node) not in STANDARD:
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names if _private(a.name)]
            found += [(node.lineno, f"from {node.module} import {n}") for n in names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in NAME_FUNCTIONS
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
            and not _is_own(node.args[0])
        ):
            found.append((node.lineno, ast.unparse(node)))
    return [f"{filename}:{line}: {code}" for line, code in sorted(found)]


def test_the_window_is_driven_only_through_public_names():
    assert len(CHECKED) > 4  # the benchmark scripts were found
    found = []
    for path in CHECKED:
        found += private_uses((ROOT / path).read_text(encoding="utf-8"), path)
    assert found == [], "use (or add) a public method or property on the owner:\n" + "\n".join(found)


def test_the_check_finds_each_kind_of_private_use_and_allows_own_and_dunder_names():
    source = """
from seqviz.app.export.pictures import _rgb, render_picture
window._is_ready
window.session._jobs.busy
getattr(window, "_trace", None)

class Mine(Base):
    def __init__(self):
        super().__init__()
        self._value = 1
        super()._setup()
        type(self).__name__, window.__class__
        _helper()  # this module's own name
"""
    assert [use.split(": ", 1)[1] for use in private_uses(source)] == [
        "from seqviz.app.export.pictures import _rgb",
        "window._is_ready",
        "window.session._jobs",
        "getattr(window, '_trace', None)",
    ]
