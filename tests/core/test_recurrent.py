"""seqviz.trace of nn.RNN / nn.GRU / nn.LSTM against torch's own modules and cells.

The reference steps torch's nn.LSTMCell / nn.GRUCell / nn.RNNCell one step at a time with the module's
weights (gates from torch's documented equations), independently of the batched implementation.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn as nn

import seqviz
from seqviz.core import onednn_lstm
from seqviz.core.recurrent import trace_recurrent
from seqviz.core.scan import linear_scan

ATOL = 1e-5
ARCHS = ("rnn_tanh", "rnn_relu", "gru", "lstm", "lstm_proj")
HIDDEN, INPUT, PROJ, STEPS = 6, 4, 3, 7


def make_module(arch: str, layers: int, bidirectional: bool, bias: bool, batch_first: bool) -> nn.RNNBase:
    kw = {"num_layers": layers, "bidirectional": bidirectional, "bias": bias, "batch_first": batch_first}
    if arch.startswith("rnn"):
        return nn.RNN(INPUT, HIDDEN, nonlinearity=arch.split("_")[1], **kw)
    if arch == "gru":
        return nn.GRU(INPUT, HIDDEN, **kw)
    return nn.LSTM(INPUT, HIDDEN, proj_size=PROJ if arch == "lstm_proj" else 0, **kw)


def random_state(module: nn.RNNBase) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    rows = module.num_layers * (2 if module.bidirectional else 1)
    out = getattr(module, "proj_size", 0) or module.hidden_size
    h0 = torch.randn(rows, out)
    return (h0, torch.randn(rows, module.hidden_size)) if module.mode == "LSTM" else h0


# Reference: torch cells stepped one at a time ----------------------------------------------------


def _weights(module: nn.RNNBase, layer: int, direction: int) -> dict[str, torch.Tensor]:
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
    found = {n: getattr(module, n + suffix, None) for n in names}
    rows = found["weight_ih"].shape[0]
    for n in ("bias_ih", "bias_hh"):
        if found[n] is None:
            found[n] = torch.zeros(rows)
    return found


def _cell_for(module: nn.RNNBase, w: dict[str, torch.Tensor]) -> nn.Module | None:
    """torch's own cell with these weights, or None for a projected LSTM (no such cell in torch)."""
    in_size, hidden = w["weight_ih"].shape[1], module.hidden_size
    if module.mode == "LSTM":
        if w["weight_hr"] is not None:
            return None
        cell = nn.LSTMCell(in_size, hidden)
    elif module.mode == "GRU":
        cell = nn.GRUCell(in_size, hidden)
    else:
        cell = nn.RNNCell(in_size, hidden, nonlinearity="relu" if module.mode == "RNN_RELU" else "tanh")
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).data.copy_(w[name])
    return cell


def _step(module, cell, w, x, h, c):
    """One step: -> (h, c, gates dict) from the documented equations, h and c from torch's cell."""
    gi = w["weight_ih"] @ x + w["bias_ih"]
    gh = w["weight_hh"] @ h + w["bias_hh"]
    if module.mode == "LSTM":
        i, f, g, o = (gi + gh).chunk(4)
        gates = {"input_gate": i.sigmoid(), "forget_gate": f.sigmoid(), "candidate": g.tanh()}
        gates["output_gate"] = o.sigmoid()
        if cell is None:  # projected LSTM: the equations alone
            c = gates["forget_gate"] * c + gates["input_gate"] * gates["candidate"]
            return w["weight_hr"] @ (gates["output_gate"] * c.tanh()), c, gates
        h, c = cell(x[None], (h[None], c[None]))
        return h[0], c[0], gates
    if module.mode == "GRU":
        r = (gi[: HIDDEN * 2] + gh[: HIDDEN * 2]).sigmoid()
        reset, update = r[:HIDDEN], r[HIDDEN:]
        n = (gi[HIDDEN * 2 :] + reset * gh[HIDDEN * 2 :]).tanh()
        gates = {"reset_gate": reset, "update_gate": update, "candidate": n}
        return cell(x[None], h[None])[0], c, gates
    return cell(x[None], h[None])[0], c, {}


