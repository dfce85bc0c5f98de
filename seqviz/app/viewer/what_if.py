"""What-if edits in the app, without Qt: the list of edits a run is traced with, in the app's words.

The edits themselves are the core's (`seqviz.edits`: ClampGate, SetHidden, SetCell, ScaleRecurrent,
AblateHead); the Session holds the current model's list (`Session.edits`) and traces with it. Here:

- `describe(edit)`: one line as the panels number things: layers, heads and steps from 1 (the core's
  `edit.describe()` counts from 0, as the arrays do); units from 0, as the heatmaps show them.
- `added`, `removed`, `with_scale`: a new list from an old one (a list is a tuple, never changed).
- `fit_to_length`: a list made for a text of one length, for a text of another (a new text, or one
  generated token more): an edit that runs to the last step keeps running to the last step, unless its
  values differ by step (B's values copied "from here on": there are none for the new steps).
- `to_dict` / `from_dict`: an edit as a small JSON object, for scene files.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

from seqviz.core.edits import AblateHead, ScaleRecurrent
from seqviz.core.edits_values import ClampGate, SetCell, SetHidden, is_value_edit, spans, value_text

KINDS = {cls.__name__: cls for cls in (ClampGate, SetHidden, SetCell, ScaleRecurrent, AblateHead)}
ATTENTION_WORDS = {"self": "", "cross": "cross-attention ", "encoder": "encoder "}


class EditProblem(ValueError):
    """An edit that cannot be used (not an edit, or it does not fit the model); one line for a person."""


def check_edit(edit: object) -> None:
    """EditProblem unless `edit` is one of seqviz.edits' edits."""
    if type(edit).__name__ not in KINDS or not isinstance(edit, tuple(KINDS.values())):
        raise EditProblem(f"{edit!r} is not an edit; seqviz.edits has {', '.join(KINDS)}")


# descriptions -------------------------------------------------------------------------------------
def describe(edit: object) -> str:
    """One short line, numbered as the panels show it, e.g. "forget gate of unit 3, layer 1 = 1 at
    steps 5–12"."""
    if isinstance(edit, ScaleRecurrent):
        where = "" if edit.layer is None else f" of layer {edit.layer + 1}"
        return f"W_hh{where} \u00d7 {edit.factor:g}"
    if isinstance(edit, AblateHead):
        return f"{ATTENTION_WORDS[edit.attention]}head {edit.head + 1} of layer {edit.layer + 1} ablated"
    if is_value_edit(edit):
        what = {"hidden": "h", "cell": "cell c"}.get(edit.target, edit.target.replace("_", " "))
        units = f"unit{'s' if len(edit.units) > 1 else ''} {spans(edit.units)}"
        way = " (backward)" if edit.direction else ""
        steps = [s + 1 for s in edit.steps]
        at = f"step{'s' if len(steps) > 1 else ''} {spans(steps)}"
        return f"{what} of {units}, layer {edit.layer + 1}{way} = {value_text(edit)} at {at}"
    return str(edit)


def describe_all(edits: Iterable[object]) -> tuple[str, ...]:
    return tuple(describe(edit) for edit in edits)


# lists --------------------------------------------------------------------------------------------
def added(edits: tuple, edit: object) -> tuple:
    """`edits` with `edit` at the end (an equal edit already there moves to the end: it wins)."""
    check_edit(edit)
    return (*(e for e in edits if e != edit), edit)


def removed(edits: tuple, index: int) -> tuple:
    """`edits` without entry `index` (0-based); EditProblem naming the valid indices."""
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(edits):
        valid = "there are none" if not edits else f"0\u2013{len(edits) - 1}" if len(edits) > 1 else "0"
        raise EditProblem(f"no edit {index!r} to remove (indices: {valid})")
    return edits[:index] + edits[index + 1 :]


def scale_of(edits: Iterable[object]) -> float:
    """The factor of the list's whole-model ScaleRecurrent (1.0 without one): the W_hh option."""
    return next((e.factor for e in edits if isinstance(e, ScaleRecurrent) and e.layer is None), 1.0)


