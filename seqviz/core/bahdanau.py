"""A GRU encoder-decoder with additive (Bahdanau) attention: the bridge between recurrence and Transformers.

    encoder   bidirectional GRU over the source embeddings        memory m_j = [h_fwd_j; h_bwd_j]  (S, 2H)
    start     s_0 = tanh(W_b [h_fwd_last; h_bwd_first])
    step t    score_tj = v^T tanh(W_q s_{t-1} + W_k m_j)          additive attention on the previous state
              a_t = softmax_j(score_t)        c_t = sum_j a_tj m_j
              s_t = GRUCell([emb(y_{t-1}); c_t], s_{t-1})
              logits_t = W_o [s_t; c_t]

Sources in one batch must have the same length (training buckets by length): there is no padding mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from seqviz.core.edits_values import check_value_edits
from seqviz.core.inference import decode_tokens, pick_token
from seqviz.core.recurrent_cells import StepEdits, fixer, plan_edits
from seqviz.core.trace import Trace


@dataclass
class BahdanauConfig:
    src_vocab_size: int
    tgt_vocab_size: int
    embed_dim: int = 32
    hidden_size: int = 64
    attention_size: int = 64
    bos_id: int = 1
    eos_id: int = 2
    max_len: int = 16  # greedy decoding stops here if no </s> came
    arch: str = "gru-attention"


class BahdanauSeq2Seq(nn.Module):
    """Bidirectional GRU encoder, GRU-cell decoder with additive attention over the encoder states."""

    causal = True  # the decoder sees only its own earlier outputs

    def __init__(self, cfg: BahdanauConfig) -> None:
        super().__init__()
        self.cfg = cfg
        E, H, A = cfg.embed_dim, cfg.hidden_size, cfg.attention_size
        self.src_embed = nn.Embedding(cfg.src_vocab_size, E)
        self.encoder = nn.GRU(E, H, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * H, H)
        self.key = nn.Linear(2 * H, A, bias=False)  # W_k
        self.query = nn.Linear(H, A)  # W_q (its bias is the additive attention's bias)
        self.score = nn.Linear(A, 1, bias=False)  # v
        self.tgt_embed = nn.Embedding(cfg.tgt_vocab_size, E)
        self.cell = nn.GRUCell(E + 2 * H, H)
        self.out = nn.Linear(3 * H, cfg.tgt_vocab_size)

    # Building blocks ----------------------------------------------------------------------------------
    def encode(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """src (B, S) -> memory (B, S, 2H), keys W_k m (B, S, A), start state s_0 (B, H)."""
        memory, last = self.encoder(self.src_embed(src))  # (B, S, 2H), (2, B, H)
        start = torch.tanh(self.bridge(torch.cat([last[0], last[1]], dim=-1)))  # (B, H)
        return memory, self.key(memory), start

    def attend(
        self, state: torch.Tensor, memory: torch.Tensor, keys: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """state s_{t-1} (B, H) -> context c_t (B, 2H), weights a_t (B, S) (rows sum to 1)."""
        energy = torch.tanh(self.query(state).unsqueeze(1) + keys)  # (B, S, A)
        weights = torch.softmax(self.score(energy).squeeze(-1), dim=-1)  # (B, S)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)  # (B, 2H)
        return context, weights

    def cell_input(self, prev_ids: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """prev_ids (B,), context (B, 2H) -> GRU cell input (B, E + 2H)."""
        return torch.cat([self.tgt_embed(prev_ids), context], dim=-1)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor, edits: Sequence[Any] = ()) -> torch.Tensor:
        """Teacher forcing: src (B, S), tgt (B, T) decoder inputs starting with <s> -> logits (B, T, V).
        `edits`: value edits of the decoder (`decoder_edits`), applied at their steps."""
        memory, keys, state = self.encode(src)
        at = self.decoder_edits(edits, max(self.cfg.max_len, tgt.shape[1]))  # steps past T never come
        logits = []
        for t in range(tgt.shape[1]):
            context, _ = self.attend(state, memory, keys)
            cell_input = self.cell_input(tgt[:, t], context)
            if at:  # written out so the edits apply where each value is computed
                state = gru_cell_gates(self.cell, cell_input, state, fixer(at.get(t)))[3]
            else:
                state = self.cell(cell_input, state)  # (B, H)
            logits.append(self.out(torch.cat([state, context], dim=-1)))  # (B, V)
        return torch.stack(logits, dim=1)

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
        """src (B, S) -> output ids (B, max_len), argmax at every step (positions after </s> are junk)."""
        memory, keys, start = self.encode(src)
        states = [start]  # s_0, s_1, ... (B, H)
        bos = torch.full((src.shape[0],), self.cfg.bos_id, dtype=torch.long)

        def next_logits(outputs: list[torch.Tensor]) -> torch.Tensor:
            context, _ = self.attend(states[-1], memory, keys)
            states.append(self.cell(self.cell_input(outputs[-1] if outputs else bos, context), states[-1]))
            return self.out(torch.cat([states[-1], context], dim=-1))  # (B, V)

        outputs = decode_tokens(next_logits, max_len or self.cfg.max_len, lambda logits: logits.argmax(-1))
        return torch.stack(outputs, dim=1)

    def decoder_edits(self, edits: Sequence[Any], max_len: int) -> StepEdits:
        """Value edits of the decoder's GRU cell (layer 0; ClampGate update_gate / reset_gate /
        candidate, SetHidden) -> step -> overrides; ValueError for one that does not fit."""
        if not edits:
            return {}
        size = self.cfg.hidden_size
        shape = {"num_layers": 1, "num_directions": 1, "hidden_size": size, "out_size": size}
        check_value_edits(edits, "gru", {**shape, "steps": max_len}, "decoding makes at most steps")
        return plan_edits(edits, self.cell.weight_ih.dtype).get((0, 0), {})

    def translate(self, src_ids: list[int], max_len: int | None = None) -> list[int]:
        """Greedy translation of one source; the output ends with </s> unless max_len cut it."""
        ids = self.greedy_decode(torch.as_tensor([src_ids], dtype=torch.long), max_len)[0].tolist()
        return ids[: ids.index(self.cfg.eos_id) + 1] if self.cfg.eos_id in ids else ids

    # Trace ---------------------------------------------------------------------------------------------
    @torch.no_grad()
    def trace_ids(self, src_ids: list[int], max_len: int | None = None, edits: Sequence[Any] = ()) -> Trace:
        """Greedily translate `src_ids` (S,) and record every step (T outputs, </s> included). `edits`:
        value edits of the decoder (`decoder_edits`); decoding carries the edited states on.

        Arrays: hidden, update_gate, reset_gate, candidate (T, 1, 1, H) of the decoder GRU cell;
        initial_hidden (1, 1, H), the encoder's summary the decoder starts from; cross_attention
        (1, 1, T, S) (row t: where step t looked); encoder_hidden (S, 1, 2, H); probs (T, V_tgt).
        Row t of every array belongs to output token t (meta output_ids).
        """
        src = torch.as_tensor([src_ids], dtype=torch.long)
        memory, keys, state = self.encode(src)
        limit = max_len or self.cfg.max_len
        steps = self._decode(memory, keys, state, limit, self.decoder_edits(edits, limit))
        T, H = steps["hidden"].shape
        output_ids = steps["probs"].argmax(-1).tolist()
        arrays = {
            **{name: steps[short].reshape(T, 1, 1, H) for name, short in _GATE_NAMES.items()},
            "initial_hidden": state.reshape(1, 1, H).numpy(),
            "cross_attention": steps["attn"].reshape(1, 1, T, len(src_ids)),
            "encoder_hidden": memory[0].reshape(len(src_ids), 1, 2, H).numpy(),
            "probs": steps["probs"],
        }
        meta = {
            "arch": self.cfg.arch,
            "kind": "encoder-decoder",
            "causal": True,
            "num_layers": 1,
            "num_directions": 1,
            "hidden_size": H,
            "output_ids": output_ids,
            "decoder_input_ids": [self.cfg.bos_id, *output_ids[:-1]],
            "source_ids": list(src_ids),
        }
        return Trace(arrays, tokens=[str(i) for i in output_ids], meta=meta)

    def _decode(
        self, memory: torch.Tensor, keys: torch.Tensor, state: torch.Tensor, max_len: int, at: StepEdits
    ) -> dict[str, np.ndarray]:
        """Greedy decoding from the encoder's state -> per step (T, ...): hidden, z, r, n, attn, probs;
        `at`: the decoder's edits by step."""
        states = [state]  # s_0, s_1, ... (1, H)
        steps: dict[str, list[torch.Tensor]] = {k: [] for k in ("hidden", "z", "r", "n", "attn", "probs")}

        def next_probs(output_ids: list[int]) -> torch.Tensor:
            prev = torch.tensor([output_ids[-1] if output_ids else self.cfg.bos_id])
            context, weights = self.attend(states[-1], memory, keys)
            cell_input = self.cell_input(prev, context)  # (1, E + 2H)
            fix = fixer(at.get(len(output_ids)))
            reset, update, candidate, new = gru_cell_gates(self.cell, cell_input, states[-1], fix)
            probs = torch.softmax(self.out(torch.cat([new, context], dim=-1)), dim=-1)  # (1, V)
            states.append(new)
            for name, value in zip(steps, (new, update, reset, candidate, weights, probs), strict=True):
                steps[name].append(value[0])
            return probs[0]

        decode_tokens(next_probs, max_len, pick_token, stop=self.cfg.eos_id)
        return {k: torch.stack(v).numpy() for k, v in steps.items()}

    def __seqviz_trace__(self, inputs: Any, **kw: Any) -> Trace:
        """`seqviz.trace(backbone, source_ids)`: the trace of `trace_ids` (TokenModel adds the labels)."""
        if kw:
            raise TypeError(f"unexpected arguments for a BahdanauSeq2Seq trace: {', '.join(kw)}")
        return self.trace_ids([int(i) for i in torch.as_tensor(inputs).flatten()])