@torch.no_grad()
def reference_trace(module: nn.RNNBase, x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor) -> dict:
    """Every array (T, L, D, size) by stepping torch's cells; h0 (L*D, H_out), c0 (L*D, H)."""
    steps, directions = x.shape[0], 2 if module.bidirectional else 1
    arrays: dict[str, np.ndarray] = {}
    layer_in = x
    for layer in range(module.num_layers):
        outputs = []
        for d in range(directions):
            w = _weights(module, layer, d)
            cell = _cell_for(module, w)
            h, c = h0[layer * directions + d], c0[layer * directions + d]
            seq: dict[str, list] = {}
            for t in reversed(range(steps)) if d else range(steps):
                h, c, gates = _step(module, cell, w, layer_in[t], h, c)
                values = {"hidden": h, **gates} | ({"cell": c} if module.mode == "LSTM" else {})
                for name, value in values.items():
                    seq.setdefault(name, [None] * steps)[t] = value.numpy()
            for name, values in seq.items():
                arrays.setdefault(name, np.zeros((steps, module.num_layers, directions, len(values[0]))))
                arrays[name][:, layer, d] = np.stack(values)
            outputs.append(torch.from_numpy(np.stack(seq["hidden"])).float())
        layer_in = torch.cat(outputs, dim=1)
    return arrays


# Against the module and the cells -----------------------------------------------------------------


def final_states(hidden: np.ndarray) -> np.ndarray:
    """(T, L, D, H) -> (L*D, H) as torch's h_n: the backward direction ends at time 0."""
    last = [hidden[-1, :, 0]] + ([hidden[0, :, 1]] if hidden.shape[2] == 2 else [])
    return np.stack(last, axis=1).reshape(-1, hidden.shape[-1])


CONFIGS = list(itertools.product(ARCHS, (1, 2, 3), (False, True)))


@pytest.fixture(params=["kernel", "computed"])
def gate_source(request, monkeypatch) -> str:
    """Run a test both ways an LSTM's gates can come: recorded by torch's oneDNN kernel, or computed
    from the weights (torch's oneDNN switched off, so the module itself runs its other kernel too).
    With "kernel", fail if an LSTM the kernel can run did not get its gates from the kernel."""
    recorded: list[bool] = []
    real = onednn_lstm.trace_lstm_layer

    def spy(x, weights, *args):
        out = real(x, weights, *args)
        if onednn_lstm.kernel_available(x, weights):  # not for a projected LSTM
            recorded.append(out is not None)
        return out

    monkeypatch.setattr(onednn_lstm, "trace_lstm_layer", spy)
    if request.param == "computed":
        monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)  # undone after the test
        yield request.param
        assert not any(recorded)
    else:
        yield request.param
        assert all(recorded)


@pytest.mark.parametrize(("arch", "layers", "bidirectional"), CONFIGS)
def test_trace_equals_module_and_cells(arch: str, layers: int, bidirectional: bool, gate_source: str) -> None:
    seed = CONFIGS.index((arch, layers, bidirectional))
    for variant in range(4):  # every combination of bias and batch_first; initial state on odd seeds
        torch.manual_seed(1000 * seed + variant)
        bias, batch_first = bool(variant & 1), bool(variant & 2)
        module = make_module(arch, layers, bidirectional, bias, batch_first)
        x = torch.randn(STEPS, INPUT)
        state = random_state(module) if (seed + variant) % 2 else None
        tr = trace_recurrent(module, x, initial_state=state)
        with torch.no_grad():
            out, final = module(x, state)

        directions, out_size = (2 if bidirectional else 1), (PROJ if arch == "lstm_proj" else HIDDEN)
        assert tr["hidden"].shape == (STEPS, layers, directions, out_size)
        np.testing.assert_allclose(tr["hidden"][:, -1].reshape(STEPS, -1), out.numpy(), atol=ATOL)
        h_n, c_n = final if module.mode == "LSTM" else (final, None)
        np.testing.assert_allclose(final_states(tr["hidden"]), h_n.numpy(), atol=ATOL)
        if c_n is not None:
            np.testing.assert_allclose(final_states(tr["cell"]), c_n.numpy(), atol=ATOL)

        h0, c0 = (state if module.mode == "LSTM" else (state, None)) if state is not None else (None, None)
        rows = layers * directions
        h0 = torch.zeros(rows, out_size) if h0 is None else h0
        c0 = torch.zeros(rows, HIDDEN) if c0 is None else c0
        expected = reference_trace(module, x, h0, c0)
        if state is not None:  # the state before step 1, (L, D, size) like a step of the arrays
            expected["initial_hidden"] = h0.numpy().reshape(layers, directions, out_size)
            if module.mode == "LSTM":
                expected["initial_cell"] = c0.numpy().reshape(layers, directions, HIDDEN)
        assert sorted(tr.names()) == sorted(expected)
        for name, value in expected.items():
            assert tr[name].dtype == np.float32
            np.testing.assert_allclose(tr[name], value, atol=ATOL, err_msg=f"{arch} {name}")


