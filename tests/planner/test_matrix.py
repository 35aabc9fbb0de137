"""coalition.planner.matrix: the Model container's assembly, the day-exact event rows, the
range expansion and the tour bound per unit."""

from __future__ import annotations

import numpy as np
import pytest

from coalition.planner.matrix import DAY_KEY, Model, _event_rows, _expand, _start_columns, max_tours_per_unit
from coalition.planner.model import build_model
from coalition.planner.schemas import PlanOptions
from coalition.planner.tables import build_tables

from .factory import pledge, requirement, scenario

OPTS = PlanOptions(period_days=28, time_limit=10)


def tables(**kw):  # type: ignore[no-untyped-def]
    sc = scenario(
        pledges=kw.pop("pledges", [pledge("P1", units=2)]),
        requirements=kw.pop("requirements", [requirement("L1", qty=1)]),
        **kw,
    )
    return build_tables(sc, "opt", active_from={p.id: 0 for p in sc.pledges}, options=OPTS)


def test_blocks_are_laid_end_to_end_and_duplicates_are_summed() -> None:
    m = Model(tables=tables(), options=OPTS)
    a = m.add_variables("a", np.zeros(2), np.full(2, 5.0), integer=True, cost=np.array([1.0, 2.0]))
    b = m.add_variables("b", np.zeros(3), np.ones(3), integer=False)
    assert (a.start, a.stop, b.start, b.stop, m.n_cols) == (0, 2, 2, 5, 5)
    r1 = m.add_constraints(
        "r1", np.array([0, 0]), np.array([0, 0]), np.array([1.0, 2.0]), np.array([-np.inf]), np.array([4.0])
    )
    r2 = m.add_constraints(
        "r2", np.array([0, 1]), np.array([2, 4]), np.array([1.0, 1.0]), np.zeros(2), np.ones(2), keys=np.array([7, 9])
    )
    assert (r1.start, r2.start, r2.stop, m.n_rows) == (0, 1, 3, 3)
    m.finalize()
    assert m.A is not None and m.A.shape == (3, 5)
    assert m.A[0, 0] == 3.0  # the two entries of (0, 0) are one coefficient
    assert m.A[1, 2] == 1.0 and m.A[2, 4] == 1.0 and m.nnz == 3
    assert m.integer is not None and m.integer.tolist() == [True, True, False, False, False]
    assert m.cost is not None and m.cost.tolist() == [1.0, 2.0, 0.0, 0.0, 0.0]
    assert m.row_key[1].tolist() == [7, 9] and m.row_key[0].tolist() == [0]
    assert [m.block_of_row(i) for i in range(3)] == ["r1", "r2", "r2"]
    with pytest.raises(IndexError):
        m.block_of_row(3)
    assert m.var("absent").size == 0 and m.con("absent").size == 0


def test_an_empty_model_finalizes_to_an_empty_matrix() -> None:
    m = Model(tables=tables(), options=OPTS)
    m.add_variables("a", np.zeros(1), np.ones(1), integer=False)
    m.finalize()
    assert m.A is not None and m.A.shape == (0, 1) and m.nnz == 0
    assert m.lo is not None and m.lo.size == 0


def test_expand_lists_every_period_of_each_range_and_skips_empty_ones() -> None:
    idx, per = _expand(np.array([2, 5, 0]), np.array([4, 4, 0]))  # the middle range is empty
    assert idx.tolist() == [0, 0, 0, 2] and per.tolist() == [2, 3, 4, 0]
    idx, per = _expand(np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert idx.size == per.size == 0


def test_event_rows_are_one_per_distinct_start_day_per_group() -> None:
    """Intervals [0,10], [5,6], [8,20] in group 1 and [5,5] in group 2: rows at days 0, 5, 8
    of group 1 and day 5 of group 2; each interval is in the rows of the start days it holds."""
    group = np.array([1, 1, 1, 2])
    ev, j, r = _event_rows(group, np.array([0, 5, 8, 5]), np.array([10, 6, 20, 5]))
    assert ev.tolist() == [DAY_KEY + 0, DAY_KEY + 5, DAY_KEY + 8, 2 * DAY_KEY + 5]
    member = sorted(zip(j.tolist(), r.tolist(), strict=True))
    assert member == [(0, 0), (0, 1), (0, 2), (1, 1), (2, 2), (3, 3)]
    # exact at day level: the largest per-day load of each group is the largest row sum
    load = np.bincount(r, minlength=ev.size)
    assert load.tolist() == [1, 2, 2, 1]


def test_tours_per_unit_are_bounded_by_periods_and_recovery() -> None:
    sc_tb = tables(pledges=[pledge("quick", recovery=0), pledge("slow", recovery=30)], horizon=56)
    most = dict(zip(sc_tb.pledge_id, max_tours_per_unit(sc_tb).tolist(), strict=True))
    assert most["quick"] == sc_tb.n_periods  # one per period at most
    assert most["slow"] == 2  # days 0 and 31 within 56 days
    assert max_tours_per_unit(tables(pledges=[pledge("x", recovery=1000)])).tolist() == [1.0]


def test_start_columns_respect_readiness_and_the_line_window() -> None:
    """A pledge with 10 days' notice on a 2-day corridor arrives on day 12 at the earliest: no
    column arrives before, every one is there by the end of its start period and ends inside
    the line window; each later departure delay is a copy, later by that many days."""
    tb = tables(pledges=[pledge("P1", notice=10)], requirements=[requirement("L1", start=0, end=55)])
    cols = _start_columns(tb)
    assert cols["arc"].size > 0
    assert (cols["arrival"] >= 12).all()
    assert (cols["arrival"] - cols["departure"] == 2).all()
    assert (cols["tour_end"] <= 55).all() and (cols["late"] >= 0).all()
    assert (cols["arrival"] <= (cols["start"] + 1) * tb.period_days - 1).all()
    delayed = _start_columns(tb, (0, 3))
    assert delayed["arc"].size <= 2 * cols["arc"].size
    assert set(delayed["arrival"].tolist()) - set(cols["arrival"].tolist()) <= {a + 3 for a in cols["arrival"]}


def test_a_built_model_names_its_blocks_and_its_column_metadata_matches() -> None:
    m = build_model(tables(), OPTS)
    xb = m.var("Assign-count")
    assert xb.size == m.x_arc.size == m.x_start.size > 0
    assert m.A is not None and m.A.shape == (m.n_rows, m.n_cols)
    assert all(b.size >= 0 for b in m.con_blocks.values())
    ends = sorted((b.start, b.stop) for b in m.con_blocks.values())
    assert all(a[1] == b[0] for a, b in zip(ends, ends[1:], strict=False))  # no gap, no overlap
