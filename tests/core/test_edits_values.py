"""Value edits (ClampGate, SetHidden, SetCell) against a plain step-by-step reference.

The reference below is written from torch's documentation of nn.RNN/GRU/LSTM, independently of
seqviz: a loop over steps, float64, one layer and direction at a time, every edit overriding the value
where the cell computes it. The trace must equal it to 1e-5 (every array, and `probs` for the bundled
models), and its input gradients must equal autograd's through it.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn as nn

import seqviz
from seqviz.core.gradients import gradient_rows
from seqviz.edits import ClampGate, ScaleRecurrent, SetCell, SetHidden

TOL = {"rtol": 1e-5, "atol": 1e-5}
GATES = {
    "lstm": ("input_gate", "forget_gate", "candidate", "output_gate"),  # torch's row order: i, f, g, o
    "gru": ("reset_gate", "update_gate", "candidate"),  # r, z, n
}


def target_of(edit) -> str:
    return edit.gate if isinstance(edit, ClampGate) else "cell" if isinstance(edit, SetCell) else "hidden"


def overridden(value: torch.Tensor, name: str, layer: int, direction: int, t: int, edits) -> torch.Tensor:
    """`value` with every edit of (name, layer, direction) at step t applied, in order."""
    for e in edits:
        if target_of(e) == name and (e.layer, e.direction) == (layer, direction) and t in e.steps:
            value = value.clone()
            value[list(e.units)] = e.value
    return value


def reference_cell(arch, mode, p, x, h, c, fix):
    """One step of torch's documented equations, float64. -> h, c, {array name: value}."""
    pre_x = p["w_ih"] @ x + p["b_ih"]
    pre_h = p["w_hh"] @ h + p["b_hh"]
    if arch == "lstm":
        i, f, g, o = (pre_x + pre_h).chunk(4)
        gates = {"input_gate": torch.sigmoid(i), "forget_gate": torch.sigmoid(f)}
        gates |= {"candidate": torch.tanh(g), "output_gate": torch.sigmoid(o)}
        gates = {k: fix(k, v) for k, v in gates.items()}
        c = fix("cell", gates["forget_gate"] * c + gates["input_gate"] * gates["candidate"])
        h = gates["output_gate"] * torch.tanh(c)
        if p["w_hr"] is not None:
            h = p["w_hr"] @ h
        return fix("hidden", h), c, {**gates, "cell": c}
    if arch == "gru":
        xr, xz, xn = pre_x.chunk(3)
        hr, hz, hn = pre_h.chunk(3)
        r = fix("reset_gate", torch.sigmoid(xr + hr))
        z = fix("update_gate", torch.sigmoid(xz + hz))
        n = fix("candidate", torch.tanh(xn + r * hn))
        return fix("hidden", (1 - z) * n + z * h), c, {"reset_gate": r, "update_gate": z, "candidate": n}
    act = torch.relu if mode == "RNN_RELU" else torch.tanh
    return fix("hidden", act(pre_x + pre_h)), c, {}


def reference_params(module: nn.RNNBase, layer: int, d: int) -> dict[str, torch.Tensor | None]:
    """One layer and direction's weights in float64 (zero biases when the module has none)."""
    suffix = f"_l{layer}" + ("_reverse" if d else "")
    p = {k: getattr(module, n + suffix, None) for k, n in (("w_ih", "weight_ih"), ("w_hh", "weight_hh"))}
    p |= {k: getattr(module, n + suffix, None) for k, n in (("b_ih", "bias_ih"), ("b_hh", "bias_hh"))}
    p["w_hr"] = getattr(module, "weight_hr" + suffix, None)
    p = {k: None if v is None else v.double() for k, v in p.items()}
    for b, w in (("b_ih", "w_ih"), ("b_hh", "w_hh")):
        p[b] = torch.zeros(p[w].shape[0], dtype=torch.float64) if p[b] is None else p[b]
    return p


