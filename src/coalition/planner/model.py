"""The planner's optimisation model, built in ONE function from tables (PyPSA/linopy style).

:func:`build_model` is a flat sequence ``define_*_variables`` -> ``define_*_constraints`` ->
``define_objective``. Each ``define_*`` selects its subset, returns early when it is empty and
adds a whole vectorised block with a stable name. The names below are the contract used by
tests, explanations and ``docs/planner/model.md``:

Variables
    ``Assign-count``        x[a,s]  integer units of arc a = (pledge, line, hub, corridor)
                                    starting a tour in period s
    ``Line-shortfall``      u[l,t]  continuous units of line l not covered in period t
    ``Pledge-start``        y[p,s]  units of pledge p starting a tour in period s
    ``Hub-nation-present``  b[h,n]  binary: nation n has units at hub h

Constraints
    ``Line-cover``                   coverage (soft through u) of every line in every period
    ``Hub-personnel-capacity``       personnel present at a hub, relief-in-place overlap included
    ``Corridor-personnel-capacity``  personnel departing through a corridor per period
    ``Corridor-tonnage-capacity``    tonnage departing through a corridor per period
    ``Pledge-start-def``             y = sum of x over the pledge's arcs
    ``Pledge-unit-cycle``            units on tour or in recovery never exceed the pledge's units
    ``Pledge-rotation-budget``       tours started never exceed sustainable rotations x units
    ``Hub-nation-link``              x > 0 at a hub forces b = 1 for the nation (cohesion)

Readiness (arrival >= C-day + activation + notice-to-move + transit), the pledge's availability
window and the line's window are enforced by *not generating* columns that break them (column
filter ``Arrival-readiness`` / ``Pledge-availability``), which keeps the model small.

Modules: :mod:`~coalition.planner.matrix` (the :class:`Model` container, the column set,
day-level event rows), :mod:`~coalition.planner.blocks` (the core ``define_*`` blocks and the
objective), :mod:`~coalition.planner.precedence` (``Precedence-*``), :mod:`~coalition.planner.
flowform` (the solver's stock-and-flow form). This module assembles them (:func:`build_model`)
and re-exports their public names.
"""

from __future__ import annotations

import numpy as np

from coalition.planner import sustainment
from coalition.planner.blocks import (
    define_assign_variables,
    define_cohesion_constraints,
    define_cohesion_variables,
    define_corridor_constraints,
    define_hub_capacity_constraints,
    define_line_cover_constraints,
    define_no_assign_variables,
    define_objective,
    define_pledge_constraints,
    define_pledge_start_variables,
    define_shortfall_variables,
)
from coalition.planner.flowform import FlowForm, flow_form, stock_values
from coalition.planner.matrix import (
    DAY_KEY,
    INF,
    Block,
    Model,
    _event_rows,
    _expand,
    _start_columns,
    max_tours_per_unit,
)
from coalition.planner.precedence import (
    PrecedenceIndex,
    define_precedence_constraints,
    define_precedence_variables,
    precedence_values,
)
from coalition.planner.schemas import PlanOptions
from coalition.planner.tables import PlanningTables

__all__ = [
    "DAY_KEY",
    "FAMILY_WORDS",
    "INF",
    "Block",
    "BuildOutOfTime",
    "FlowForm",
    "Model",
    "PrecedenceIndex",
    "build_model",
    "define_assign_variables",
    "define_cohesion_constraints",
    "define_cohesion_variables",
    "define_corridor_constraints",
    "define_hub_capacity_constraints",
    "define_line_cover_constraints",
    "define_no_assign_variables",
    "define_objective",
    "define_pledge_constraints",
    "define_pledge_start_variables",
    "define_precedence_constraints",
    "define_precedence_variables",
    "define_shortfall_variables",
    "flow_form",
    "max_tours_per_unit",
    "precedence_values",
    "stock_values",
    "_event_rows",
    "_expand",
    "_start_columns",
]


class BuildOutOfTime(Exception):
    """Building the model passed its deadline; ``step`` names the block it had finished last."""

    def __init__(self, step: str, seconds: float) -> None:
        super().__init__(f"the time limit ran out while building the model (after {step}, {seconds:.2f} s)")
        self.step = step
        self.seconds = seconds


def build_model(
    tables: PlanningTables,
    options: PlanOptions,
    *,
    deadline: float | None = None,
    assignments: bool = True,
    columns: np.ndarray | None = None,
) -> Model:
    """Assemble the whole planning MIP from tables, block by block.

    ``deadline`` (a ``time.perf_counter()`` value): checked after every block; past it,
    :class:`BuildOutOfTime` is raised (a half-built model is never returned). ``assignments =
    False`` builds the model without any ``Assign-count`` column (every line short): the plan
    the engine returns when there was no time to build the real model. ``columns`` (sorted
    indices into the full column set of :func:`_start_columns`) builds a *restricted* model on
    those Assign-count columns only: its plans are plans of the full model (every row of the
    full model that its columns touch is in it, day-exact), its bounds are not bounds of it."""
    import time

    m = Model(
        tables=tables,
        options=options,
        built=assignments,
        subset=None if columns is None else np.asarray(columns, dtype=np.int64),
    )
    t0 = time.perf_counter()
    steps = (
        define_assign_variables if assignments else define_no_assign_variables,
        define_shortfall_variables,
        define_pledge_start_variables,
        define_cohesion_variables,
        define_precedence_variables,
        define_line_cover_constraints,
        define_hub_capacity_constraints,
        define_corridor_constraints,
        define_pledge_constraints,
        define_cohesion_constraints,
        define_precedence_constraints,
        sustainment.define_blocks,  # issue 15: Medical-*, Resupply-* (planner/sustainment.py)
        define_objective,
    )
    for step in steps:
        step(m)
        if deadline is not None and time.perf_counter() > deadline:
            raise BuildOutOfTime(step.__name__, time.perf_counter() - t0)
    m.finalize()
    if deadline is not None and time.perf_counter() > deadline:
        raise BuildOutOfTime("finalize", time.perf_counter() - t0)
    return m


FAMILY_WORDS: dict[str, str] = {
    "Line-cover": "coverage of the line",
    "Hub-personnel-capacity": "hub personnel capacity",
    "Corridor-personnel-capacity": "corridor personnel throughput",
    "Corridor-tonnage-capacity": "corridor tonnage throughput",
    "Pledge-start-def": "pledge start bookkeeping",
    "Pledge-unit-cycle": "all the pledge's units are on tour or recovering (tour then recovery)",
    "Pledge-rotation-budget": "the pledge's sustainable rotations are used up",
    "Hub-nation-link": "cohesion link",
    "Precedence-before-count": "enablers-first bookkeeping (before units arrived by a day)",
    "Precedence-order": "enablers first: HQ, signals and medical arrive before the units they precede",
    "Precedence-presence": "enablers-first bookkeeping (a before unit comes at all)",
    **sustainment.WORDS,
}
