"""One traced forward pass of a transformers model: the encoder's, the decoder's, or both.

`run_recorded` runs the model's own forward with the capture hooks on; `encoder_pass` traces an encoder
(with its masked-language-model head, if any); `greedy_output` is transformers' own greedy `generate`
of an encoder-decoder, and `seq2seq_pass` traces the source and an output teacher-forced. Decoder-only
models go through `DecoderRun` (seqviz.core.hf.decoder), which can grow by a token.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch

from seqviz.core.hf.arrays import Recording, StackArrays
from seqviz.core.hf.capture import DECODER, ENCODER, hooked
from seqviz.core.hf.families import Family, blocks, final_norm, head_count
from seqviz.core.top_outputs import logits_outputs

Ablation = tuple[str, str, int, int]  # (stack, kind, layer, head): see seqviz.core.hf.capture


def stack_arrays(
    model: Any, family: Family, which: str, steps: int, causal: bool, keys: int = 0
) -> StackArrays:
    """Empty arrays for `steps` rows of stack `which` ("encoder" or "decoder")."""
    stack = family.encoder if which == ENCODER else family.stack
    layers = len(blocks(model.base_model, stack))
    width = int(model.config.hidden_size)  # every family's config maps hidden_size (d_model, n_embd, dim)
    has_norm = final_norm(model.base_model, stack) is not None
    arrays = StackArrays(
        layers, head_count(model.config, family, which), width, steps, causal=causal, keys=keys, norm=has_norm
    )
    arrays.begin(steps)
    return arrays


def run_recorded(
    model: Any, family: Family, arrays: dict[str, StackArrays], ablations: Sequence[Ablation], **inputs: Any
) -> Any:
    """The model's forward on `inputs` (tensors on its device), recorded into `arrays`."""
    with torch.no_grad(), hooked(model, family, Recording(arrays), ablations):
        return model(**inputs, return_dict=True)


def ids_tensor(ids: Sequence[int], device: Any) -> torch.Tensor:
    return torch.tensor([list(ids)], dtype=torch.long, device=device)


def encoder_pass(
    model: Any,
    family: Family,
    ids: Sequence[int],
    head: str,
    k: int,
    targets: Sequence[int],
    ablations: Sequence[Ablation],
) -> dict[str, Any]:
    """hidden, attention (and final_norm) of an encoder; with a masked-LM head also top_ids,
    top_probs, target_prob, target_rank (targets: the true id per position, -1 where unknown)."""
    arrays = {DECODER: stack_arrays(model, family, DECODER, len(ids), causal=False)}
    out = run_recorded(model, family, arrays, ablations, input_ids=ids_tensor(ids, model.device))
    result: dict[str, Any] = arrays[DECODER].views()
    if head == "mlm":  # the top k at every position, the hidden word's probability and rank
        outputs = logits_outputs(out.logits[0], targets, k)
        result.update({key: outputs[key] for key in ("top_ids", "top_probs", "target_prob", "target_rank")})
    return result


def greedy_output(
    model: Any, family: Family, src_ids: Sequence[int], max_new_tokens: int, ablations: Sequence[Ablation]
) -> list[int]:
    """The decoder's inputs and greedy output as transformers' `generate` makes them (one beam, no
    sampling): [decoder start, y_1, ..., y_n] (y_n is the end token unless max_new_tokens stopped it)."""
    with torch.no_grad(), hooked(model, family, None, ablations), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # generation-config notes (beams, lengths) mean nothing here
        out = model.generate(
            input_ids=ids_tensor(src_ids, model.device),
            attention_mask=torch.ones((1, len(src_ids)), dtype=torch.long, device=model.device),
            do_sample=False,
            num_beams=1,
            max_new_tokens=max_new_tokens,
        )
    return [int(i) for i in out[0].tolist()]


def seq2seq_pass(
    model: Any,
    family: Family,
    src_ids: Sequence[int],
    decoder_ids: Sequence[int],
    k: int,
    ablations: Sequence[Ablation],
) -> dict[str, Any]:
    """Teacher-forced trace of source `src_ids` with decoder inputs `decoder_ids` (T):
    hidden (T, L, 1, d), attention (causal), cross_attention (L, h, T, S), encoder_hidden,
    encoder_attention, final norms where the stacks have them, and top_ids / top_probs (T, k)."""
    S, T = len(src_ids), len(decoder_ids)
    arrays = {
        ENCODER: stack_arrays(model, family, ENCODER, S, causal=False),
        DECODER: stack_arrays(model, family, DECODER, T, causal=True, keys=S),
    }
    out = run_recorded(
        model,
        family,
        arrays,
        ablations,
        input_ids=ids_tensor(src_ids, model.device),
        decoder_input_ids=ids_tensor(decoder_ids, model.device),
    )
    result: dict[str, Any] = {**arrays[DECODER].views(), **arrays[ENCODER].views("encoder_")}
    outputs = logits_outputs(out.logits[0], None, k)
    result.update(top_ids=outputs["top_ids"], top_probs=outputs["top_probs"])
    return result