def reference(module: nn.RNNBase, x: torch.Tensor, edits, h0=None, c0=None) -> dict[str, torch.Tensor]:
    """Every array (T, L, D, H) of `module` over x (T, in) with `edits`, step by step in float64."""
    arch = {"LSTM": "lstm", "GRU": "gru"}.get(module.mode, "rnn")
    dirs, steps = 2 if module.bidirectional else 1, x.shape[0]
    names = ["hidden", *GATES.get(arch, ()), *(["cell"] if arch == "lstm" else [])]
    rows = {name: [[None] * steps for _ in range(module.num_layers * dirs)] for name in names}
    layer_in = x.double()
    for layer in range(module.num_layers):
        for d in range(dirs):
            p, row = reference_params(module, layer, d), layer * dirs + d
            h = torch.zeros(p["w_hh"].shape[1], dtype=torch.float64) if h0 is None else h0[row].double()
            c = torch.zeros(module.hidden_size, dtype=torch.float64) if c0 is None else c0[row].double()
            for t in reversed(range(steps)) if d else range(steps):
                fix = lambda name, v: overridden(v, name, layer, d, t, edits)  # noqa: B023, E731
                h, c, values = reference_cell(arch, module.mode, p, layer_in[t], h, c, fix)
                for name, value in {"hidden": h, **values}.items():
                    rows[name][row][t] = value
        outputs = [torch.stack(rows["hidden"][layer * dirs + d]) for d in range(dirs)]  # (T, H_out) each
        layer_in = torch.cat(outputs, dim=1)
    grid = (module.num_layers, dirs)
    return {
        name: torch.stack([torch.stack(r) for r in per_row], dim=1).reshape(steps, *grid, -1)
        for name, per_row in rows.items()
    }


def assert_equals_reference(tr, expected) -> None:
    for name, value in expected.items():
        np.testing.assert_allclose(tr[name], value.detach().numpy(), **TOL, err_msg=name)


# Bare modules ------------------------------------------------------------------------------------
def lstm_edits(layers, dirs):
    top, back = layers - 1, dirs - 1
    return [
        ClampGate("forget_gate", 0, [1, 3], range(4, 10), 1.0),
        ClampGate("input_gate", top, [0], [2, 11, 12, 13, 29], 0.0, direction=back),
        ClampGate("candidate", 0, [2, 4], [20], -0.7, direction=back),
        ClampGate("output_gate", top, [4], range(25, 30), 0.25),
        SetCell(0, [0, 2], [7, 8, 21], 2.5),
        SetHidden(top, [1], range(0, 30, 3), -0.5, direction=back),
    ]


def gru_edits(layers, dirs):
    top, back = layers - 1, dirs - 1
    return [
        ClampGate("update_gate", 0, [1, 3], range(4, 10), 1.0),
        ClampGate("reset_gate", top, [0, 4], [2, 11, 12, 29], 0.0, direction=back),
        ClampGate("candidate", 0, [2], [20, 21], 0.9, direction=back),
        SetHidden(0, [0], range(15, 30), 0.0),
        SetHidden(top, [1, 2], [0, 5], 0.3, direction=back),
    ]


def rnn_edits(layers, dirs):
    return [SetHidden(0, [0, 3], range(5, 12), 0.8), SetHidden(layers - 1, [2], [0, 17, 29], -1.0, dirs - 1)]


EDITS = {"lstm": lstm_edits, "gru": gru_edits, "rnn": rnn_edits}
SHAPES = ((1, False), (2, False), (2, True), (3, True))  # (layers, bidirectional)
CASES = [(arch, *shape) for arch in ("rnn", "rnn_relu", "gru", "lstm") for shape in SHAPES]


def make(arch: str, layers: int, bidi: bool, **kw) -> nn.RNNBase:
    torch.manual_seed(layers * 10 + bidi)
    if arch.startswith("rnn"):
        act = "relu" if arch == "rnn_relu" else "tanh"
        return nn.RNN(4, 5, layers, bidirectional=bidi, nonlinearity=act, **kw)
    return {"gru": nn.GRU, "lstm": nn.LSTM}[arch](4, 5, layers, bidirectional=bidi, **kw)


@pytest.mark.parametrize("arch, layers, bidi", CASES)
def test_bare_modules_equal_the_step_by_step_reference(arch, layers, bidi):
    module, x = make(arch, layers, bidi), torch.randn(30, 4)
    edits = EDITS[arch.split("_")[0]](layers, 2 if bidi else 1)
    before = copy.deepcopy(module.state_dict())
    tr = seqviz.trace(module, x, edits=edits)
    with torch.no_grad():
        assert_equals_reference(tr, reference(module, x, edits))
    assert tr.meta.edits == tuple(e.describe() for e in edits)
    assert all(torch.equal(module.state_dict()[k], v) for k, v in before.items())  # the model is untouched


