"""Hugging Face models in seqviz (the optional extra `seqviz[hf]`: transformers, tokenizers).

    from seqviz.core import hf
    model = hf.load_folder("path/to/folder")       # or a cached Hub name: seqviz.load_model("gpt2")
    tr = model.trace("The quick brown fox")         # hidden, attention, top_ids, top_probs, ...
    hf.open_pretrained(model, tokenizer)            # a transformers model already loaded
    (seqviz.core.hf_cache lists the models of the local Hugging Face cache.)

Families: encoders (BERT, RoBERTa, XLM-RoBERTa, DistilBERT; MiniLM is a BERT), decoders (GPT-2, Llama,
Mistral, Qwen2, Qwen3: rotary positions and grouped-query attention), encoder-decoders (BART, T5,
Marian); `supported_message()` names them. Nothing is downloaded and nothing from a model folder
runs. Importing this package imports neither transformers nor torch: loading a model does.

Modules: loading (folders and their checks), pretrained (transformers' loading), families (where the
layers are), tokens and text (pieces as a person reads them), adapter (HFModel, the SequenceModel),
capture / arrays / passes / decoder (the trace), gradients (input gradients).
"""

from __future__ import annotations

import os
from typing import Any

# Before transformers and huggingface_hub read their settings: seqviz never downloads.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from seqviz.core.hf.families import supported_message  # noqa: E402
from seqviz.core.hf.loading import (  # noqa: E402
    INSTALL_HINT,
    cache_hint,
    check_folder,
    is_model_folder,
    transformers_available,
)

__all__ = [
    "INSTALL_HINT",
    "HFModel",
    "cache_hint",
    "check_folder",
    "is_model_folder",
    "load_folder",
    "open_pretrained",
    "supported_message",
    "transformers_available",
]


def __getattr__(name: str) -> Any:
    # Lazy: these import torch (and transformers when a model is loaded).
    if name in ("load_folder", "open_pretrained"):
        from seqviz.core.hf import pretrained

        return getattr(pretrained, name)
    if name == "HFModel":
        from seqviz.core.hf.adapter import HFModel

        return HFModel
    raise AttributeError(f"module 'seqviz.core.hf' has no attribute {name!r}")