_GATE_NAMES = {"hidden": "hidden", "update_gate": "z", "reset_gate": "r", "candidate": "n"}


def gru_cell_gates(
    cell: nn.GRUCell, x: torch.Tensor, h: torch.Tensor, fix: Any = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One nn.GRUCell step written out: x (B, I), h (B, H) -> reset r, update z, candidate n, new h.

    Same equations and weight layout as torch: r = σ(W_ir x + b_ir + W_hr h + b_hr),
    z = σ(W_iz x + b_iz + W_hz h + b_hz), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h' = (1 - z) * n + z * h. `fix(name, value)` (recurrent_cells.fixer) sets edited values where
    they are computed, so what follows reads them.
    """
    fix = fix or (lambda name, value: value)
    from_input = x @ cell.weight_ih.T + cell.bias_ih  # (B, 3H)
    from_state = h @ cell.weight_hh.T + cell.bias_hh  # (B, 3H)
    i_r, i_z, i_n = from_input.chunk(3, dim=-1)
    h_r, h_z, h_n = from_state.chunk(3, dim=-1)
    reset = fix("reset_gate", torch.sigmoid(i_r + h_r))
    update = fix("update_gate", torch.sigmoid(i_z + h_z))
    candidate = fix("candidate", torch.tanh(i_n + reset * h_n))
    return reset, update, candidate, fix("hidden", (1 - update) * candidate + update * h)


BahdanauSeq2Seq.config_class = BahdanauConfig  # type: ignore[attr-defined]
BACKBONES = {"BahdanauSeq2Seq": BahdanauSeq2Seq}