@pytest.mark.parametrize(
    "kw", [{"proj_size": 3}, {"bias": False}, {"dtype": torch.float64}, {"batch_first": True}]
)
def test_lstm_variants_and_an_initial_state(kw):
    module = make("lstm", 2, True, **kw)
    x = torch.randn(30, 4, dtype=kw.get("dtype", torch.float32))
    out = kw.get("proj_size", 5)
    h0, c0 = torch.randn(4, out, dtype=x.dtype), torch.randn(4, 5, dtype=x.dtype)
    edits = [*lstm_edits(2, 2)[:5], SetHidden(1, [out - 1], range(0, 30, 3), -0.5, direction=1)]
    tr = seqviz.trace(module, x, edits=edits, initial_state=(h0, c0))
    with torch.no_grad():
        assert_equals_reference(tr, reference(module, x, edits, h0, c0))


def test_an_edit_changes_what_follows_and_nothing_before():
    """Forward: layer 0's steps before the edit are the plain trace's; its later steps and the layer
    above from that step on are not. Backward: the same, mirrored."""
    module, x = make("lstm", 2, True), torch.randn(30, 4)
    plain = seqviz.trace(module, x)
    tr = seqviz.trace(module, x, edits=[ClampGate("forget_gate", 0, [0, 1, 2, 3, 4], [12], 0.0)])
    np.testing.assert_allclose(tr["hidden"][:12, :, 0], plain["hidden"][:12, :, 0], atol=1e-6)
    np.testing.assert_allclose(tr["hidden"][:12, 0, 1], plain["hidden"][:12, 0, 1], atol=1e-6)  # backward
    assert not np.allclose(tr["cell"][12:, 0, 0], plain["cell"][12:, 0, 0], atol=1e-4)
    assert not np.allclose(tr["hidden"][12:, 1], plain["hidden"][12:, 1], atol=1e-4)  # the layer above
    back = seqviz.trace(module, x, edits=[SetHidden(0, [0, 1, 2, 3, 4], [12], 0.0, direction=1)])
    np.testing.assert_allclose(back["hidden"][13:, 0], plain["hidden"][13:, 0], atol=1e-6)
    assert not np.allclose(back["hidden"][:12, 0, 1], plain["hidden"][:12, 0, 1], atol=1e-4)


def test_the_trace_shows_the_edited_values_and_later_edits_win():
    module, x = make("gru", 1, False), torch.randn(12, 4)
    edits = [
        ClampGate("update_gate", 0, [0, 1, 2], range(3, 8), 1.0),
        ClampGate("update_gate", 0, [1], [5], 0.0),
    ]
    tr = seqviz.trace(module, x, edits=edits)
    assert (tr["update_gate"][3:8, 0, 0, [0, 2]] == 1.0).all() and tr["update_gate"][5, 0, 0, 1] == 0.0
    # z = 1 keeps the previous state: units 0 and 2 hold still over steps 3..7
    held = np.repeat(tr["hidden"][2:3, 0, 0, [0, 2]], 5, axis=0)
    np.testing.assert_allclose(tr["hidden"][3:8, 0, 0, [0, 2]], held, atol=1e-6)


def test_long_sequences_use_every_segment_kind():
    """Edits spread over a long input (fused spans before, between and after; short gaps step by step)."""
    module, x = make("lstm", 2, True), torch.randn(300, 4)
    steps = [0, 2, 50, 51, 52, 120, 122, 260, 299]
    edits = [SetCell(0, [1], steps, 1.5), ClampGate("forget_gate", 1, [2], range(140, 200), 1.0, direction=1)]
    tr = seqviz.trace(module, x, edits=edits)
    with torch.no_grad():
        assert_equals_reference(tr, reference(module, x, edits))


# Bundled models through seqviz.trace ----------------------------------------------------------------
RECURRENT_MODELS = ["longrange-lstm", "longrange-gru", "longrange-rnn", "pos-lstm", "sentiment-gru"]


