"""The lecture tasks by name: seeded synthetic data for small sequence models (nothing is downloaded).

Tasks (one module each): `long-range` (tasks_longrange), `sentiment` (tasks_sentiment), `pos`
(tasks_tagging), all built on tasks_base. `all_tasks()` maps their names to instances; `get_task(name)`
looks one up.
"""

from __future__ import annotations

from seqviz.demos.tasks_base import Task
from seqviz.demos.tasks_longrange import LongRangeTask
from seqviz.demos.tasks_sentiment import SentimentTask
from seqviz.demos.tasks_tagging import PosTask

_TASKS: dict[str, Task] = {t.name: t for t in (LongRangeTask(), SentimentTask(), PosTask())}


def all_tasks() -> dict[str, Task]:
    """Every lecture task by name."""
    return _TASKS


def get_task(name: str) -> Task:
    if name not in _TASKS:
        raise KeyError(f"unknown task {name!r}; expected one of {sorted(_TASKS)}")
    return _TASKS[name]
