"""Where the bundled files are: the one place that knows (models, the figure).

Why a module of its own: the catalogue, model loading, training and the figure all read or write these
files, and each used to work out the folder itself, from its own depth in the source tree.

Where they are:
- in a checkout (and an editable install, which runs the checkout), in `<repo>/resources/`, next to the
  `seqviz` package;
- in an installed wheel (`pip install .`, pipx), in `seqviz/resources/` inside the package: the build
  maps the repository's top-level `resources/` onto the package `seqviz.resources` (pyproject.toml,
  `[tool.setuptools.package-dir]`), so the files travel as package data and sit beside the code.

The installed location wins when it exists; a checkout never has one (its `seqviz/` holds no
`resources/`), so training scripts run in a checkout write into the checkout's `resources/models`.
Pure path arithmetic: no Qt, no torch, nothing imported.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # the `seqviz` package folder
INSTALLED = _PACKAGE / "resources"  # inside an installed wheel
CHECKOUT = _PACKAGE.parent / "resources"  # the repository's top level


def resources_dir() -> Path:
    """The folder holding `models/` and `figures/`: installed package data, else the checkout's."""
    return INSTALLED if INSTALLED.is_dir() else CHECKOUT


def models_dir() -> Path:
    """The bundled model files, `<id>.safetensors` (read by the catalogue, written by training)."""
    return resources_dir() / "models"


def figures_dir() -> Path:
    """The figures made by `python -m seqviz.demos.figure` (the README shows them)."""
    return resources_dir() / "figures"
