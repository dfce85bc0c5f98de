"""Other people's models in the window: the models of the local Hugging Face cache in the model
chooser, and File > Open model folder.

Nothing is ever downloaded: the chooser lists what the cache already holds (seqviz.core.hf_cache),
and a model id on the command line is opened only from there. Without the Hugging Face extra
(transformers) the cached models are still listed, under a line that says how to add it.
"""

from __future__ import annotations

from seqviz.app.window import dialogs
from seqviz.core.hf.families import family_of
from seqviz.core.hf.loading import INSTALL_HINT, transformers_available
from seqviz.core.hf_cache import CachedModel, cache_dir, cached_models

GROUP = "hugging face cache"


def hf_available() -> bool:
    """Whether the Hugging Face extra is installed (found, not imported: that takes seconds)."""
    return transformers_available()


def chooser_items(models: list[CachedModel]) -> list[tuple[str, str, str]]:
    """(text, source, tooltip) of each cached model of a family seqviz traces (seqviz.core.hf.families;
    a speech or vision model is left out): its repo id is the source the app opens."""
    items = []
    for m in models:
        family = family_of(m.model_type)
        if family is not None:
            items.append(
                (f"{m.repo_id} \u2014 {family.name}, {m.summary}", m.repo_id, f"{m.repo_id}\n{m.folder}")
            )
    return items


def install(window) -> None:
    """Fill the chooser's Hugging Face group and connect File > Open model folder."""
    show_cached_models(window)
    window.commands.open_folder.triggered.connect(lambda: open_folder(window))


def show_cached_models(window) -> None:
    """The cache's models as a group of the model chooser (none: no group)."""
    models = chooser_items(cached_models())
    if models:
        note = "" if hf_available() else f"to open these, {INSTALL_HINT}"
        window.toolbar.add_group(GROUP, models, note)
        window.toolbar.model_combo.setToolTip(
            f"Choose a model (grouped by task; Hugging Face models from {cache_dir()})"
        )


def open_folder(window) -> None:
    """File > Open model folder: a folder of config.json, weights and tokenizer files."""
    path = dialogs.choose_folder(window, "Open model folder")
    if path:
        window.open_model(path, wait=False)
