"""Property tests against brute force: day by day, hub by hub, line by line."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from coalition.geo import haversine_km
from coalition.scenario.schemas import SupplyClass as C
from coalition.sustain.demand import hub_ranges
from coalition.sustain.factors import load_factors, resolve
from coalition.sustain.medical import medical_picture
from tests.sustain.builders import CAPS, HUBS, scenario, ul, view

T = 30
CAP_CODES = [c.code for c in CAPS]
line_st = st.tuples(st.sampled_from(CAP_CODES), st.sampled_from(["a", "b", "c"]), st.integers(-5, T + 3),
                    st.integers(0, 12), st.integers(1, 400))


def _plan(raw):  # type: ignore[no-untyped-def]
    return view(*[ul(f"u{i}", cap, hub, a, a + n, p) for i, (cap, hub, a, n, p) in enumerate(raw)], horizon=T)


@settings(max_examples=80, deadline=None)
@given(st.lists(line_st, min_size=1, max_size=10))
def test_demand_ranges_equal_the_day_by_day_sum(raw) -> None:  # type: ignore[no-untyped-def]
    sc, v, table = scenario(), _plan(raw), load_factors()
    ranges = hub_ranges(v, sc, table)
    for hub in ("a", "b", "c"):
        for d in range(T):
            here = [ln for ln in v.lines if ln.hub == hub and ln.arrival_day <= d <= ln.tour_end_day]
            got = [r for r in ranges if r.hub == hub and r.start_day <= d <= r.end_day]
            if not here:
                assert not got
                continue
            (r,) = got
            assert r.personnel == sum(ln.personnel for ln in here)
            for cls in (C.I, C.WATER, C.III_B):
                vals = [resolve(table, sc, ln.capability, cls).value for ln in here]
                want = None if any(x is None for x in vals) else sum(
                    ln.personnel * x for ln, x in zip(here, vals, strict=True))  # type: ignore[operator]
                assert (r.demand[cls].per_day is None) == (want is None)
                if want is not None:
                    assert r.demand[cls].per_day == pytest.approx(want)


def _brute(sc, v, hub: str, d: int, role: int) -> float | None:  # type: ignore[no-untyped-def]
    pos = {h.id: (h.lat, h.lon) for h in HUBS}
    med = {m.capability: m.role for m in sc.sustainment.medical_roles}
    base = {m.pledge: m.base for m in sc.sustainment.medevac}
    present = [ln for ln in v.lines if ln.arrival_day <= d <= ln.tour_end_day]
    helis = [base[ln.pledge] for ln in present if ln.capability == "heli"]
    best = math.inf
    for f in present:
        if med.get(f.capability, 0) < role:
            continue
        road = 0.0 if f.hub == hub else haversine_km(pos[hub], pos[f.hub]) / 60.0 * 60.0
        air = min((((haversine_km(pos[b], pos[hub]) + (0.0 if f.hub == hub else haversine_km(pos[hub], pos[f.hub])))
                    / 250.0 * 60.0) for b in helis), default=math.inf)
        best = min(best, road, air)
    return None if math.isinf(best) else best


@settings(max_examples=80, deadline=None)
@given(st.lists(line_st, min_size=1, max_size=10))
def test_medical_times_equal_brute_force_and_uncovered_is_exact(raw) -> None:  # type: ignore[no-untyped-def]
    sc, v = scenario(), _plan(raw)
    pic = medical_picture(v, sc)
    pers_days = ok2 = 0
    for hub in ("a", "b", "c"):
        for d in range(T):
            here = [ln for ln in v.lines if ln.hub == hub and ln.arrival_day <= d <= ln.tour_end_day]
            got = [r for r in pic.ranges if r.hub == hub and r.start_day <= d <= r.end_day]
            if not here:
                assert not got
                continue
            (r,) = got
            t = {k: _brute(sc, v, hub, d, k) for k in (1, 2, 3)}
            for k, mine in ((1, r.role1_minutes), (2, r.role2_minutes), (3, r.role3_minutes)):
                assert (mine is None) == (t[k] is None)
                if mine is not None:
                    assert mine == pytest.approx(t[k], abs=1e-6)
            ok = t[1] is not None and t[1] <= 60 and t[2] is not None and t[2] <= 120
            named = any(u.hub == hub and u.start_day <= d <= u.end_day for u in pic.uncovered)
            assert named == (not ok)
            p = sum(ln.personnel for ln in here)
            pers_days += p
            ok2 += p if t[2] is not None and t[2] <= 120 else 0
    if pers_days == 0:  # nobody inside the horizon: no share, not 100 %
        assert pic.share_within_2h is None and pic.share_within_1h is None
    else:
        assert pic.share_within_2h == pytest.approx(ok2 / pers_days)


@settings(max_examples=40, deadline=None)
@given(st.lists(line_st, min_size=1, max_size=8), st.sampled_from(["a", "b", "c"]), st.integers(0, T - 1))
def test_adding_a_facility_never_lengthens_a_time(raw, hub, day) -> None:  # type: ignore[no-untyped-def]
    sc = scenario()
    before = medical_picture(_plan(raw), sc)
    after = medical_picture(_plan([*raw, ("r2", hub, day, 5, 100)]), sc)
    for r in before.ranges:
        for d in range(r.start_day, r.end_day + 1):
            (q,) = [x for x in after.ranges if x.hub == r.hub and x.start_day <= d <= x.end_day]
            for a, b in ((r.role1_minutes, q.role1_minutes), (r.role2_minutes, q.role2_minutes)):
                assert a is None or (b is not None and b <= a + 1e-9)