@pytest.mark.parametrize("arch", ARCHS)
def test_prefix_of_a_causal_trace_is_the_trace_of_the_prefix(arch: str) -> None:
    torch.manual_seed(3)
    module = make_module(arch, 2, False, True, False)
    x = torch.randn(12, INPUT)
    whole = trace_recurrent(module, x)
    assert whole.meta.causal is True
    for k in (1, 5, 11):
        prefix = trace_recurrent(module, x[:k])
        for name in whole.names():
            np.testing.assert_allclose(prefix[name], whole[name][:k], atol=1e-6, err_msg=name)


def test_bidirectional_trace_is_not_causal() -> None:
    torch.manual_seed(4)
    module = make_module("gru", 1, True, True, False)
    x = torch.randn(9, INPUT)
    whole, prefix = trace_recurrent(module, x), trace_recurrent(module, x[:4])
    assert whole.meta.causal is False
    np.testing.assert_allclose(prefix["hidden"][:, :, 0], whole["hidden"][:4, :, 0], atol=1e-6)
    assert not np.allclose(prefix["hidden"][:, :, 1], whole["hidden"][:4, :, 1], atol=1e-3)


@pytest.mark.parametrize(("hidden", "steps"), [(16, 1500), (260, 50)])  # both ways of the cell scan
def test_long_sequence_keeps_matching_the_module(hidden: int, steps: int) -> None:
    torch.manual_seed(5)
    module = nn.LSTM(3, hidden, 2)
    x = torch.randn(steps, 3)
    tr = trace_recurrent(module, x)
    with torch.no_grad():
        out, (h_n, c_n) = module(x)
    np.testing.assert_allclose(tr["hidden"][:, -1, 0], out.numpy(), atol=ATOL)
    np.testing.assert_allclose(final_states(tr["cell"]), c_n.numpy(), atol=ATOL)


def _check_lstm_against_reference(module: nn.LSTM, x: torch.Tensor, state) -> None:
    tr = trace_recurrent(module, x, initial_state=state)
    expected = reference_trace(module, x, *state)
    for name, value in expected.items():
        np.testing.assert_allclose(tr[name], value, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("hidden", [6, 64])  # rows of 24 and 256 gates: padded to 32 and 272 floats
def test_kernel_gates_across_chunks_carry_the_state(hidden: int, gate_source: str, monkeypatch) -> None:
    """Long sequences run in chunks; each chunk starts from the state the previous one ended with."""
    monkeypatch.setattr(onednn_lstm, "_CHUNK_STEPS", 5)
    torch.manual_seed(hidden)
    module = nn.LSTM(INPUT, hidden, 2, bidirectional=True)
    state = (torch.randn(4, hidden), torch.randn(4, hidden))
    _check_lstm_against_reference(module, torch.randn(23, INPUT), state)


def test_unexpected_kernel_layout_falls_back_to_computed_gates(monkeypatch) -> None:
    """Another oneDNN might lay its workspace out differently: the check must notice, not show garbage."""
    results: list[object] = []
    real = onednn_lstm.trace_lstm_layer
    monkeypatch.setattr(onednn_lstm, "_gate_row_stride", lambda width: width + 16)
    monkeypatch.setattr(onednn_lstm, "trace_lstm_layer", lambda *a: results.append(real(*a)) or results[-1])
    torch.manual_seed(8)
    module = nn.LSTM(INPUT, HIDDEN, 2, bidirectional=True)
    _check_lstm_against_reference(module, torch.randn(STEPS, INPUT), (torch.zeros(4, HIDDEN),) * 2)
    assert results == [None, None]


@pytest.mark.parametrize("steps", [1, 2, 3, 10, 99, 1000])
@pytest.mark.parametrize("row", [(2, 3), (600,)])
def test_linear_scan_matches_the_step_by_step_recurrence(steps: int, row: tuple[int, ...]) -> None:
    rng = np.random.default_rng(steps)
    values = rng.standard_normal((steps, *row)).astype(np.float32)
    factors = rng.random((steps, *row)).astype(np.float32) ** 0.1  # near 1: long memory
    initial = rng.standard_normal(row).astype(np.float32)
    expected, state = np.empty(values.shape), initial.astype(np.float64)
    for t in range(steps):
        state = factors[t] * state + values[t]
        expected[t] = state
    backwards = values[::-1].copy()[::-1]  # a negative-stride view, as for the backward direction
    linear_scan(backwards, factors, initial)
    np.testing.assert_allclose(backwards, expected, rtol=1e-5, atol=1e-5)


# Names, metadata, inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arch", "names"),
    [
        ("rnn_relu", ["hidden"]),
        ("gru", ["hidden", "update_gate", "reset_gate", "candidate"]),
        ("lstm", ["hidden", "cell", "input_gate", "forget_gate", "output_gate", "candidate"]),
    ],
)
def test_names_shapes_and_meta(arch: str, names: list[str]) -> None:
    module = make_module(arch, 3, True, True, False)
    tr = seqviz.trace(module, torch.randn(5, INPUT))
    assert tr.names() == names
    for name in names:
        assert tr[name].shape == (5, 3, 2, HIDDEN)
        assert tr[name].dtype == np.float32
    assert tr.tokens == ["1", "2", "3", "4", "5"]
    expected = {"arch": arch[:3] if arch != "lstm" else "lstm", "num_layers": 3, "num_directions": 2}
    expected.update(hidden_size=HIDDEN, input_size=INPUT, causal=False)
    meta = tr.meta.to_dict()
    assert {k: meta[k] for k in expected} == expected
    assert tr.meta.extra.get("nonlinearity") == ("relu" if arch == "rnn_relu" else None)


