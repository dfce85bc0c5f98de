"""`input_gradient_norm` (seqviz.trace(..., gradients=True)) and the row API against torch.autograd.

The reference differentiates a float64 copy of the module with torch.autograd.functional.jacobian:
y_t as docs/trace.md defines it (log softmax of the logits at the shown prediction, or ‖h_t‖ of the top
layer / the module's output), x the input vectors (token models: the embedding's output). Our float32
map must match it to 1e-4 relative wherever float32 can hold the value (above ~1e-30).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn as nn

import seqviz
from seqviz.core.adapters import open_model
from seqviz.core.edits import ScaleRecurrent
from seqviz.core.gradients import LOG_PROB, MODULE_OUTPUT_NORM, TOP_LAYER_NORM, gradient_rows
from seqviz.core.model_interface import UnknownOptionError
from seqviz.core.modelfile import model_ids
from seqviz.core.trace import Trace

RTOL, ATOL = 1e-4, 1e-30  # ATOL: values float32 cannot carry (below its normal range) match as ~0
STEPS, INPUT, HIDDEN = 9, 4, 6


def assert_map_matches(got: np.ndarray, reference: np.ndarray) -> None:
    assert got.dtype == np.float32 and got.shape == reference.shape
    np.testing.assert_allclose(got, reference, rtol=RTOL, atol=ATOL)


def jacobian_norms(outputs_of, x: torch.Tensor) -> np.ndarray:
    """(T, S): ‖∂y_t/∂x_s‖ with y = outputs_of(x) (T,), x (..., S, E), in float64."""
    jac = torch.autograd.functional.jacobian(outputs_of, x.double())  # (T, ..., S, E)
    return torch.linalg.vector_norm(jac, dim=-1).reshape(jac.shape[0], -1).numpy()


def double_copy(module: nn.Module) -> nn.Module:
    return copy.deepcopy(module).double().eval()


# Bare recurrent modules --------------------------------------------------------------------------
RECURRENT_CASES = [  # (arch, layers, bidirectional, bias, batch_first, initial state)
    (arch, *case)
    for arch in ("rnn_tanh", "rnn_relu", "gru", "lstm")
    for case in [(1, False, True, False, False), (2, False, False, True, True), (3, False, True, False, True)]
    + [(2, True, True, True, False), (1, True, False, False, True)]
] + [("lstm_proj", 2, False, True, False, False)]


def recurrent_module(arch: str, layers: int, bidirectional: bool, bias: bool, batch_first: bool):
    kw = {"num_layers": layers, "bidirectional": bidirectional, "bias": bias, "batch_first": batch_first}
    if arch.startswith("rnn"):
        return nn.RNN(INPUT, HIDDEN, nonlinearity=arch.split("_")[1], **kw)
    if arch == "gru":
        return nn.GRU(INPUT, HIDDEN, **kw)
    return nn.LSTM(INPUT, HIDDEN, proj_size=3 if arch == "lstm_proj" else 0, **kw)


def initial_state(module: nn.RNNBase):
    rows = module.num_layers * (2 if module.bidirectional else 1)
    h0 = torch.randn(rows, getattr(module, "proj_size", 0) or module.hidden_size)
    return (h0, torch.randn(rows, module.hidden_size)) if module.mode == "LSTM" else h0


@pytest.mark.parametrize("arch, layers, bidirectional, bias, batch_first, with_state", RECURRENT_CASES)
def test_recurrent_modules_match_autograd(arch, layers, bidirectional, bias, batch_first, with_state):
    torch.manual_seed(layers * 10 + bidirectional)
    module = recurrent_module(arch, layers, bidirectional, bias, batch_first)
    x = torch.randn(STEPS, INPUT)
    state = initial_state(module) if with_state else None
    tr = seqviz.trace(module, x, gradients=True, initial_state=state)
    reference64 = double_copy(module)
    state64 = tuple(s.double() for s in state) if isinstance(state, tuple) else state
    state64 = state64.double() if isinstance(state64, torch.Tensor) else state64

    def top_norms(v: torch.Tensor) -> torch.Tensor:
        return torch.linalg.vector_norm(reference64(v, state64)[0], dim=-1)

    assert_map_matches(tr["input_gradient_norm"], jacobian_norms(top_norms, x))
    assert tr.meta.gradient_target == TOP_LAYER_NORM
    if not bidirectional:  # step s > t never reaches h_t: exactly zero, not merely small
        assert (np.triu(tr["input_gradient_norm"], 1) == 0).all()


# torch's Transformer modules ---------------------------------------------------------------------
D_MODEL, MEMORY = 8, 5


def transformer_module(kind: str, norm_first: bool, batch_first: bool) -> nn.Module:
    kw = {"dim_feedforward": 16, "norm_first": norm_first, "batch_first": batch_first}  # dropout 0.1
    if kind.startswith("encoder"):
        layer = nn.TransformerEncoderLayer(D_MODEL, 2, **kw)
        stack = (
            nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(D_MODEL), enable_nested_tensor=False)
            if kind.endswith("stack")
            else layer
        )
    else:
        layer = nn.TransformerDecoderLayer(D_MODEL, 2, **kw)
        stack = (
            nn.TransformerDecoder(layer, 2, norm=nn.LayerNorm(D_MODEL)) if kind.endswith("stack") else layer
        )
    # A fresh LayerNorm's output has norm ~sqrt(d) whatever its input, so ‖h_t‖ would hardly depend on
    # x and its gradient would be float32 rounding; random scales and shifts, as after training, fix it.
    with torch.no_grad():
        for norm in (m for m in stack.modules() if isinstance(m, nn.LayerNorm)):
            norm.weight.normal_(1.0, 0.5)
            norm.bias.normal_(0.0, 0.5)
    return stack


def random_mask(rows: int, cols: int) -> torch.Tensor:
    mask = torch.rand(rows, cols) < 0.3
    mask[:, 0] = False  # no row may block everything
    return mask


@pytest.mark.parametrize("kind", ["encoder", "encoder_stack", "decoder", "decoder_stack"])
@pytest.mark.parametrize("mask_kind", [None, "causal", "random"])
@pytest.mark.parametrize("norm_first, batch_first", [(False, False), (True, True)])
def test_transformer_modules_match_autograd(kind, mask_kind, norm_first, batch_first):
    torch.manual_seed(7)
    module = transformer_module(kind, norm_first, batch_first)  # left in training mode: traced in eval
    x = torch.randn(STEPS, D_MODEL)
    mask = {None: None, "causal": torch.ones(STEPS, STEPS, dtype=torch.bool).triu(1)}.get(mask_kind)
    mask = random_mask(STEPS, STEPS) if mask_kind == "random" else mask
    options: dict = {"mask": mask}
    if kind.startswith("decoder"):  # gradients w.r.t. the target inputs; the memory is held fixed
        options.update(memory=torch.randn(MEMORY, D_MODEL), memory_mask=random_mask(STEPS, MEMORY))
    tr = seqviz.trace(module, x, gradients=True, **options)
    reference64 = double_copy(module)

    def output_norms(v: torch.Tensor) -> torch.Tensor:
        if kind.startswith("encoder"):
            out = reference64(v, mask) if kind == "encoder_stack" else reference64(v, src_mask=mask)
        else:
            memory = options["memory"].double()
            out = reference64(v, memory, tgt_mask=mask, memory_mask=options["memory_mask"])
        return torch.linalg.vector_norm(out, dim=-1)

    assert_map_matches(tr["input_gradient_norm"], jacobian_norms(output_norms, x))
    assert tr.meta.gradient_target == MODULE_OUTPUT_NORM
    assert tr.meta.causal == (mask_kind == "causal")
    if mask_kind == "causal":
        assert (np.triu(tr["input_gradient_norm"], 1) == 0).all()


# The project's models ----------------------------------------------------------------------------
def short_text(model_id: str) -> str:
    model = open_model(seqviz.load_model(model_id))
    return model.truncate(model.examples[0], 7)


def log_prob_of_prediction(logits: torch.Tensor, trace: Trace) -> torch.Tensor:
    """(T,) log softmax(logits_t)[argmax probs[t]]: y_t of a model with a head, in float64."""
    predicted = torch.as_tensor(trace["probs"].argmax(axis=1))
    return torch.log_softmax(logits, dim=-1)[torch.arange(len(predicted)), predicted]


def embedded_forward(backbone: nn.Module, trace: Trace, ids: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The backbone's logits (T, K) with its (source) token embedding's output replaced by v."""
    from seqviz.core.bahdanau import BahdanauSeq2Seq
    from seqviz.core.seqmodel import RecurrentNet

    if isinstance(backbone, RecurrentNet):
        return backbone.head(backbone.rnn(v)[0])
    seq2seq = bool(trace.meta.source_ids)
    if isinstance(backbone, BahdanauSeq2Seq):
        embedding = backbone.src_embed
    else:
        embedding = (backbone.encoder if seq2seq else backbone.stack).embed.token
    handle = embedding.register_forward_hook(lambda module, args, out: v.reshape(out.shape))
    try:
        if seq2seq:
            return backbone(ids, torch.as_tensor([trace.meta.decoder_input_ids]))[0]
        return backbone(ids)[0]
    finally:
        handle.remove()


