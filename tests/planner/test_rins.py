"""coalition.planner.rins' neighbourhoods on a hand-checkable model (no solve): which columns
each RINS round fixes to the best plan, and how many rounds without improvement there are."""

from __future__ import annotations

import numpy as np

from coalition.planner.greedy import greedy_values
from coalition.planner.model import build_model
from coalition.planner.rins import _rins_fixed, _rins_rounds
from coalition.planner.schemas import PlanOptions
from coalition.planner.solver import _short_lines_columns, _Solve
from coalition.planner.tables import build_tables

from .factory import corridor, hub, pledge, requirement, scenario

OPTS = PlanOptions(period_days=28, time_limit=10)


def solve_state():  # type: ignore[no-untyped-def]
    """Two hubs in two regions; L1 at H1 can be filled, L2 at H2 wants more than is pledged."""
    sc = scenario(
        pledges=[pledge("P1", units=1), pledge("P2", units=1, nation_code="FRA")],
        requirements=[requirement("L1", hub_id="H1"), requirement("L2", qty=3, hub_id="H2")],
        hubs=[hub("H1", region="west"), hub("H2", region="east", lat=50.4, lon=30.5)],
        corridors=[corridor("C1", hub_id="H1"), corridor("C2", hub_id="H2")],
    )
    tb = build_tables(sc, "opt", active_from={p.id: 0 for p in sc.pledges}, options=OPTS)
    m = build_model(tb, OPTS)
    empty = np.zeros(0, dtype=np.int64)
    st = _Solve(
        model=m,
        options=OPTS,
        progress=None,
        should_stop=None,
        t0=0.0,
        deadline=1e9,
        lazy=empty,
        deferred=empty,
        active=empty,
        large=True,
        full_model=True,
    )
    st.best = greedy_values(m)
    return st


def test_round_0_fixes_where_an_integral_lp_agrees_with_the_best_plan() -> None:
    st = solve_state()
    xb = st.model.var("Assign-count")
    bx = st.best[xb.start : xb.stop]
    keep = np.ones(xb.size, dtype=bool)
    assert (_rins_fixed(st, keep, bx.copy()) == keep).all()  # the LP is the plan: everything agrees
    off = bx.copy() + 0.5  # fractional everywhere: nothing agrees
    assert not _rins_fixed(st, keep, off).any()
    flipped = np.where(bx > 0.5, 0.0, 1.0)  # integral but different everywhere
    assert not _rins_fixed(st, keep, flipped).any()
    some = keep.copy()
    some[0] = False
    assert not _rins_fixed(st, some, bx.copy())[0]  # outside the neighbourhood: never fixed


def test_round_1_frees_the_short_lines_and_later_rounds_one_region_each() -> None:
    st = solve_state()
    m = st.model
    xb = m.var("Assign-count")
    keep = np.ones(xb.size, dtype=bool)
    lp = st.best[xb.start : xb.stop].copy()
    short = _short_lines_columns(st)
    assert short.any() and not short.all()  # L2 is short, L1 is not
    st.rins_round = 1
    assert (_rins_fixed(st, keep, lp) == ~short).all()
    regions = sorted(set(m.tables.hub_region))
    hub_region = np.array(m.tables.hub_region)[m.tables.arc_hub[m.x_arc]]
    for r, region in enumerate(regions):
        st.rins_round = 2 + r
        fixed = _rins_fixed(st, keep, lp)
        assert not (fixed & (hub_region == region)).any() and not (fixed & short).any()
        assert (fixed == ((hub_region != region) & ~short)).all()
    assert _rins_rounds(st) == 2 + len(regions) == 4
