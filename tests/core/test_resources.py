"""The bundled files are found in a checkout and in an installed wheel, and the wheel's build ships them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from seqviz.core import resources

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_finds_the_top_level_resources_folder():
    assert not resources.INSTALLED.exists()  # a checkout: only a built wheel has seqviz/resources
    assert resources.models_dir() == ROOT / "resources" / "models"
    assert resources.figures_dir() == ROOT / "resources" / "figures"
    assert (resources.models_dir() / "longrange-lstm.safetensors").is_file()
    assert (resources.figures_dir() / "long_range.png").is_file()


def test_an_installed_package_folder_wins(tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    monkeypatch.setattr(resources, "INSTALLED", tmp_path)
    assert resources.models_dir() == tmp_path / "models"
    assert resources.figures_dir() == tmp_path / "figures"


def _setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_pyproject_lists_every_package_of_the_source_tree():
    # The packages are listed by hand (a mapped folder rules out `packages.find`): a new package must be
    # added there, or a wheel installs without it.
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "seqviz").rglob("__init__.py")}
    config = _setuptools_config()
    assert set(config["packages"]) == found | {"seqviz.resources"}
    assert config["package-dir"] == {"seqviz.resources": "resources"}


def test_pyproject_ships_every_file_of_the_resources_folder():
    patterns = _setuptools_config()["package-data"]["seqviz.resources"]
    shipped = {p for pattern in patterns for p in (ROOT / "resources").glob(pattern) if p.is_file()}
    every = {p for p in (ROOT / "resources").rglob("*") if p.is_file()}
    assert every and every == shipped


def test_no_other_module_works_out_where_the_resources_are():
    others = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "seqviz").rglob("*.py")
        if p.name != "resources.py" and '/ "resources"' in p.read_text(encoding="utf-8")
    ]
    assert others == []
