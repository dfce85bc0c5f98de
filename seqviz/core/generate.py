"""Stepping a DecoderOnlyTransformer token by token, and generating text, without recomputing the past.

Appending a token to a causal model changes nothing already computed: the old rows of hidden, probs and
attention stay as they are, and the new token only needs its own queries against the cached keys and
values of every layer. `DecoderState` keeps those caches and the growing arrays; its `trace` is a Trace of
views into buffers that grow geometrically, so an append writes one new row and never copies the past.
Older Traces stay valid and unchanged (appends only write beyond their end).

    state = start(model, ids)             # one full pass, caches filled
    trace = state.append(token_id)        # new row of hidden/probs; attention (L, h, T+1, T+1)
    trace = generate(model, ids, n=20, temperature=0.8, seed=1)
    trace = append_token(token_model, trace, token_id)   # the app's entry point, labels included

`model` may be a DecoderOnlyTransformer or a TokenModel wrapping one (then inputs may be text and the
Traces carry token labels and the wrapper's meta, as `seqviz.trace(token_model, text)` does).
The attention array of these Traces is a strided view: take `np.ascontiguousarray(trace["attention"][l, h])`
where a contiguous image is needed.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import torch

from seqviz.core.inference import decode_tokens, eval_mode, pick_token
from seqviz.core.trace import Trace
from seqviz.core.trace_meta import TraceMeta
from seqviz.core.transformer import DecoderOnlyTransformer, check_ids, hidden_array
from seqviz.core.transformer_blocks import KVCache

_MIN_GROWTH = 64  # rows added at least when a buffer grows


class DecoderState:
    """A DecoderOnlyTransformer's trace of `ids`, ready to be extended one token at a time."""

    def __init__(self, model: DecoderOnlyTransformer, ids: list[int]) -> None:
        check_ids(ids, model.cfg.vocab_size, model.cfg.max_len, "ids")
        self.model = model
        self.caches = [KVCache() for _ in model.stack.blocks]
        T = len(ids)
        self._allocate(self._capacity_for(T))
        attention_out = torch.from_numpy(self._attention)[:, None, :, :T, :T]  # (L, 1, h, T, T) view
        with torch.no_grad(), eval_mode(model):
            logits, run = model.run(torch.tensor([list(ids)]), self.caches, attention_out=attention_out)
        self._hidden[:T] = hidden_array(run)
        self._write_outputs(logits[0], slice(0, T))
        self.ids = list(ids)

    @classmethod
    def from_trace(cls, model: DecoderOnlyTransformer, trace: Trace) -> DecoderState:
        """Rebuild the state from a trace of this model (meta.token_ids) without re-running attention.

        Each layer's keys and values are projections of its input: the embeddings for layer 0, the previous
        layer's `hidden` otherwise. The arrays are copied into growable buffers.
        """
        ids = trace.meta.token_ids
        cfg, L = model.cfg, len(model.stack.blocks)
        if "hidden" not in trace or trace["hidden"].shape[1:] != (L, 1, cfg.d_model):
            raise ValueError(f"this trace is not of this model ({L} layers, d_model {cfg.d_model})")
        if not ids or len(ids) != trace.num_steps:
            raise ValueError("this trace has no token ids (meta.token_ids); trace the model's tokens first")
        state = cls.__new__(cls)
        state.model, state.ids = model, list(ids)
        T = len(ids)
        state._allocate(state._capacity_for(T))
        state._hidden[:T] = trace["hidden"]
        state._attention[:, :, :T, :T] = trace["attention"]
        state._probs[:T] = trace["probs"]
        state._last_logits = None  # only probs are known; sampling uses log-probs (the same distribution)
        state.caches = [KVCache() for _ in model.stack.blocks]
        with torch.no_grad(), eval_mode(model):
            x = model.stack.embed(torch.tensor([list(ids)]))  # (1, T, d)
            for i, (block, cache) in enumerate(zip(model.stack.blocks, state.caches, strict=True)):
                if i > 0:
                    x = torch.from_numpy(np.ascontiguousarray(trace["hidden"][:, i - 1, 0]))[None]
                cache.extend(*block.self_keys_values(x))
        return state

    # Buffers --------------------------------------------------------------------------------------
    def _capacity_for(self, length: int) -> int:
        return min(self.model.cfg.max_len, max(length + _MIN_GROWTH, length * 5 // 4))

    def _allocate(self, capacity: int) -> None:
        """(Re)allocate the buffers with room for `capacity` steps, keeping what is written."""
        cfg, L = self.model.cfg, len(self.model.stack.blocks)
        hidden = np.zeros((capacity, L, 1, cfg.d_model), np.float32)
        attention = np.zeros((L, cfg.num_heads, capacity, capacity), np.float32)  # zeros: the future
        probs = np.zeros((capacity, cfg.num_outputs), np.float32)
        if hasattr(self, "_hidden"):
            T = self.length
            hidden[:T], probs[:T] = self._hidden[:T], self._probs[:T]
            attention[:, :, :T, :T] = self._attention[:, :, :T, :T]
        self._hidden, self._attention, self._probs = hidden, attention, probs

    def _write_outputs(self, logits: torch.Tensor, rows: slice) -> None:
        self._probs[rows] = torch.softmax(logits, dim=-1).numpy()
        self._last_logits = logits[-1].clone()  # (V,)

    # Public -----------------------------------------------------------------------------------------
    @property
    def length(self) -> int:
        return len(self.ids)

    @property
    def trace(self) -> Trace:
        """hidden (T, L, 1, d), attention (L, h, T, T), probs (T, V), views of the state's buffers."""
        T = self.length
        arrays = {
            "hidden": self._hidden[:T],
            "attention": self._attention[:, :, :T, :T],
            "probs": self._probs[:T],
        }
        meta = {**self.model.meta(), "token_ids": self.ids}
        return _register(Trace(arrays, tokens=[str(i) for i in self.ids], meta=meta), self)

    def next_logits(self) -> np.ndarray:
        """Scores (V,) float64 of the token after the last: its logits, or log-probabilities (the same
        distribution) for a state rebuilt from a trace."""
        if self._last_logits is not None:
            return self._last_logits.double().numpy()
        return np.log(np.maximum(self._probs[self.length - 1].astype(np.float64), 1e-300))

    def append(self, token_id: int) -> Trace:
        """Extend by one token: one new row per layer from the cached keys/values. Returns the new Trace."""
        cfg = self.model.cfg
        T = self.length
        if cfg.max_len <= T:
            raise ValueError(f"the model has only {cfg.max_len} positions (max_len); cannot append more")
        check_ids([token_id], cfg.vocab_size, cfg.max_len, "token_id")
        if self._hidden.shape[0] == T:
            self._allocate(self._capacity_for(T + 1))
        with torch.no_grad(), eval_mode(self.model):
            logits, run = self.model.run(torch.tensor([[int(token_id)]]), self.caches, start=T)
        for i, (h, probs) in enumerate(zip(run.hidden, run.attention, strict=True)):
            self._hidden[T, i, 0] = h[0, 0].numpy()
            self._attention[i, :, T, : T + 1] = probs[0, :, 0].numpy()
        self._write_outputs(logits[0], slice(T, T + 1))
        self.ids = [*self.ids, int(token_id)]  # a new list: earlier Traces keep theirs
        return self.trace


# Entry points that take a DecoderOnlyTransformer or a TokenModel ----------------------------------
_STATES: dict[int, tuple[weakref.ref, DecoderState]] = {}


def _backbone(model: Any) -> DecoderOnlyTransformer:
    backbone = getattr(model, "backbone", model)
    if not isinstance(backbone, DecoderOnlyTransformer):
        raise TypeError(
            f"stepping and generation need a DecoderOnlyTransformer, not {type(backbone).__name__}"
        )
    return backbone


def _register(trace: Trace, state: DecoderState) -> Trace:
    key = id(trace)
    _STATES[key] = (weakref.ref(trace, lambda _ref: _STATES.pop(key, None)), state)
    return trace


def _labelled(model: Any, state: DecoderState, base_meta: TraceMeta) -> Trace:
    """The state's trace, with the TokenModel's labels and meta when model is one (`base_meta`: the meta
    of the trace it continues, for what only the input knew, such as unknown words)."""
    tr = state.trace
    if not hasattr(model, "tokenizer"):
        return tr
    meta = tr.meta.replace(
        unknown=base_meta.unknown,
        task=model.task,
        output_labels=model.output_labels,
        causal=model.causal,
        model_id=model.card.id,
    )
    return _register(Trace(tr, tokens=model.tokenizer.decode(state.ids), meta=meta), state)


def start(model: Any, ids: list[int] | str) -> DecoderState:
    """The state after tracing ids (a TokenModel also takes text). `state.trace` is the full trace."""
    if isinstance(ids, str):
        ids = model.tokenizer.encode(ids)
    return DecoderState(_backbone(model), list(ids))


def append_token(model: Any, trace: Trace, token_id: int) -> Trace:
    """`trace` extended by `token_id`, reusing the cached state when `trace` came from here.

    Works for any trace of the model that has meta.token_ids (e.g. from `seqviz.trace`): the first
    append rebuilds the caches from its hidden arrays (no attention recomputed), later ones are one row each.
    Appending to an older trace (after a newer one was appended) starts a separate branch.
    """
    backbone = _backbone(model)
    entry = _STATES.get(id(trace))
    state = entry[1] if entry and entry[0]() is trace else None
    if state is None or state.model is not backbone or state.length != trace.num_steps:
        state = DecoderState.from_trace(backbone, trace)
    state.append(token_id)
    return _labelled(model, state, trace.meta)


def generate(
    model: Any, ids: list[int] | str, n: int, temperature: float = 0.0, seed: int | None = None
) -> Trace:
    """Trace of ids followed by n generated tokens: greedy (temperature 0) or sampled (seeded).

    meta["token_ids"] holds all ids; meta["prompt_length"] how many were given.
    """
    state = start(model, ids)
    rng = np.random.default_rng(seed)
    n = max(0, min(n, state.model.cfg.max_len - state.length))

    def next_logits(added: list[int]) -> np.ndarray:
        if added:
            state.append(added[-1])
        return state.next_logits()

    added = decode_tokens(next_logits, n, lambda logits: pick_token(logits, temperature, rng))
    if added:  # decode_tokens needs no scores after its last token, but the trace shows that token
        state.append(added[-1])
    tr = _labelled(model, state, TraceMeta())
    tr.meta = tr.meta.replace(prompt_length=state.length - n)
    return tr