@pytest.mark.parametrize("model_id", model_ids())
def test_every_project_model_matches_autograd(model_id):
    model = seqviz.load_model(model_id)
    text = short_text(model_id)
    tr = seqviz.trace(model, text, gradients=True)
    backbone64 = double_copy(model.backbone)
    meta = tr.meta
    ids = torch.as_tensor([list(meta.source_ids or meta.token_ids) or model.tokenizer.encode(text)])
    embedding = getattr(backbone64, "embedding", None) or getattr(backbone64, "src_embed", None)
    if embedding is None:
        embedding = (backbone64.encoder if meta.source_ids else backbone64.stack).embed.token
    with torch.no_grad():
        x = embedding(ids)[0]  # (S, E)

    def log_probs(v: torch.Tensor) -> torch.Tensor:
        return log_prob_of_prediction(embedded_forward(backbone64, tr, ids, v), tr)

    got = tr["input_gradient_norm"]
    assert got.shape == (tr.num_steps, len(meta.source_ids) or tr.num_steps)
    assert_map_matches(got, jacobian_norms(log_probs, x))
    assert meta.gradient_target == LOG_PROB
    if model.causal and not meta.source_ids:
        assert (np.triu(got, 1) == 0).all()


# Non-finite values, rows, options, properties ----------------------------------------------------
def test_nan_and_inf_are_kept_where_autograd_has_them():
    torch.manual_seed(0)
    module = nn.RNN(INPUT, 8, 2, nonlinearity="relu")  # W_hh x 50: h overflows to inf, then NaN
    with torch.no_grad():
        module.weight_hh_l0.mul_(50)
        module.weight_hh_l1.mul_(50)
    x = torch.randn(40, INPUT)
    got = seqviz.trace(module, x, gradients=True)["input_gradient_norm"]
    reference = np.zeros_like(got)
    for t in range(len(x)):  # y_t from the prefix it depends on, so later steps' NaN cannot leak in
        leaf = x[: t + 1].clone().requires_grad_()
        y = torch.linalg.vector_norm(module(leaf)[0][-1], dtype=torch.float64)  # no float32 overflow
        (grad,) = torch.autograd.grad(y, leaf)
        reference[t, : t + 1] = torch.linalg.vector_norm(grad, dim=-1, dtype=torch.float64).numpy()
    assert np.isnan(reference).any()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(reference))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(reference))
    finite = np.isfinite(reference)
    np.testing.assert_allclose(got[finite], reference[finite], rtol=RTOL, atol=0)