@pytest.mark.parametrize("model_id", RECURRENT_MODELS)
def test_bundled_recurrent_models_equal_the_reference_probs_included(model_id):
    model = seqviz.load_model(model_id)
    net, text = model.backbone, model.card.examples[0]
    ids = torch.as_tensor(model.tokenizer.encode(text))
    layers, dirs, T = net.rnn.num_layers, 2 if net.rnn.bidirectional else 1, len(ids)
    arch = model.arch if model.arch != "rnn" else "rnn"
    edits = [SetHidden(layers - 1, [0, 1, 2], range(T // 2, T), 0.0)]
    if arch != "rnn":
        edits.insert(0, ClampGate(GATES[arch][1], 0, list(range(8)), range(1, T), 1.0, direction=dirs - 1))
    tr = seqviz.trace(model, text, edits=edits)
    with torch.no_grad():
        expected = reference(net.rnn, net.embedding(ids), edits)
        assert_equals_reference(tr, expected)
        top = expected["hidden"][:, -1].reshape(T, -1)
        probs = torch.softmax(top @ net.head.weight.double().T + net.head.bias.double(), dim=-1)
    np.testing.assert_allclose(tr["probs"], probs.numpy(), **TOL)
    assert tr.meta.edits == tuple(e.describe() for e in edits) and tr.meta.model_id == model_id


def test_weight_and_value_edits_together():
    model = seqviz.load_model("longrange-gru")
    text = model.card.examples[0]
    edits = [ScaleRecurrent(1.5), SetHidden(0, [3], [2, 3], 0.0)]
    tr = seqviz.trace(model, text, edits=edits)
    scaled = ScaleRecurrent(1.5).apply_to_copy(model)
    with torch.no_grad():
        x = scaled.backbone.embedding(torch.as_tensor(model.tokenizer.encode(text)))
        assert_equals_reference(tr, reference(scaled.backbone.rnn, x, edits[1:]))
    assert tr.meta.edits == ("W_hh \u00d7 1.5", "hidden of layer 0, unit 3 = 0 at steps 2,3")


# Gradients through the edited computation ------------------------------------------------------------
def jacobian_norms(outputs_of, x: torch.Tensor) -> np.ndarray:
    """(T, S) = ‖∂y_t/∂x_s‖ for y = outputs_of(x) (T,), x (S, E), float64 autograd."""
    jac = torch.autograd.functional.jacobian(outputs_of, x.double())  # (T, S, E)
    return torch.linalg.vector_norm(jac, dim=-1).numpy()


@pytest.mark.parametrize("arch, layers, bidi", [("lstm", 2, False), ("gru", 2, True), ("rnn", 1, False)])
def test_gradients_are_of_the_edited_model(arch, layers, bidi):
    """y_t = ‖h_t‖ of the top layer; edited values are constants (nothing flows back through them)."""
    module, x = make(arch, layers, bidi), torch.randn(30, 4)
    edits = EDITS[arch](layers, 2 if bidi else 1)
    tr = seqviz.trace(module, x, edits=edits, gradients=True)

    def top_norms(inputs: torch.Tensor) -> torch.Tensor:
        return reference(module, inputs, edits)["hidden"][:, -1].reshape(30, -1).norm(dim=-1)

    expected = jacobian_norms(top_norms, x)
    np.testing.assert_allclose(tr["input_gradient_norm"], expected, rtol=1e-4, atol=1e-30)
    if not bidi:  # the clamps cut paths: the plain model's map differs
        assert not np.allclose(
            tr["input_gradient_norm"], seqviz.trace(module, x, gradients=True)["input_gradient_norm"]
        )


@pytest.mark.parametrize("model_id", ["longrange-lstm", "pos-lstm"])
def test_gradients_of_a_bundled_model_with_edits(model_id):
    """y_t = log p of the shown prediction, x the token embeddings."""
    model = seqviz.load_model(model_id)
    net, text = model.backbone, model.card.examples[0]
    ids = torch.as_tensor(model.tokenizer.encode(text))
    T = len(ids)
    edits = [
        ClampGate("forget_gate", 0, list(range(0, 64, 2)), range(2, T), 1.0),
        SetHidden(0, [5], [3], 0.0),
    ]
    tr = seqviz.trace(model, text, edits=edits, gradients=True)
    predicted = torch.as_tensor(tr["probs"].argmax(axis=1))

    def log_probs(inputs: torch.Tensor) -> torch.Tensor:
        top = reference(net.rnn, inputs, edits)["hidden"][:, -1].reshape(T, -1)
        logits = top @ net.head.weight.double().T + net.head.bias.double()
        return torch.log_softmax(logits, dim=-1).gather(1, predicted[:, None])[:, 0]

    with torch.no_grad():
        x = net.embedding(ids)
    np.testing.assert_allclose(tr["input_gradient_norm"], jacobian_norms(log_probs, x), rtol=1e-4, atol=1e-30)
    rows = gradient_rows(model, text, [T - 1, 0], edits=edits)
    np.testing.assert_array_equal(rows, tr["input_gradient_norm"][[T - 1, 0]])


@pytest.mark.parametrize("arch", ["lstm", "gru"])
@pytest.mark.parametrize("value", [0.0, 1.0, 0.3, -1.0, 1.5])
@pytest.mark.parametrize("bias", [True, False])
def test_long_clamps_of_every_gate(arch, value, bias):
    """Long runs of one clamp (the app's "from here"), any value, also ones a gate never takes (1.5)."""
    module, x = make(arch, 2, True, bias=bias), torch.randn(40, 4)
    gates = [g for g in GATES[arch] if value >= 0 or g == "candidate"]
    edits = [
        ClampGate(g, k % 2, [k, 4], range(5 + k, 40), value, direction=k % 2) for k, g in enumerate(gates)
    ]
    tr = seqviz.trace(module, x, edits=edits)
    with torch.no_grad():
        assert_equals_reference(tr, reference(module, x, edits))
    last = edits[-1]
    assert (tr[last.gate][5 + len(gates) - 1 :, last.layer, last.direction, 4] == np.float32(value)).all()


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm", "lstm_proj"])
@pytest.mark.parametrize("bias", [True, False])
def test_long_runs_of_set_hidden_with_clamps_and_cells(arch, bias):
    """ "Set to 0 from here" over long runs, alone or with gate clamps at the same steps, in both
    directions and layers; a cell edit in the middle of a run."""
    kw = {"proj_size": 3} if arch == "lstm_proj" else {}
    module, x = make(arch.split("_")[0], 2, True, bias=bias, **kw), torch.randn(50, 4)
    edits = [SetHidden(0, [0, 2], range(8, 50), 0.0), SetHidden(1, [1], range(0, 45), 0.7, direction=1)]
    if arch != "rnn":
        gate = GATES[arch.split("_")[0]][1]
        edits += [ClampGate(gate, 0, [0, 1], range(8, 50), 1.0), ClampGate(gate, 1, [2], range(20, 30), 0.0)]
    if arch.startswith("lstm"):
        edits.append(SetCell(0, [3], [30], -2.0))
    tr = seqviz.trace(module, x, edits=edits)
    with torch.no_grad():
        assert_equals_reference(tr, reference(module, x, edits))
    assert (tr["hidden"][8:, 0, 0, [0, 2]] == 0.0).all() and (
        tr["hidden"][:45, 1, 1, 1] == np.float32(0.7)
    ).all()


# The GRU-attention model's decoder -------------------------------------------------------------------
def bahdanau_reference(net, src_embedded: torch.Tensor, inputs, edits, greedy: bool) -> dict:
    """The decoder step by step in float64 with `edits` on its GRU cell: teacher-forced on `inputs`
    (decoder input ids), or greedy from <s> (inputs ignored) until </s> or max_len."""
    net = copy.deepcopy(net).double()
    memory, last = net.encoder(src_embedded.double()[None])
    keys, state = net.key(memory), torch.tanh(net.bridge(torch.cat([last[0], last[1]], dim=-1)))[0]
    p = {
        "w_ih": net.cell.weight_ih,
        "w_hh": net.cell.weight_hh,
        "b_ih": net.cell.bias_ih,
        "b_hh": net.cell.bias_hh,
    }
    rows, prev = (
        {k: [] for k in ("hidden", "reset_gate", "update_gate", "candidate", "log_probs")},
        net.cfg.bos_id,
    )
    for t in range(net.cfg.max_len if greedy else len(inputs)):
        energy = torch.tanh(net.query(state)[None] + keys[0])  # (S, A)
        context = torch.softmax(net.score(energy)[:, 0], dim=0) @ memory[0]  # (2H,)
        x = torch.cat([net.tgt_embed.weight[prev if greedy else inputs[t]], context])
        fix = lambda name, v: overridden(v, name, 0, 0, t, edits)  # noqa: B023, E731
        state, _, gates = reference_cell("gru", "GRU", p, x, state, None, fix)
        log_probs = torch.log_softmax(net.out(torch.cat([state, context])), dim=0)
        for name, value in {"hidden": state, **gates, "log_probs": log_probs}.items():
            rows[name].append(value)
        prev = int(log_probs.argmax())
        if greedy and prev == net.cfg.eos_id:
            break
    return {name: torch.stack(r) for name, r in rows.items()}


def test_the_gru_attention_decoder_takes_edits_and_decodes_on_from_them():
    model = seqviz.load_model("dates-gru-attention")
    net, text = model.backbone, model.card.examples[0]
    edits = [
        ClampGate("update_gate", 0, list(range(0, 64, 3)), range(1, 16), 0.0),
        SetHidden(0, [2, 7], [0, 2], 1.0),
    ]
    tr = seqviz.trace(model, text, edits=edits)
    with torch.no_grad():
        src = net.src_embed(torch.as_tensor(tr.meta.source_ids))
        expected = bahdanau_reference(net, src, None, edits, greedy=True)
    assert list(tr.meta.output_ids) == expected["log_probs"].argmax(dim=1).tolist()
    assert list(tr.meta.output_ids) != list(
        seqviz.trace(model, text).meta.output_ids
    )  # it says something else
    for name in ("hidden", "reset_gate", "update_gate", "candidate"):
        np.testing.assert_allclose(tr[name][:, 0, 0], expected[name].numpy(), **TOL, err_msg=name)
    np.testing.assert_allclose(tr["probs"], expected["log_probs"].exp().numpy(), **TOL)
    with pytest.raises(ValueError, match="SetCell: a GRU has no cell state"):
        seqviz.trace(model, text, edits=[SetCell(0, [0], [0], 0.0)])


def test_gru_attention_gradients_with_edits():
    model = seqviz.load_model("dates-gru-attention")
    net, text = model.backbone, model.card.examples[0]
    edits = [ClampGate("reset_gate", 0, [1, 4, 9], range(0, 16), 1.0), SetHidden(0, [3], [1], -0.5)]
    tr = seqviz.trace(model, text, edits=edits, gradients=True)
    inputs, predicted = list(tr.meta.decoder_input_ids), torch.as_tensor(tr["probs"].argmax(axis=1))

    def log_probs(src: torch.Tensor) -> torch.Tensor:
        rows = bahdanau_reference(net, src, inputs, edits, greedy=False)["log_probs"]
        return rows.gather(1, predicted[:, None])[:, 0]

    with torch.no_grad():
        src = net.src_embed(torch.as_tensor(tr.meta.source_ids))
    expected = jacobian_norms(log_probs, src)
    np.testing.assert_allclose(tr["input_gradient_norm"], expected, rtol=1e-4, atol=1e-30)


@pytest.mark.parametrize("value", [0.0, 0.5, -1.0, 2.0])
@pytest.mark.parametrize("kw", [{}, {"proj_size": 3}, {"dtype": torch.float64}])
def test_long_runs_of_set_cells(value, kw):
    """A cell set over a long run, with a clamp of the same unit's forget gate given after it (the
    cell is still the set value: the model sets c after computing its gates) and a set hidden unit."""
    module = make("lstm", 2, True, **kw)
    x = torch.randn(40, 4, dtype=kw.get("dtype", torch.float32))
    edits = [
        SetCell(0, [1, 3], range(6, 40), value),
        ClampGate("forget_gate", 0, [3, 4], range(6, 40), 1.0),
        SetHidden(0, [0], range(6, 40), 0.0),
        SetCell(1, [2], range(0, 30), value, direction=1),
    ]
    tr = seqviz.trace(module, x, edits=edits)
    with torch.no_grad():
        assert_equals_reference(tr, reference(module, x, edits))
    assert (tr["cell"][6:, 0, 0, [1, 3]] == np.float32(value)).all()
