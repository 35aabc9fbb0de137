"""coalition.planner.blocks: each core block's rows and costs on a hand-checkable model."""

from __future__ import annotations

import numpy as np
import pytest

from coalition.planner.blocks import (
    define_corridor_constraints,
    define_hub_capacity_constraints,
    define_no_assign_variables,
    define_objective,
    define_shortfall_variables,
)
from coalition.planner.matrix import DAY_KEY, Model
from coalition.planner.model import build_model
from coalition.planner.schemas import PlanOptions
from coalition.planner.tables import build_tables

from .factory import corridor, hub, pledge, requirement, scenario

OPTS = PlanOptions(period_days=28, time_limit=10)


def model(sc, opts: PlanOptions = OPTS) -> Model:
    return build_model(build_tables(sc, "opt", active_from={p.id: 0 for p in sc.pledges}, options=opts), opts)


def rows_of(m: Model, name: str) -> range:
    b = m.con(name)
    return range(b.start, b.stop)


def test_line_cover_has_one_row_per_line_period_asking_the_quantity() -> None:
    m = model(scenario(pledges=[pledge("P1", units=3)], requirements=[requirement("L1", qty=3, end=55)]))
    r = rows_of(m, "Line-cover")
    assert len(r) == 2  # two 28-day periods
    assert m.lo is not None and (m.lo[r.start : r.stop] == 3).all()
    ub = m.var("Line-shortfall")
    A = m.A.tocsr()
    for k, row in enumerate(r):  # each row holds its own shortfall with coefficient 1
        assert A[row, ub.start + k] == 1.0


def test_hub_rows_cap_personnel_at_the_hubs_capacity_per_arrival_day() -> None:
    m = model(
        scenario(
            pledges=[pledge("P1", units=2, personnel=120)],
            requirements=[requirement("L1", qty=2)],
            hubs=[hub("H1", capacity=200)],
        )
    )
    r = rows_of(m, "Hub-personnel-capacity")
    assert len(r) > 0 and m.hi is not None and (m.hi[r.start : r.stop] == 200).all()
    xb = m.var("Assign-count")
    A = m.A.tocsr()[r.start : r.stop, xb.start : xb.stop]
    assert set(A.data.tolist()) == {120.0}
    keys = m.row_key[list(m.con_blocks).index("Hub-personnel-capacity")]
    assert set(keys[:, 1].tolist()) <= set(m.x_arrival.tolist())  # one row per possible arrival day


def test_corridor_rows_count_the_outbound_day_and_the_return_day() -> None:
    """A 40-day tour ending inside the horizon returns through the corridor: a column of the
    unit appears in a row on its departure day and another on the day after its tour end."""
    m = model(
        scenario(
            pledges=[pledge("P1", tour=40)],
            requirements=[requirement("L1", end=55)],
            corridors=[corridor("C1", personnel=500)],
        )
    )
    name = "Corridor-personnel-capacity"
    r = rows_of(m, name)
    keys = m.row_key[list(m.con_blocks).index(name)]
    xb = m.var("Assign-count")
    A = m.A.tocsc()
    j = 0
    days = {int(keys[i - r.start][1]) for i in A[:, xb.start + j].indices if i in r}
    assert days == {int(m.x_departure[j]), int(m.x_tour_end[j]) + 1}
    assert m.hi is not None and (m.hi[r.start : r.stop] == 500).all()


def test_rotation_budget_rows_exist_only_where_the_budget_can_bind() -> None:
    free = model(scenario(pledges=[pledge("P1", units=1)], requirements=[requirement("L1")]))
    assert m_size(free, "Pledge-rotation-budget") == 0
    tight = model(
        scenario(pledges=[pledge("P1", units=2, tour=28, rotations=1)], requirements=[requirement("L1", qty=1)])
    )
    r = rows_of(tight, "Pledge-rotation-budget")
    assert len(r) == 1 and tight.hi is not None and tight.hi[r.start] == 2.0  # 1 rotation x 2 units


def m_size(m: Model, name: str) -> int:
    return m.con(name).size


def test_objective_prices_shortfall_days_lateness_distance_and_cohesion() -> None:
    sc = scenario(
        pledges=[pledge("P1", notice=5), pledge("P2", nation_code="FRA")],
        requirements=[requirement("L1", priority="essential")],
        hubs=[hub("H1", lead="FRA")],
    )
    m = model(sc)
    w = OPTS.weights
    tb = m.tables
    assert m.cost is not None
    ub = m.var("Line-shortfall")
    prio = tb.line_prio_w[m.u_line]
    assert m.cost[ub.start : ub.stop] == pytest.approx(w.shortfall * prio * m.u_days)
    xb = m.var("Assign-count")
    km = tb.corridor_distance[tb.arc_corridor[m.x_arc]]
    assert m.cost[xb.start : xb.stop] == pytest.approx(
        w.lateness * tb.line_prio_w[tb.arc_line[m.x_arc]] * m.x_late + w.distance * km
    )
    bb = m.var("Hub-nation-present")
    nations = [tb.nations[n] for n in m.b_nation]
    cost = dict(zip(nations, m.cost[bb.start : bb.stop].tolist(), strict=True))
    assert cost == {"FRA": 0.0, "GBR": w.cohesion}  # the lead nation is free at its hub


def test_without_cohesion_there_is_no_presence_variable() -> None:
    m = model(
        scenario(pledges=[pledge("P1")], requirements=[requirement("L1")]), OPTS.model_copy(update={"cohesion": False})
    )
    assert m.var("Hub-nation-present").size == 0 and m.con("Hub-nation-link").size == 0


def test_blocks_on_an_empty_assignment_add_no_rows() -> None:
    sc = scenario(pledges=[pledge("P1")], requirements=[requirement("L1")])
    tb = build_tables(sc, "opt", active_from={"P1": 0}, options=OPTS)
    m = Model(tables=tb, options=OPTS)
    define_no_assign_variables(m)
    define_shortfall_variables(m)
    define_hub_capacity_constraints(m)
    define_corridor_constraints(m)
    define_objective(m)
    assert m.n_rows == 0 and m.var("Assign-count").size == 0
    assert np.concatenate(m.cost_parts).size == m.n_cols == m.var("Line-shortfall").size
    assert tb.horizon_days < DAY_KEY
