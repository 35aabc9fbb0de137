"""Monotone safety, missing data and validity ranges as properties (issue 9, "Deliver" 1-3).

Random stock over every HD pair and triple, with and without heavy-case items, in every storehouse
kind, next to exposed sites of every type: adding explosives never shortens a required distance,
never turns a failing check into a passing one, never widens a licence or placement headroom, and
the mixed storehouse always needs at least what each HD alone would need.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coalition.depots.licence import compute_licences
from coalition.depots.placement import first_fit, place
from coalition.depots.placement_state import Incoming, _prepare
from coalition.depots.rulebook import load_rulebook
from coalition.depots.rules import check_depot, required_distances
from coalition.depots.schemas import DepotNetwork, StockLine, StorehouseKind

BOOK = load_rulebook()
KINDS = [k.value for k in StorehouseKind]
#: one item per HD class (the HD 1.4S lot is 1.4S), each with a heavy-case twin where it can matter
ITEMS = [
    ("i11", "1.1D"), ("i12", "1.2E"), ("i13", "1.3C"), ("i14", "1.4G"), ("i14s", "1.4S"), ("i15", "1.5D"), ("i16", "1.6N"),
]
HDS = [code for _, code in ITEMS]
LICENCE = {"1.1": 60_000, "1.2": 60_000, "1.3": 60_000, "1.4": 60_000}


def network(kind: str, stock: list[tuple[str, int]], *, licensed: bool = True, surveyed: bool = True,
            ecm_type: str = "3-bar") -> DepotNetwork:
    items = []
    for iid, code in ITEMS:
        for heavy in (False, True):
            items.append({"id": f"{iid}{'-h' if heavy else ''}", "name": iid, "code": code, "neq_kg": 5.0,
                          "gross_kg": 20.0, "units_per_pallet": 10, "heavy_case": heavy})
    sh = {"id": "S", "kind": kind, "x": 0, "y": 0, "orientation_deg": 0, "capacity_pallets": 10**6}
    if licensed:
        sh["licensed_neq_kg"] = LICENCE
    exposed = [
        {"id": "house", "kind": "inhabited-building", "points": [[0, 700]]},
        {"id": "area", "kind": "low-density-area", "points": [[-650, 0]]},
        {"id": "school", "kind": "vulnerable-building", "points": [[900, 900]]},
        {"id": "busy-road", "kind": "public-traffic-route", "points": [[-2000, -500], [2000, -500]]},
        {"id": "lane", "kind": "public-traffic-route", "density": "minor", "points": [[450, -2000], [450, 2000]]},
        {"id": "workshop", "kind": "process-building", "points": [[120, 40]]},
        {"id": "other-pes", "kind": "other-pes", "points": [[-90, -60]]},
    ] if surveyed else []
    return DepotNetwork.model_validate({
        "items": items,
        "lots": [{"id": f"L-{i['id']}", "item": i["id"]} for i in items],
        "depots": [{"id": "D", "name": "d", "hub": "H", "storehouses": [
            sh, {"id": "N", "kind": "earth-covered", "x": 0, "y": 60, "orientation_deg": 180, "ecm_type": ecm_type,
                 "capacity_pallets": 10**6, "licensed_neq_kg": LICENCE}],
            "exposed_sites": exposed}],
        "stock": [{"storehouse": "S", "lot": lot, "quantity": q} for lot, q in stock],
    })


def lot_of(code: str, heavy: bool) -> str:
    iid = next(i for i, c in ITEMS if c == code)
    return f"L-{iid}{'-h' if heavy else ''}"


combos = st.sampled_from([c for n in (2, 3) for c in itertools.combinations(HDS, n)])
stocks = combos.flatmap(lambda hds: st.tuples(*[
    st.tuples(st.just(hd), st.booleans(), st.integers(1, 4000)) for hd in hds]))
extras = st.lists(st.tuples(st.sampled_from(HDS), st.booleans(), st.integers(1, 4000)), min_size=1, max_size=3)


def as_lines(rows) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    return [(lot_of(hd, heavy), q) for hd, heavy, q in rows]


def error_keys(net: DepotNetwork) -> set[tuple]:  # type: ignore[type-arg]
    rep = check_depot(net.depots[0], net.stock, net.catalogue)
    out: set[tuple] = set()  # type: ignore[type-arg]
    for f in rep.errors:
        if f.storehouse not in (None, "S"):
            continue
        if f.rule.startswith("qd."):
            out.add((f.rule, f.other))
        elif f.rule == "licence":
            out.add((f.rule, f.hd))
        elif f.rule == "mixing":
            out.add((f.rule, f.message.split(":")[0]))
        else:
            out.add((f.rule,))
    return out


def required(net: DepotNetwork) -> np.ndarray:
    _, req = required_distances(net.depots[0], net.stock, net.catalogue)
    return req[0]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(KINDS), stocks, extras)
def test_adding_explosives_is_monotone_on_check_licence_and_placement(kind: str, base, extra) -> None:  # type: ignore[no-untyped-def]
    before = network(kind, as_lines(base))
    after = network(kind, as_lines(base) + as_lines(extra))
    # the check: no required distance shrinks, no failing rule starts to pass
    r0, r1 = required(before), required(after)
    assert np.all(r1 >= r0), (r0, r1)
    assert error_keys(before) <= error_keys(after)
    # each HD's own rule on its own NEQ (heavy-case included) is part of the mixed requirement
    for hd, heavy, q in base:
        alone = required(network(kind, [(lot_of(hd, heavy), q)]))
        assert np.all(r0 >= alone), (hd, heavy, q, r0, alone)
    # the licence depends on the layout only: identical whatever is stored
    lic0 = [line.q_max_kg for x in compute_licences(before.depots[0]) for line in x.lines.values()]
    lic1 = [line.q_max_kg for x in compute_licences(after.depots[0]) for line in x.lines.values()]
    assert lic0 == lic1
    # placement: the headroom of S for any lot never grows when more is stored there
    probes = [Incoming(lot_of(hd, heavy), 1) for hd in HDS for heavy in (False, True)]
    p0, _ = _prepare(before.depots[0], before.catalogue, before.stock, probes, BOOK)
    p1, _ = _prepare(after.depots[0], after.catalogue, after.stock, probes, BOOK)
    for lot0, lot1 in zip(p0.lots, p1.lots):
        assert p1.stores[0].max_units(lot1, 10**6) <= p0.stores[0].max_units(lot0, 10**6), lot0.id
    # and whatever placement proposes passes the check
    res = first_fit(p1)
    assert not [f for f in check_depot(after.depots[0], [*after.stock, *res.lines()], after.catalogue).errors
                if f.storehouse in {p.storehouse for p in res.placed} and f not in
                check_depot(after.depots[0], after.stock, after.catalogue).errors]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(KINDS), stocks)
def test_no_licence_is_a_violation_and_placement_puts_nothing_there(kind: str, base) -> None:  # type: ignore[no-untyped-def]
    net = network(kind, as_lines(base), licensed=False)
    assert ("licence", None) in error_keys(net) or any(k[0] == "licence" for k in error_keys(net))
    probe = [Incoming(lot_of(hd, heavy), 1) for hd, heavy, _ in base]
    res = place(net.depots[0], net.catalogue, [], probe, method="first-fit")
    assert not [p for p in res.placed if p.storehouse == "S"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(KINDS), stocks)
def test_unsurveyed_depot_is_never_certified_and_placement_refuses(kind: str, base) -> None:  # type: ignore[no-untyped-def]
    net = network(kind, as_lines(base), surveyed=False)
    assert ("survey",) in error_keys(net)
    res = place(net.depots[0], net.catalogue, [], [Incoming(lot_of(base[0][0], base[0][1]), 1)])
    assert res.placed == [] and {r.rule for r in res.refused} == {"survey"}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["1.1", "1.2", "1.3"]), st.sampled_from(["IBD", "PTRD", "PBD", "VBD", "IBD-LD", "IMD"]),
       st.sampled_from(["iatg", "us-desr"]), st.floats(1.0001, 50))
def test_beyond_the_validated_range_is_never_extrapolated(hd: str, relation: str, profile: str, factor: float) -> None:
    from coalition.depots.qd import required_distance, spec_rules_for

    sr = spec_rules_for(BOOK, profile, hd, relation)
    top = sr.upper_kg
    if top is None:
        return  # open-ended (e.g. DESR K50): nothing beyond
    req = required_distance(hd, top * factor, relation, profile=profile)
    assert math.isinf(req.required_m) and "outside the validated range" in req.notes[-1]
    inside = required_distance(hd, top, relation, profile=profile)
    assert math.isfinite(inside.required_m)
    # the licence inverse never goes beyond the range either
    assert float(sr.qmax(np.array([1e6]))[0]) <= top


def test_bd1_is_refused_above_120_t() -> None:
    import pytest

    from coalition.depots.qd import curve_distance
    from coalition.errors import InputError

    bd1 = BOOK.curves["iatg.curve.BD1"]
    assert curve_distance(bd1, 27_000) == pytest.approx(0.35 * 30)
    assert curve_distance(bd1, 64_000) == pytest.approx(0.44 * 40)
    with pytest.raises(InputError, match="validated range"):
        curve_distance(bd1, 120_001)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(30, 3000), st.sampled_from(KINDS), st.sampled_from(["1.1", "1.2", "1.3"]), st.booleans())
def test_filling_to_the_licence_passes_and_more_fails(d: float, kind: str, hd: str, heavy: bool) -> None:
    """The licence is the exact inverse of the check for each HD in isolation, heavy-case too."""
    net = network(kind, [])
    data = net.model_dump()
    data["depots"][0]["exposed_sites"] = [{"id": "house", "kind": "inhabited-building", "points": [[d, 0]]}]
    data["depots"][0]["storehouses"] = data["depots"][0]["storehouses"][:1]
    data["depots"][0]["storehouses"][0]["licensed_neq_kg"] = {"1.1": 1e9, "1.2": 1e9, "1.3": 1e9, "1.4": 1e9}
    net = DepotNetwork.model_validate(data)
    lic = compute_licences(net.depots[0])[0]
    line = (lic.heavy_case_1_1 if hd == "1.1" else lic.heavy_case_1_2 if hd == "1.2" else None) if heavy else None
    q_max = (line or lic.lines[hd]).q_max_kg
    lot = lot_of({"1.1": "1.1D", "1.2": "1.2E", "1.3": "1.3C"}[hd], heavy and hd != "1.3")
    units = int(q_max // 5) if math.isfinite(q_max) else 10**6
    qd = lambda n: [f for f in check_depot(net.depots[0], [StockLine(storehouse="S", lot=lot, quantity=n)],  # noqa: E731
                                           net.catalogue).errors if f.rule.startswith("qd.")]
    if units >= 1:
        assert not qd(min(units, 10**6))
    if math.isfinite(q_max):
        assert qd(units + 1) or (units + 1) * 5 <= q_max
