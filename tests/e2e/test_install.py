"""A non-editable install (a wheel in a fresh virtual environment) carries the bundled models.

The wheel is built from a copy of the working tree (setuptools writes build/ and *.egg-info beside
pyproject.toml; other test runs may share the checkout) without build isolation, so nothing is downloaded.
The fresh environment gets the dependencies from this test's environment through a `.pth` line: a
directory named in a `.pth` file joins sys.path without its own `.pth` files being run, so an editable
install of the checkout there stays invisible. Every command runs from a folder outside the checkout, and
the first one checks that `seqviz` is imported from the new environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from seqviz.demos import catalogue

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120

pytestmark = pytest.mark.slow  # about 15 s: a build, an install, and three subprocesses that import torch


def run(args: list[str | Path], cwd: Path, **env_extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="offscreen", **env_extra)
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd, env=env
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("seqviz", "resources"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    run([*pip_wheel, "-w", base, source], base)
    (built,) = base.glob("seqviz-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its folder."""
    folder = tmp_path_factory.mktemp("venv") / "env"
    run([sys.executable, "-m", "venv", "--without-pip", folder], folder.parent)
    python = folder / "bin" / "python"
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = run([python, "-c", where], folder).stdout.strip()
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(site) / "seqviz_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    pip_install = [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps"]
    run([*pip_install, "--no-index", wheel], folder)
    return folder


@pytest.fixture
def outside(tmp_path) -> Path:
    """A working folder outside the checkout."""
    assert not tmp_path.resolve().is_relative_to(ROOT)
    return tmp_path


def test_the_wheel_holds_every_module_and_every_bundled_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "seqviz").rglob("*.py")}
    assert modules - names == set(), "packages missing from pyproject.toml's [tool.setuptools] packages"
    bundled = {
        "seqviz/" + p.relative_to(ROOT).as_posix() for p in (ROOT / "resources").rglob("*") if p.is_file()
    }
    assert bundled and bundled - names == set()
    assert not any(n.startswith("resources/") for n in names), "a top-level `resources` would clash"


LOAD_EVERY_ID = """
import json, sys
from pathlib import Path
import seqviz
from seqviz.core import resources
env = Path(sys.argv[1]).resolve()
assert Path(seqviz.__file__).resolve().is_relative_to(env), seqviz.__file__
assert resources.models_dir().resolve().is_relative_to(env), resources.models_dir()
shapes = {}
for model_id in sys.argv[2:]:
    model = seqviz.load_model(model_id)
    tr = seqviz.trace(model, model.card.examples[0])
    shapes[model_id] = [len(tr.tokens), *tr["probs"].shape]
print(json.dumps(shapes))
"""


def test_the_installed_app_lists_loads_and_traces_every_model(venv, outside):
    listed = run([venv / "bin" / "seqviz", "--list-models"], outside).stdout
    ids = [line.split()[0] for line in listed.splitlines()]
    assert ids == [e.id for group in catalogue.by_task().values() for e in group]
    assert "longrange-lstm" in ids and "untrained-lstm" in ids
    result = run([venv / "bin" / "python", "-c", LOAD_EVERY_ID, venv, *ids], outside)
    shapes = json.loads(result.stdout)
    assert sorted(shapes) == sorted(ids)
    for model_id, (tokens, steps, outputs) in shapes.items():
        assert tokens > 0 and steps > 0 and outputs > 1, model_id


def test_the_installed_app_exports_a_picture_of_a_bundled_model(venv, outside):
    out = outside / "out.png"
    args = ["--model", "longrange-lstm", "--step", "5", "--size", "960x540", "--export", out]
    run([venv / "bin" / "python", "-m", "seqviz", *args], outside)
    with Image.open(out) as image:
        assert image.size == (960, 540)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 100, "an empty or flat picture"
