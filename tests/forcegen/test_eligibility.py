"""Eligibility of a pledge for a requirement line: one hand-checked case per rule."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.forcegen.eligibility import (
    Reason,
    arrival_day,
    candidate_hubs,
    decode,
    eligibility,
    eligibility_matrix,
    eligible_hubs,
)

from .builders import line, pledge, scenario

S = scenario()


def codes(excl) -> list[str]:
    return [e.code for e in excl]


def test_fits() -> None:
    assert eligibility(pledge(), line(), S) == []


def test_capability_mismatch() -> None:
    out = eligibility(pledge(capability="eng"), line(), S)
    assert codes(out) == ["capability"]
    assert "offers eng" in out[0].message and "needs inf_bn" in out[0].message


def test_caveat_country() -> None:
    out = eligibility(pledge(nation="DEU", caveats={"allowed_countries": ["POL", "ROU"]}), line(), S)
    assert codes(out) == ["caveat:country"]
    assert out[0].hub == "west"
    # the same pledge fits at the Polish hub
    assert eligibility(pledge(caveats={"allowed_countries": ["POL"]}), line(hub="pol"), S) == []


def test_caveat_region() -> None:
    p = pledge(caveats={"allowed_regions": ["west"]})
    assert eligibility(p, line(), S) == []
    assert codes(eligibility(p, line(hub="east"), S)) == ["caveat:region"]


def test_caveat_distance() -> None:
    p = pledge(caveats={"min_distance_km": 50})
    assert eligibility(p, line(), S) == []  # west is ~860 km away
    out = eligibility(p, line(hub="east"), S)  # east is ~37 km away
    assert codes(out) == ["caveat:distance"]
    assert "37 km" in out[0].message
    assert eligibility(pledge(caveats={"min_distance_km": 30}), line(hub="east"), S) == []


def test_caveat_buffer_applies_to_everyone() -> None:
    out = eligibility(pledge(), line(hub="front"), S)
    assert codes(out) == ["caveat:buffer"]
    # no buffer zone without a contact line
    assert eligibility(pledge(), line(hub="front"), scenario(contact_line=None)) == []


def test_caveat_role_case_insensitive() -> None:
    p = pledge(caveats={"excluded_roles": ["combat"]})
    assert codes(eligibility(p, line(role="Combat"), S)) == ["caveat:role"]
    assert eligibility(p, line(role="training"), S) == []
    assert eligibility(p, line(), S) == []  # a line without a role is never excluded by role


def test_readiness_notice_longer_than_line_allows() -> None:
    out = eligibility(pledge(notice_days=20), line(max_notice_days=15), S)
    assert codes(out) == ["readiness"]
    assert "exceeds" in out[0].message


def test_readiness_arrival_counts_transit() -> None:
    # west: transit 1 day. notice 29 + 1 = 30 <= start 30 fits; notice 30 + 1 = 31 does not.
    assert eligibility(pledge(notice_days=29), line(start_day=30), S) == []
    assert codes(eligibility(pledge(notice_days=30), line(start_day=30), S)) == ["readiness"]
    assert arrival_day(pledge(notice_days=30), "west", S) == 31
    # request issued 5 days before C-day
    assert eligibility(pledge(notice_days=30), line(start_day=30), S, request_day=-5) == []


def test_readiness_uses_preferred_rear_node() -> None:
    # into east: shortest corridor is 3 days (rze); from cta it is 5 days
    assert arrival_day(pledge(notice_days=10), "east", S) == 13
    assert arrival_day(pledge(notice_days=10, rear_node="cta"), "east", S) == 15
    # a rear node without a corridor to the hub falls back to the shortest
    assert arrival_day(pledge(notice_days=10, rear_node="cta"), "west", S) == 11
    # no corridor into the hub: no transit
    assert arrival_day(pledge(notice_days=10), "pol", S) == 10


def test_window() -> None:
    assert codes(eligibility(pledge(available_from_day=40), line(), S)) == ["window"]
    assert codes(eligibility(pledge(available_to_day=100), line(end_day=200), S)) == ["window"]
    assert eligibility(pledge(available_from_day=0, available_to_day=200), line(), S) == []


def test_all_reasons_reported_in_order() -> None:
    p = pledge(
        capability="eng",
        notice_days=100,
        available_from_day=50,
        caveats={
            "allowed_countries": ["POL"],
            "allowed_regions": ["podkarpackie"],
            "min_distance_km": 100,
            "excluded_roles": ["patrol"],
        },
    )
    out = eligibility(p, line(hub="front", role="patrol"), S)
    assert codes(out) == [
        "capability",
        "caveat:country",
        "caveat:region",
        "caveat:distance",
        "caveat:buffer",
        "caveat:role",
        "readiness",
        "window",
    ]


def test_region_line_any_hub_of_region() -> None:
    r = line(region="east")
    assert [h.id for h in candidate_hubs(r, S)] == ["east", "front"]
    # eligible at east (front is in the buffer zone)
    assert eligibility(pledge(), r, S) == []
    assert [h.id for h in eligible_hubs(pledge(), r, S)] == ["east"]
    # per-hub results on request
    assert codes(eligibility(pledge(), r, S, hub="front")) == ["caveat:buffer"]
    # nowhere in the region: common reasons once, place reasons per hub
    p = pledge(capability="eng", caveats={"min_distance_km": 50})
    out = eligibility(p, r, S)
    assert [(e.code, e.hub) for e in out] == [
        ("capability", None),
        ("caveat:distance", "east"),
        ("caveat:distance", "front"),
        ("caveat:buffer", "front"),
    ]


def test_region_without_hub() -> None:
    out = eligibility(pledge(), line(region="nowhere"), S)
    assert codes(out) == ["no-hub"]


def test_decode_order() -> None:
    assert decode(int(Reason.WINDOW | Reason.CAPABILITY | Reason.BUFFER)) == (
        "capability",
        "caveat:buffer",
        "window",
    )


def test_matrix_shape_and_columns() -> None:
    lines = [line("r1"), line("r2", region="east"), line("r3", region="nowhere")]
    ps = [pledge("a"), pledge("b", capability="eng")]
    m = eligibility_matrix(ps, lines, S)
    assert m.columns == (("r1", "west"), ("r2", "east"), ("r2", "front"))
    assert m.unplaced == ("r3",)
    assert m.ok.shape == (2, 3) and m.reasons.dtype == np.uint16
    assert m.ok[0].tolist() == [True, True, False]
    assert not m.ok[1].any()
    assert m.codes("a", "r2", "front") == ("caveat:buffer",)
    assert m.codes("b", "r1", "west") == ("capability",)


# -- property: the matrix agrees with the scalar function cell by cell --------------------------

pledges_st = st.builds(
    lambda i, cap, notice, frm, to, countries, regions, dist, roles, rear: pledge(
        f"p{i}",
        capability=cap,
        notice_days=notice,
        available_from_day=frm,
        available_to_day=None if to is None else frm + to,
        caveats={
            "allowed_countries": countries,
            "allowed_regions": regions,
            "min_distance_km": dist,
            "excluded_roles": roles,
        },
        rear_node=rear,
    ),
    st.integers(0, 999),
    st.sampled_from(["inf_bn", "eng"]),
    st.integers(0, 60),
    st.integers(-10, 60),
    st.one_of(st.none(), st.integers(0, 300)),
    st.lists(st.sampled_from(["UKR", "POL"]), max_size=2, unique=True),
    st.lists(st.sampled_from(["west", "east", "podkarpackie"]), max_size=2, unique=True),
    st.sampled_from([0, 10, 50, 900]),
    st.lists(st.sampled_from(["patrol", "training"]), max_size=1),
    st.sampled_from([None, "rze", "cta"]),
)
lines_st = st.builds(
    lambda i, cap, place, start, length, notice, role: line(
        f"r{i}",
        capability=cap,
        start_day=start,
        end_day=start + length,
        max_notice_days=notice,
        role=role,
        **({"hub": place} if place in {"west", "east", "front", "pol"} else {"region": place}),
    ),
    st.integers(0, 999),
    st.sampled_from(["inf_bn", "eng"]),
    st.sampled_from(["west", "east", "front", "pol", "east_region"]).map(
        lambda p: "east" if p == "east_region" else p
    ),
    st.integers(0, 90),
    st.integers(0, 300),
    st.integers(0, 60),
    st.sampled_from(["", "patrol", "training"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(pledges_st, min_size=1, max_size=4), st.lists(lines_st, min_size=1, max_size=4))
def test_matrix_agrees_with_scalar(ps, ls) -> None:
    ps = [p.model_copy(update={"id": f"p{k}"}) for k, p in enumerate(ps)]
    ls = [r.model_copy(update={"id": f"r{k}"}) for k, r in enumerate(ls)]
    m = eligibility_matrix(ps, ls, S)
    by_id = {r.id: r for r in ls}
    for i, p in enumerate(ps):
        for j, (rid, hub) in enumerate(m.columns):
            scalar = eligibility(p, by_id[rid], S, hub=hub)
            assert tuple(e.code for e in scalar) == decode(int(m.reasons[i, j]))
            assert m.ok[i, j] == (scalar == [])