ROW_CASES = {
    "lstm (reverse pass)": lambda: (nn.LSTM(INPUT, HIDDEN, 2), torch.randn(STEPS, INPUT)),
    "gru model (reverse pass)": lambda: (seqviz.load_model("longrange-gru"), short_text("longrange-gru")),
    "bidirectional gru (autograd)": lambda: (nn.GRU(INPUT, HIDDEN, bidirectional=True), "a text"),
    "transformer model (autograd)": lambda: (
        seqviz.load_model("pos-transformer"),
        short_text("pos-transformer"),
    ),
    "seq2seq (autograd)": lambda: (
        seqviz.load_model("dates-gru-attention"),
        short_text("dates-gru-attention"),
    ),
}


@pytest.mark.parametrize("case", ROW_CASES)
def test_rows_are_the_full_maps_rows(case):
    torch.manual_seed(3)
    model, inputs = ROW_CASES[case]()
    tr = seqviz.trace(model, inputs, gradients=True)
    full = tr["input_gradient_norm"]
    rows = [4, 0, 4, 2, tr.num_steps - 1]
    np.testing.assert_allclose(gradient_rows(model, inputs, rows), full[rows], rtol=1e-6, atol=0)
    plain = seqviz.trace(model, inputs)
    assert "input_gradient_norm" not in plain and plain.meta.gradient_target == ""
    np.testing.assert_allclose(gradient_rows(model, inputs, [1], trace=plain), full[[1]], rtol=1e-6)
    with pytest.raises(IndexError, match="output steps"):
        gradient_rows(model, inputs, [tr.num_steps], trace=plain)


