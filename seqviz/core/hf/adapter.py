"""HFModel: a transformers model and its tokenizer as a seqviz SequenceModel.

Heads (`head`): "lm" (causal language models: the next token at every step, Generate appends with the
key/value cache), "mlm" (masked language models: the top predictions at every position; `mask_positions=`
puts the mask token on chosen tokens, or type it), "seq2seq" (encoder-decoders: the greedy output with
its cross-attention), "" (no head, e.g. a sentence encoder; `head_note` says so).

Trace options: `top_k` (10), `edits` (AblateHead only), `gradients`; `mask_positions` (mlm),
`max_new_tokens` (seq2seq, 40). docs/trace.md has the arrays and metadata of these traces.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from seqviz.core.edits import AblateHead, split_edits
from seqviz.core.edits import describe as describe_edits
from seqviz.core.edits_values import check_range, refuse_value_edits
from seqviz.core.hf.capture import DECODER, ENCODER
from seqviz.core.hf.families import ENCODER_DECODER, Family, blocks, head_count
from seqviz.core.hf.text import Pieces
from seqviz.core.model_interface import SequenceModel
from seqviz.core.top_outputs import TOP_K
from seqviz.core.trace import Trace
from seqviz.core.trace_meta import TraceMeta

MAX_NEW_TOKENS = 40
_EXAMPLES = {
    "lm": "The quick brown fox jumps over the lazy dog. The dog",
    "mlm": "The capital of France is {mask}.",
    "seq2seq": "The house is wonderful.",
    "": "The quick brown fox jumps over the lazy dog.",
}


class HFModel(SequenceModel):
    """A loaded transformers model (eval mode, eager attention) with its tokenizer."""

    def __init__(
        self, model: Any, tokenizer: Any, family: Family, head: str, *, source: str = "", label: str = ""
    ) -> None:
        self.module, self.family, self.head = model, family, head
        self.pieces = Pieces(tokenizer)
        self.source = source
        self.label = label or str(getattr(model.config, "_name_or_path", "") or type(model).__name__)
        self.text_domain = "text"  # any text: every Hugging Face model reads the same texts
        self.causal = family.kind != "encoder"
        self.max_length = _max_length(model.config, tokenizer)
        self.special_tokens = self.pieces.special
        options = {"top_k", "edits", "gradients"}
        options |= {"mask_positions"} if head == "mlm" else {"max_new_tokens"} if head == "seq2seq" else set()
        self.trace_options = frozenset(options)
        mask = tokenizer.mask_token if head == "mlm" else None
        self.examples = (_EXAMPLES[head].format(mask=mask or ""),)
        self.head_note = _head_note(self.label, family, head)
        self._vocabulary: tuple[str, ...] | None = None
        self._runs: dict[int, tuple[weakref.ref, Any]] = {}  # trace id -> (trace, its DecoderRun)

    def to_device(self, device: str) -> None:
        """Run on `device` ("cpu", "cuda", "mps"; seqviz.core.devices.check_device); traces still
        come back as numpy arrays on the CPU. Later traces start afresh (caches stay where they were)."""
        from seqviz.core.devices import check_device

        self.module.to(check_device(device))
        self._runs.clear()

    @property
    def device(self) -> str:
        return str(self.module.device)

    @property
    def tokenizer(self) -> Any:
        return self.pieces.tokenizer

    @property
    def output_labels(self) -> tuple[str, ...]:  # type: ignore[override]
        """How each output id reads (V,), made on first use (a 50k vocabulary takes ~0.1 s)."""
        if self._vocabulary is None:
            size = self.module.get_output_embeddings().weight.shape[0] if self.head else 0
            self._vocabulary = self.pieces.vocabulary(size)
        return self._vocabulary

    # Text -------------------------------------------------------------------------------------------
    def tokens(self, text: str) -> list[str]:
        return self.pieces.shown(self.encode(text))

    def encode(self, text: str) -> list[int]:
        return self.pieces.encode(text)

    def decode(self, ids: list[int]) -> str:
        return self.pieces.decode(ids)

    def unknown(self, text: str) -> list[str]:
        return self.pieces.unknown(text)

    def generation_banned(self) -> tuple[int, ...]:
        return tuple(sorted(self.pieces.special_ids))

    def extend_text(self, text: str, token_id: int) -> str:
        if not self.can_generate:
            return super().extend_text(text, token_id)
        return self.pieces.extend(text, token_id)

    def next_token_probs(self, trace: Trace) -> np.ndarray:
        return trace["next_probs"]

    # Edits ------------------------------------------------------------------------------------------
    def ablations(self, edits: Sequence[Any] | None) -> list[tuple[str, str, int, int]]:
        """The AblateHead edits as (stack, kind, layer, head); ValueError naming what is valid."""
        weights, values = split_edits(edits)
        instead = "AblateHead(layer, head) edits its attention"
        refuse_value_edits(values, f"{self.label}, a Transformer,", instead)
        found = []
        for edit in weights:
            if not isinstance(edit, AblateHead):
                raise ValueError(f"{type(edit).__name__} is for recurrent models; {self.label}: {instead}")
            found.append(self._ablation(edit))
        return found

    def _ablation(self, edit: AblateHead) -> tuple[str, str, int, int]:
        kinds = {"self": (DECODER, "self")}
        if self.family.kind == ENCODER_DECODER:
            kinds.update(cross=(DECODER, "cross"), encoder=(ENCODER, "self"))
        if edit.attention not in kinds:
            raise ValueError(f"AblateHead: this model has no {edit.attention!r} attention; it has 'self'")
        stack, kind = kinds[edit.attention]
        spec = self.family.encoder if stack == ENCODER else self.family.stack
        check_range(
            "AblateHead",
            "layer",
            [edit.layer],
            len(blocks(self.module.base_model, spec)),
            "the model has layers",
        )
        heads = head_count(self.module.config, self.family, stack)
        check_range("AblateHead", "head", [edit.head], heads, f"layer {edit.layer} has heads")
        return stack, kind, edit.layer, edit.head

    # Tracing ----------------------------------------------------------------------------------------
    def _trace(self, inputs: Any, gradients: bool = False, **options: Any) -> Trace:
        tr = self._plain_trace(inputs, **options)
        if not gradients:
            return tr
        from seqviz.core.gradients_map import with_input_gradients

        return with_input_gradients(self, tr, inputs, options)

    def _plain_trace(
        self,
        inputs: Any,
        top_k: int = TOP_K,
        edits: Sequence[Any] = (),
        mask_positions: Sequence[int] | None = None,
        max_new_tokens: int = MAX_NEW_TOKENS,
    ) -> Trace:
        from seqviz.core.hf import passes
        from seqviz.core.hf.decoder import DecoderRun

        k = _positive("top_k", top_k)
        ablations = self.ablations(edits)
        ids, text = self._input_ids(inputs)
        base = self._meta(ids, k, text, edits)
        if self.family.kind == "decoder":
            run = DecoderRun(self.module, self.family, ids, self.head, k, ablations)
            return self._decoder_trace(run, base)
        if self.family.kind == "encoder":
            ids, targets, masked = self._masked(ids, mask_positions)
            arrays = passes.encoder_pass(self.module, self.family, ids, self.head, k, targets, ablations)
            meta = base.replace(token_ids=ids, targets=targets if self.head == "mlm" else ())
            meta = meta.replace(extra={"pieces": self.pieces.raw(ids), "masked": masked})
            return Trace(arrays, self.pieces.shown(ids), meta)
        limit = _positive("max_new_tokens", max_new_tokens)
        if self.max_length is not None:  # the decoder's positions: its start token and the outputs
            limit = min(limit, self.max_length - 1)
        out = passes.greedy_output(self.module, self.family, ids, limit, ablations)
        arrays = passes.seq2seq_pass(self.module, self.family, ids, out[:-1], k, ablations)
        return self._seq2seq_trace(arrays, base, ids, out)

    def _input_ids(self, inputs: Any) -> tuple[list[int], str]:
        """(ids, text) of text or of a list of token ids; ValueError when empty or too long."""
        if isinstance(inputs, str):
            ids, text = self.encode(inputs), inputs
        elif isinstance(inputs, Sequence | np.ndarray) and all(
            isinstance(i, int | np.integer) for i in inputs
        ):
            ids, text = [int(i) for i in inputs], ""
        else:
            raise TypeError(f"{self.label} reads text or a list of token ids, not a {type(inputs).__name__}")
        if not ids:
            raise ValueError("the input is empty: type some text to run the model")
        if self.max_length is not None and len(ids) > self.max_length:
            raise ValueError(
                f"the input has {len(ids)} tokens; {self.label} reads at most {self.max_length}: shorten it, "
                f"or keep its first tokens (model.truncate(text, {self.max_length}))"
            )
        return ids, text

    def _masked(
        self, ids: list[int], positions: Sequence[int] | None
    ) -> tuple[list[int], list[int], list[int]]:
        """(ids with the mask token at `positions`, the true id there (-1 elsewhere), every masked
        position, typed masks included)."""
        mask = self.tokenizer.mask_token_id
        targets = [-1] * len(ids)
        if positions:
            if mask is None:
                raise ValueError(f"{self.label}'s tokenizer has no mask token")
            for p in positions:
                if isinstance(p, bool) or not isinstance(p, int | np.integer) or not 0 <= p < len(ids):
                    raise ValueError(f"mask_positions: {p!r} is not a token position 0\u2013{len(ids) - 1}")
                targets[p], ids = ids[p], [*ids[:p], mask, *ids[p + 1 :]]
        masked = [i for i, t in enumerate(ids) if mask is not None and t == mask]
        return ids, targets, masked

    def _meta(self, ids: list[int], k: int, text: str, edits: Sequence[Any]) -> TraceMeta:
        cfg = self.module.config
        stack = self.family.stack
        extra = {
            "family": self.family.name,
            "model_type": cfg.model_type,
            "top_k": k,
            "max_len": self.max_length,
        }
        if self.head_note:
            extra["head_note"] = self.head_note
        return TraceMeta(
            arch="transformer",
            kind=self.family.kind,
            task=self.head,
            causal=self.causal,
            num_layers=len(blocks(self.module.base_model, stack)),
            num_directions=1,
            hidden_size=int(cfg.hidden_size),
            num_heads=head_count(cfg, self.family, DECODER),
            model_id=self.source,
            output_labels=self.output_labels,
            token_ids=tuple(ids),
            unknown=tuple(self.unknown(text)) if text else (),
            edits=describe_edits(edits),
            extra=extra,
        )

    def _decoder_trace(self, run: Any, base: TraceMeta) -> Trace:
        ids = run.ids
        meta = base.replace(token_ids=ids, extra={"pieces": self.pieces.raw(ids)})
        if self.head == "lm":
            meta = meta.replace(targets=[*ids[1:], -1])
        trace = Trace(run.arrays(), self.pieces.shown(ids), meta)
        key = id(trace)
        self._runs[key] = (weakref.ref(trace, lambda _ref: self._runs.pop(key, None)), run)
        return trace

    def _seq2seq_trace(
        self, arrays: dict[str, Any], base: TraceMeta, src: list[int], out: list[int]
    ) -> Trace:
        outputs = out[1:]  # generate's sequence starts with the decoder start token
        end = self.tokenizer.eos_token_id
        shown_outputs = outputs[: outputs.index(end)] if end in outputs else outputs
        meta = base.replace(
            token_ids=out[:-1],
            source_ids=src,
            decoder_input_ids=out[:-1],
            output_ids=outputs,
            output_text=self.tokenizer.decode(shown_outputs, skip_special_tokens=True),
            decoder_start=self.pieces.shown(out[:1])[0],
            encoder_layers=len(blocks(self.module.base_model, self.family.encoder)),
            extra={"pieces": self.pieces.raw(outputs), "source_pieces": self.pieces.raw(src)},
        )
        return Trace(arrays, self.pieces.shown(outputs), meta, source_tokens=self.pieces.shown(src))

    # Generation -------------------------------------------------------------------------------------
    def append(self, trace: Trace, text: str, token_id: int) -> Trace:
        """`trace` and one more token: one new row from the cached keys and values when `trace` is the
        latest of its run here, else the ids traced again (with the same top_k)."""
        if not self.can_generate:
            raise ValueError(f"{self.label} does not generate: it is not a causal language model")
        ids = [*trace.meta.token_ids, int(token_id)]
        if self.max_length is not None and len(ids) > self.max_length:
            raise ValueError(f"{self.label} reads at most {self.max_length} tokens; the text has reached it")
        run = self._run_of(trace)
        if run is None or run.length != trace.num_steps:
            if trace.meta.edits:  # the edits themselves are not in the trace, only their descriptions
                raise ValueError("this trace ran with edits: trace the longer text with the same edits")
            return self.trace(ids, top_k=int(trace.meta.extra.get("top_k", TOP_K)))
        run.append(int(token_id))
        base = trace.meta.replace(unknown=self.unknown(self.extend_text(text, token_id)) if text else ())
        return self._decoder_trace(run, base)

    def _run_of(self, trace: Trace) -> Any:
        """The DecoderRun that made `trace` here, if it is still alive."""
        entry = self._runs.get(id(trace))
        return entry[1] if entry and entry[0]() is trace else None

    def cache_of(self, trace: Trace) -> Any:
        """The key/value cache kept for appending to `trace` (transformers' Cache), or None."""
        run = self._run_of(trace)
        return run.cache if run is not None and run.length == trace.num_steps else None

    def generate(self, text: str, n: int, temperature: float = 0.0, seed: int | None = None) -> Trace:
        """The trace of `text` and up to `n` tokens chosen one by one (greedy, or sampled at
        `temperature`, seeded), each appended from the cache; stops after the end token."""
        from seqviz.core.inference import pick_token

        trace = self.trace(text)
        rng = np.random.default_rng(seed)
        end = self.tokenizer.eos_token_id
        for _ in range(max(0, n)):
            if self.max_length is not None and trace.num_steps >= self.max_length:
                break
            with np.errstate(divide="ignore"):
                scores = np.log(trace["next_probs"].astype(np.float64))
            token = int(pick_token(scores, temperature, rng))
            trace = self.append(trace, "", token)
            if token == end:
                break
        trace.meta = trace.meta.replace(prompt_length=len(self.encode(text)))
        return trace

    # Gradients --------------------------------------------------------------------------------------
    def gradient_map(self, trace: Trace, options: dict[str, Any]) -> Any:
        from seqviz.core.hf.gradients import gradient_map

        return gradient_map(self, trace, self.ablations(options.get("edits")))


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive whole number, not {value!r}")
    return int(value)


def _max_length(config: Any, tokenizer: Any) -> int | None:
    """The longest input in tokens: the model's positions (RoBERTa's start after its padding id), or
    for relative positions (T5) the tokenizer's own limit when it states one."""
    positions = getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None)
    if config.model_type in ("roberta", "xlm-roberta") and positions:
        positions -= int(config.pad_token_id or 0) + 1
    if positions:
        return int(positions)
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if isinstance(limit, int) and 0 < limit < 1_000_000 else None


def _head_note(label: str, family: Family, head: str) -> str:
    if head:
        return ""
    return (
        f"{label} has no output head (a {family.name} {family.kind} without a language-model head, such as "
        "a sentence encoder): there are no predictions to show, only its hidden states and attention."
    )
