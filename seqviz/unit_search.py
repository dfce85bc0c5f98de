"""Find the units that matter (docs/trace.md, "Finding units"):

    select_units(trace, steps, *, array="hidden", layer=-1, direction=0, top=10)   on here, off elsewhere
    match_steps(trace, units, *, threshold=None)                                   where else they are on
    match_texts(model, texts, units, *, min_fraction=1.0)                          ... in other texts
    rank_difference(trace_a, trace_b, step_a, step_b=None, *, top=10)              differ most at a step
    copy_values(source, units, steps, *, array="hidden")                           edits: source's values

The implementation: seqviz.core.unit_search.
"""

from seqviz.core.unit_search import (
    TextMatch,
    UnitDifference,
    UnitScore,
    copy_values,
    match_steps,
    match_texts,
    rank_difference,
    searchable_arrays,
    select_units,
    unit_values,
)

__all__ = [
    "TextMatch",
    "UnitDifference",
    "UnitScore",
    "copy_values",
    "match_steps",
    "match_texts",
    "rank_difference",
    "searchable_arrays",
    "select_units",
    "unit_values",
]
