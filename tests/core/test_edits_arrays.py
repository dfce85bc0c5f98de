"""Value edits that carry an array of values (one per unit, or one per step and unit): one edit does
what a list of single-value edits, one per unit and step, does — in the trace (the fused kernel's runs
and the step-by-step path), against the plain step-by-step reference, and in gradients=True."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_edits_values import assert_equals_reference, make, reference

import seqviz
from seqviz.core.recurrent_cells import plan_edits
from seqviz.core.recurrent_edits import _segments
from seqviz.edits import ClampGate, SetCell, SetHidden

STEPS = 40


def singles(edit) -> list:
    """The same edit as one single-value edit per unit and step (what copy_values used to give)."""
    grid = edit.value_array()
    return [
        _with(edit, [u], [t], float(grid[i, j]))
        for i, t in enumerate(edit.steps)
        for j, u in enumerate(edit.units)
    ]


def _with(edit, units, steps, value):
    if isinstance(edit, ClampGate):
        return ClampGate(edit.gate, edit.layer, units, steps, value, edit.direction)
    return type(edit)(edit.layer, units, steps, value, edit.direction)


def grid(low: float, high: float, steps, units, seed: int) -> np.ndarray:
    """Random values in [low, high], (len(steps), len(units)); seeded."""
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, size=(len(steps), len(units)))


# The fields ---------------------------------------------------------------------------------------
def test_an_array_is_stored_sorted_hashable_and_given_back_as_a_grid():
    edit = SetHidden(1, [5, 2, 9], [4, 3], [[6.0, 4.0, 5.0], [3.0, 1.0, 2.0]])
    assert edit.units == (2, 5, 9) and edit.steps == (3, 4)
    assert edit.value == ((1.0, 3.0, 2.0), (4.0, 6.0, 5.0))  # rows and columns sorted with them
    np.testing.assert_array_equal(edit.value_array(), [[1, 3, 2], [4, 6, 5]])
    same = SetHidden(1, np.array([2, 5, 9]), torch.tensor([3, 4]), torch.tensor([[1, 3, 2], [4, 6, 5.0]]))
    assert same == edit and hash(same) == hash(edit) and edit.per_step
    per_unit = SetCell(0, [3, 1], range(10), np.array([0.5, -1.0]))
    assert per_unit.value == ((-1.0, 0.5),) and not per_unit.per_step
    assert per_unit.value_array().shape == (10, 2) and (per_unit.value_array()[:, 1] == 0.5).all()
    assert SetHidden(0, [1, 1], [2], 0.5).units == (1,)  # one number: repeated indices merge, as before
    assert SetHidden(0, [1, 2], [3, 4], np.array([0.5, 0.5])) == SetHidden(0, [1, 2], [3, 4], 0.5)
    assert SetHidden(0, [1], [4], [[0.25]]).value == 0.25  # one number, however it came


def test_descriptions_count_the_values_and_show_a_number_only_when_there_is_one():
    full = SetCell(1, [6, 18, 28, 30, 41, 50, 52, 60, 61, 63], range(5, 20), np.zeros((15, 10)))
    assert full.describe() == (
        "cell of layer 1, units 6,18,28,30,41,50,\u2026 (10 in all) = 15\u00d710 values at steps 5\u201319"
    )
    assert SetHidden(0, [1, 2], range(3), [0.5, 0.25]).describe().endswith("= 2 values at steps 0\u20132")
    assert SetHidden(0, [4], [7], [[0.25]]).describe() == "hidden of layer 0, unit 4 = 0.25 at step 7"


@pytest.mark.parametrize(
    "make_edit, message",
    [
        (lambda: SetHidden(0, [1, 1], [2], [0.1, 0.2]), "units: 1 is given twice"),
        (lambda: SetHidden(0, [1, 2], [2, 2], [[1, 2], [3, 4]]), "steps: 2 is given twice"),
        (
            lambda: SetHidden(0, [1, 2], [2, 3, 4], [[1, 2], [3, 4]]),
            r"value has shape \(2, 2\); with 2 units",
        ),
        (lambda: SetHidden(0, [1, 2], [2], [1, 2, 3]), r"\(2,\) \(one per unit\) or \(1, 2\)"),
        (lambda: ClampGate("forget_gate", 0, [1], [2, 3], [[np.inf], [0]]), "finite numbers only"),
        (lambda: SetCell(0, [1], [2], np.zeros((1, 1, 1))), "not shape \\(1, 1, 1\\)"),
        (lambda: SetCell(0, [1], [2], "0.5"), "a number or an array of numbers"),
    ],
)
def test_arrays_that_do_not_fit_say_what_would(make_edit, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make_edit()


# The trace ----------------------------------------------------------------------------------------
def lstm_array_edits(dirs: int) -> list:
    back = dirs - 1
    return [
        ClampGate("forget_gate", 0, [3, 1], range(4, 30), grid(0, 1, range(26), [0, 1], 1)),  # kernel
        ClampGate("candidate", 1, [0, 4], range(10, 16), grid(-1.5, 1.5, range(6), [0, 1], 2), back),
        SetCell(0, [2, 0], range(12, 40), grid(-1, 1, range(28), [0, 1], 3)),  # kernel, with a column
        SetCell(1, [1], [5, 6, 7, 20], grid(-3, 3, range(4), [0], 4)),  # beyond tanh: step by step
        SetHidden(1, [2, 4], range(0, 25), grid(-2, 2, range(25), [0, 1], 5), back),  # kernel, previous h
        SetHidden(0, [1], range(30, 40), [0.3]),  # one value per unit
    ]


def gru_array_edits(dirs: int) -> list:
    back = dirs - 1
    return [
        ClampGate("update_gate", 0, [1, 3], range(4, 30), grid(0, 1, range(26), [0, 1], 6)),
        ClampGate("reset_gate", 1, [0, 4], range(2, 20), grid(0, 1, range(18), [0, 1], 7), back),
        ClampGate("candidate", 0, [2], range(20, 26), grid(-1, 1, range(6), [0], 8), back),
        SetHidden(0, [0, 3], range(8, 40), grid(-1, 1, range(32), [0, 1], 9)),  # kernel: z = 0, n = v
        SetHidden(1, [2], range(0, 12), grid(-2, 2, range(12), [0], 10), back),  # beyond n: step by step
        SetHidden(1, [1, 4], range(20, 40), [0.5, -0.25]),
    ]


def rnn_array_edits(dirs: int) -> list:
    return [
        SetHidden(0, [0, 3], range(5, 35), grid(-1, 1, range(30), [0, 1], 11)),
        SetHidden(1, [2], range(0, 30), grid(-2, 2, range(30), [0], 12), dirs - 1),
    ]


ARRAY_EDITS = {"lstm": lstm_array_edits, "gru": gru_array_edits, "rnn": rnn_array_edits}
CASES = [(arch, bidi) for arch in ("rnn", "rnn_relu", "gru", "lstm") for bidi in (False, True)]


@pytest.mark.parametrize("arch, bidi", CASES)
def test_an_array_edit_is_the_list_of_its_single_value_edits_and_the_reference(arch, bidi):
    module, x = make(arch, 2, bidi), torch.randn(STEPS, 4)
    edits = ARRAY_EDITS[arch.split("_")[0]](2 if bidi else 1)
    expanded = [single for edit in edits for single in singles(edit)]
    tr = seqviz.trace(module, x, edits=edits)
    by_singles = seqviz.trace(module, x, edits=expanded)
    for name in by_singles:
        np.testing.assert_allclose(tr[name], by_singles[name], rtol=0, atol=1e-6, err_msg=name)
    with torch.no_grad():
        assert_equals_reference(tr, reference(module, x, expanded))
    first = edits[0]  # the arrays show the set values themselves
    target = "hidden" if isinstance(first, SetHidden) else first.target
    shown = tr[target][list(first.steps), first.layer, first.direction][:, list(first.units)]
    np.testing.assert_array_equal(shown, first.value_array().astype(np.float32))
    assert tr.meta.edits == tuple(e.describe() for e in edits)


@pytest.mark.parametrize("kw", [{"proj_size": 3}, {"bias": False}, {"dtype": torch.float64}])
def test_lstm_variants_take_arrays(kw):
    module = make("lstm", 2, True, **kw)
    x = torch.randn(STEPS, 4, dtype=kw.get("dtype", torch.float32))
    edits = [*lstm_array_edits(2)[:4], SetHidden(1, [2, 0], range(3, 30), grid(-1, 1, range(27), [0, 1], 13))]
    tr = seqviz.trace(module, x, edits=edits)
    with torch.no_grad():
        assert_equals_reference(tr, reference(module, x, [s for e in edits for s in singles(e)]))


def test_later_edits_of_the_same_units_win_in_the_kernel_too():
    """Two hidden edits and two clamps of one unit over the same long run: the later one is carried."""
    for arch in ("lstm", "gru", "rnn"):
        module, x = make(arch, 1, False), torch.randn(STEPS, 4)
        edits = [
            SetHidden(0, [1, 2], range(5, 40), [0.9, -0.9]),
            SetHidden(0, [2, 3], range(5, 40), grid(-1, 1, range(35), [0, 1], 14)),
            SetHidden(0, [3], range(5, 40), 0.1),
        ]
        if arch != "rnn":
            gate = "forget_gate" if arch == "lstm" else "update_gate"
            edits += [
                ClampGate(gate, 0, [0], range(5, 40), grid(0, 1, range(35), [0], 15)),
                ClampGate(gate, 0, [0], range(5, 40), 0.5),
            ]
        tr = seqviz.trace(module, x, edits=edits)
        with torch.no_grad():
            assert_equals_reference(tr, reference(module, x, [s for e in edits for s in singles(e)]))


def test_runs_of_values_that_differ_by_step_go_through_the_kernel():
    """The fast path: a long run of an array edit is one kernel segment (after a set h's first step,
    which runs apart), not forty steps one at a time; values the kernel cannot make run step by step."""
    fits = [SetCell(0, [1, 2], range(STEPS), grid(-1, 1, range(STEPS), [0, 1], 16))]
    at = plan_edits(fits, torch.float32)[(0, 0)]
    assert [k for k, _ in _segments(at, STEPS, False, "LSTM")] == ["clamped"]
    hidden = plan_edits([SetHidden(0, [1], range(STEPS), grid(-1, 1, range(STEPS), [0], 17))], torch.float32)
    assert [k for k, _ in _segments(hidden[(0, 0)], STEPS, True, "GRU")] == ["steps", "clamped"]
    beyond = plan_edits([SetCell(0, [1], range(STEPS), grid(1.5, 2, range(STEPS), [0], 18))], torch.float32)
    assert [k for k, _ in _segments(beyond[(0, 0)], STEPS, False, "LSTM")] == ["steps"]


@pytest.mark.parametrize("arch, bidi", [("lstm", False), ("gru", True), ("rnn", False)])
def test_gradients_with_an_array_edit_are_those_of_its_single_value_edits(arch, bidi):
    module, x = make(arch, 2, bidi), torch.randn(STEPS, 4)
    edits = ARRAY_EDITS[arch](2 if bidi else 1)
    expanded = [single for edit in edits for single in singles(edit)]
    tr = seqviz.trace(module, x, edits=edits, gradients=True)
    by_singles = seqviz.trace(module, x, edits=expanded, gradients=True)
    np.testing.assert_allclose(
        tr["input_gradient_norm"], by_singles["input_gradient_norm"], rtol=1e-6, atol=1e-30
    )
