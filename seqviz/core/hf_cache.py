"""The models already in the local Hugging Face cache: listed from the folders, never downloaded.

The cache is huggingface_hub's layout (no transformers or huggingface_hub import needed to read it):

    <cache>/models--<org>--<name>/refs/main              the commit the name points at
    <cache>/models--<org>--<name>/snapshots/<commit>/    config.json, weights, tokenizer files
                                                         (links into ../../blobs)

<cache> is $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
$XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub: where huggingface_hub looks.
A model is listed when its snapshot has a config.json and weights (a download cut short is not).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
_PREFIX = "models--"


@dataclass(frozen=True)
class CachedModel:
    """One model of the cache: `repo_id` ("gpt2", "google-bert/bert-base-uncased"), the snapshot
    `folder` that holds its files, and what its config.json says it is."""

    repo_id: str
    folder: Path
    model_type: str = ""  # config.json's model_type: "gpt2", "bert", "t5", ...
    architecture: str = ""  # its first architecture class: "GPT2LMHeadModel", "BertModel", ...

    @property
    def summary(self) -> str:
        """One line for a list: what kind of model it is."""
        return self.architecture or self.model_type or "a model of the Hugging Face cache"


def cache_dir() -> Path:
    """Where huggingface_hub keeps downloaded models (see the module docstring)."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(os.path.expandvars(explicit)).expanduser()
    home = os.environ.get("HF_HOME")
    if not home:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        home = os.path.join(cache, "huggingface")
    return Path(os.path.expandvars(home)).expanduser() / "hub"


def cached_models(cache: Path | None = None) -> list[CachedModel]:
    """Every complete model of the cache, by repo id. An unreadable cache lists nothing."""
    cache = cache_dir() if cache is None else cache
    try:
        repos = sorted(p for p in cache.iterdir() if p.name.startswith(_PREFIX) and p.is_dir())
    except OSError:
        return []
    found = (_cached_model(repo) for repo in repos)
    return [model for model in found if model is not None]


def find_cached(repo_id: str, cache: Path | None = None) -> CachedModel | None:
    """The cached model named `repo_id` ("gpt2", "org/name"), if the cache holds all of it."""
    if not repo_id or repo_id.count("/") > 1 or ".." in repo_id or repo_id.startswith("/"):
        return None
    cache = cache_dir() if cache is None else cache
    return _cached_model(cache / (_PREFIX + repo_id.replace("/", "--")))


def _cached_model(repo: Path) -> CachedModel | None:
    snapshot = _snapshot(repo)
    if snapshot is None:
        return None
    try:
        config = json.loads((snapshot / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict):
        return None
    architectures = config.get("architectures") or [""]
    repo_id = repo.name[len(_PREFIX) :].replace("--", "/")
    return CachedModel(repo_id, snapshot, str(config.get("model_type", "")), str(architectures[0]))


def _snapshot(repo: Path) -> Path | None:
    """The snapshot refs/main points at, else the newest one; None unless it has config and weights
    (files are links into blobs/: `exists` follows them, so a missing blob counts as missing)."""
    try:
        commit = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
        candidates = [repo / "snapshots" / commit]
    except OSError:
        try:
            candidates = sorted((repo / "snapshots").iterdir(), key=_modified, reverse=True)
        except OSError:
            return None
    for snapshot in candidates:
        complete = (snapshot / "config.json").is_file() and any(
            (snapshot / name).exists() for name in WEIGHT_FILES
        )
        if complete:
            return snapshot
    return None


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