def with_scale(edits: tuple, factor: float) -> tuple:
    """`edits` with its whole-model ScaleRecurrent set to `factor` (removed at 1), in its place."""
    scale = ScaleRecurrent(float(factor)) if not math.isclose(factor, 1.0) else None
    out, placed = [], False
    for edit in edits:
        if isinstance(edit, ScaleRecurrent) and edit.layer is None:
            if scale is not None and not placed:
                out.append(scale)
            placed = True
        else:
            out.append(edit)
    if scale is not None and not placed:
        out.append(scale)
    return tuple(out)


def fit_to_length(edits: tuple, made_for: int | None, steps: int) -> tuple[tuple, tuple[str, ...]]:
    """(edits, dropped) for a text of `steps` steps, the edits having been made for `made_for` steps.

    A forward value edit whose steps reach the last step of its text goes on to the new last step
    ("from here" stays "to the end" as text is typed or generated) with the same value(s), unless its
    values differ by step (an array of B's values has none for new steps: it is only cut). Steps
    beyond the new text are cut, with their rows of values, and an edit with none left is dropped
    (its description is in `dropped`). Other edits stay."""
    out, dropped = [], []
    for edit in edits:
        if not is_value_edit(edit):
            out.append(edit)
            continue
        kept = [s for s in edit.steps if s < steps]  # a prefix: steps are sorted
        runs_to_end = made_for is not None and edit.direction == 0 and edit.steps[-1] == made_for - 1
        if runs_to_end and steps > made_for and not edit.per_step:
            kept += range(made_for, steps)
        if not kept:
            dropped.append(describe(edit))
        elif tuple(kept) == edit.steps:
            out.append(edit)
        else:
            value = edit.value[: len(kept)] if edit.per_step else edit.value
            out.append(dataclasses.replace(edit, steps=kept, value=value))
    return tuple(out), tuple(dropped)


# scene files --------------------------------------------------------------------------------------
def to_dict(edit: object) -> dict:
    """{"kind": "ClampGate", "gate": "forget_gate", "layer": 0, "units": [3], "steps": [4, 5], ...}:
    the edit's own fields, 0-based as in seqviz.edits; an array value is a list of rows."""
    check_edit(edit)
    data: dict = {"kind": type(edit).__name__}
    for f in dataclasses.fields(edit):
        data[f.name] = _json_value(getattr(edit, f.name))
    return data


def _json_value(value: object) -> object:
    """Tuples (nested too) as lists."""
    return [_json_value(v) for v in value] if isinstance(value, tuple) else value


def from_dict(data: object) -> object:
    """The edit a `to_dict` object describes; EditProblem (one line) for anything else."""
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        kind = data.get("kind") if isinstance(data, dict) else None
        raise EditProblem(f'an edit needs a "kind" of {", ".join(KINDS)}, not {kind!r}')
    cls = KINDS[data["kind"]]
    names = [f.name for f in dataclasses.fields(cls)]
    fields = {k: v for k, v in data.items() if k != "kind"}
    unknown = sorted(set(fields) - set(names))
    if unknown:
        raise EditProblem(
            f"{cls.__name__} has no field {', '.join(unknown)} (its fields: {', '.join(names)})"
        )
    if cls is ScaleRecurrent:
        _check_scale(fields)
    try:
        return cls(**fields)
    except (TypeError, ValueError) as exc:
        raise EditProblem(f"{cls.__name__}: {exc}") from None


def _check_scale(fields: dict) -> None:
    """ScaleRecurrent checks nothing itself: a factor must be a finite number, a layer an index."""
    factor, layer = fields.get("factor"), fields.get("layer")
    number = isinstance(factor, int | float) and not isinstance(factor, bool)
    if not number or not math.isfinite(factor):
        raise EditProblem(f"ScaleRecurrent: factor must be a finite number, not {factor!r}")
    if layer is not None and (isinstance(layer, bool) or not isinstance(layer, int) or layer < 0):
        raise EditProblem(f"ScaleRecurrent: layer is a 0-based index or null, not {layer!r}")