def test_an_unknown_option_is_still_an_error():
    module = nn.LSTM(INPUT, HIDDEN)
    with pytest.raises(UnknownOptionError, match="colour"):
        seqviz.trace(module, torch.randn(3, INPUT), gradients=True, colour="red")
    with pytest.raises(UnknownOptionError, match="colour"):
        gradient_rows(module, torch.randn(3, INPUT), [0], colour="red")
    backbone = seqviz.load_model("untrained-transformer").backbone  # traces itself on ids: no gradients
    with pytest.raises(UnknownOptionError, match="gradients"):
        seqviz.trace(backbone, [1, 2, 3], gradients=True)


PREFIX_CASES = {
    "lstm": lambda: (nn.LSTM(INPUT, HIDDEN, 2), torch.randn(12, INPUT)),
    "rnn model": lambda: (seqviz.load_model("untrained-rnn"), "the quick brown"),
    "decoder-only transformer": lambda: (seqviz.load_model("untrained-transformer"), "the quick brown"),
}


@pytest.mark.parametrize("case", PREFIX_CASES)
def test_a_causal_trace_of_a_prefix_has_the_prefix_of_the_map(case):
    torch.manual_seed(5)
    model, inputs = PREFIX_CASES[case]()
    full = seqviz.trace(model, inputs, gradients=True)["input_gradient_norm"]
    for k in (1, 5, len(inputs) - 2):
        prefix = seqviz.trace(model, inputs[:k], gradients=True)["input_gradient_norm"]
        np.testing.assert_allclose(prefix, full[:k, :k], rtol=1e-5, atol=0)


def test_edits_are_the_model_the_gradients_are_of(tmp_path):
    torch.manual_seed(2)
    module, x = nn.RNN(INPUT, HIDDEN, 2), torch.randn(STEPS, INPUT)
    edit = ScaleRecurrent(1.5)
    tr = seqviz.trace(module, x, gradients=True, edits=[edit])
    edited = seqviz.trace(edit.apply_to_copy(module), x, gradients=True)
    np.testing.assert_array_equal(tr["input_gradient_norm"], edited["input_gradient_norm"])
    assert not np.array_equal(
        tr["input_gradient_norm"], seqviz.trace(module, x, gradients=True)["input_gradient_norm"]
    )
    back = Trace.load(tr.save(tmp_path / "grads.npz"))
    np.testing.assert_array_equal(back["input_gradient_norm"], tr["input_gradient_norm"])
    assert back.meta.gradient_target == TOP_LAYER_NORM