def test_projected_lstm_hidden_has_proj_size_and_cell_has_hidden_size() -> None:
    tr = trace_recurrent(make_module("lstm_proj", 2, False, True, False), torch.randn(4, INPUT))
    assert tr["hidden"].shape == (4, 2, 1, PROJ)
    assert tr["cell"].shape == tr["output_gate"].shape == (4, 2, 1, HIDDEN)
    assert tr.meta.extra["proj_size"] == PROJ and tr.meta.hidden_size == HIDDEN


def test_numpy_input_float64_module_tokens_and_training_mode() -> None:
    torch.manual_seed(6)
    module = nn.GRU(INPUT, HIDDEN, 2, dropout=0.5).double().train()
    x = np.random.default_rng(0).standard_normal((6, INPUT))
    tr = trace_recurrent(module, x, tokens=list("abcdef"))
    assert tr.tokens == list("abcdef")
    assert tr["hidden"].dtype == np.float32
    with torch.no_grad():
        out, _ = module.eval()(torch.from_numpy(x))
    np.testing.assert_allclose(tr["hidden"][:, -1, 0], out.numpy(), atol=ATOL)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (torch.randn(2, 5, INPUT), "batched"),
        (torch.randn(INPUT), "T, input_size"),
        (torch.randn(5, INPUT + 1), "input_size is 4"),
        (torch.randn(0, INPUT), "empty"),
        (torch.arange(5 * INPUT).reshape(5, INPUT), "floating point"),
    ],
)
def test_bad_inputs_raise_clear_errors(inputs: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        trace_recurrent(nn.LSTM(INPUT, HIDDEN), inputs)


@pytest.mark.parametrize(
    ("module", "state", "message"),
    [
        (nn.LSTM(INPUT, HIDDEN, 2), torch.zeros(2, HIDDEN), r"pair \(h0, c0\)"),
        (nn.LSTM(INPUT, HIDDEN, 2), (torch.zeros(2, HIDDEN), torch.zeros(1, HIDDEN)), "c0"),
        (nn.GRU(INPUT, HIDDEN, 2), torch.zeros(2, 1, HIDDEN), r"h0 must be .* \(2, 6\)"),
        (nn.RNN(INPUT, HIDDEN, bidirectional=True), torch.zeros(1, HIDDEN), r"\(2, 6\)"),
        (nn.GRU(INPUT, HIDDEN), (torch.zeros(1, HIDDEN), torch.zeros(1, HIDDEN)), "not a pair"),
    ],
)
def test_bad_initial_state_raises_clear_errors(module: nn.RNNBase, state, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        trace_recurrent(module, torch.randn(3, INPUT), initial_state=state)


def test_wrong_number_of_tokens_is_an_error() -> None:
    with pytest.raises(ValueError, match="2 tokens for 3 steps"):
        trace_recurrent(nn.RNN(INPUT, HIDDEN), torch.randn(3, INPUT), tokens=["a", "b"])


def test_a_bundled_lstm_traced_through_the_kernel_matches_its_module(gate_source: str) -> None:
    """Real weights, real tokens: what a lecture shows equals the module's eval-mode output."""
    model = seqviz.load_model("longrange-lstm")
    lstm = next(m for m in model.modules() if isinstance(m, nn.LSTM))
    embedding = next(m for m in model.modules() if isinstance(m, nn.Embedding))
    ids = torch.as_tensor(np.random.default_rng(0).integers(0, embedding.num_embeddings, 100))
    with torch.no_grad():
        x = embedding(ids)
        out, (h_n, c_n) = lstm(x)
    tr = trace_recurrent(lstm, x)
    np.testing.assert_allclose(tr["hidden"][:, -1, 0], out.numpy(), atol=ATOL)
    np.testing.assert_allclose(tr["cell"][-1, :, 0], c_n.numpy(), rtol=1e-5, atol=ATOL)
