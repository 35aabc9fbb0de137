"""Checks of whole storage plans: aggregation, licence, mixing, Q-D, prospective; properties."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.depots.aggregation import aggregate
from coalition.depots.mixing import MixEntry, pair
from coalition.depots.rulebook import load_rulebook
from coalition.depots.rules import check_network, check_prospective
from coalition.depots.schemas import StockLine

from .conftest import tiny

GROUPS = list("ABCDEFGHJKLNS")


def test_compliant_small_store_and_qd_violation_named() -> None:
    ok = check_network(tiny([{"storehouse": "S1", "lot": "he-1", "quantity": 100}]))  # 1 t HD 1.1
    assert ok.compliant, ok.errors
    # 40 t: IBD 22.2*34.1995 = 759.2 → 760 m > 600 m to the house
    bad = check_network(tiny([{"storehouse": "S1", "lot": "he-1", "quantity": 4000}]))
    qd = [f for f in bad.errors if f.rule == "qd.IBD"]
    assert len(qd) == 1 and qd[0].other == "house" and qd[0].required_m == 760 and qd[0].actual_m == 600


def test_every_failing_mixing_pair_is_reported() -> None:
    net = tiny([{"storehouse": "S1", "lot": f"{x}-1", "quantity": 1} for x in ("he", "wp", "toxic", "fuze")])
    pairs = {tuple(sorted(f.message.split(":")[0].split(" with "))) for f in check_network(net).errors
             if f.rule == "mixing"}
    # D-H, D-K, H-K, B-H, B-K fail; B-D fails (fn1 not asserted) → 6 pairs
    assert len(pairs) == 6


def test_footnote_needs_assertion_in_plan() -> None:
    stock = [{"storehouse": "S1", "lot": "frag-1", "quantity": 10}, {"storehouse": "S1", "lot": "fuze-1", "quantity": 10}]
    assert any(f.rule == "mixing" for f in check_network(tiny(stock)).errors)
    asserted = tiny(stock, assertions=[{"footnote": "fn1", "storehouse": "S1", "items": ["frag", "fuze"],
                                        "note": "fuzes with own rounds"}])
    assert not any(f.rule == "mixing" for f in check_network(asserted).errors)
    # the assertion covers the items it names only: a fuze assertion for another storehouse does not count
    elsewhere = tiny(stock, assertions=[{"footnote": "fn1", "storehouse": "S2", "items": ["frag", "fuze"]}])
    assert any(f.rule == "mixing" for f in check_network(elsewhere).errors)


def test_licence_after_aggregation_and_unlicensed_hd() -> None:
    shs = [{"id": "S1", "kind": "earth-covered", "x": 0, "y": 0, "licensed_neq_kg": {"1.1": 1000, "1.4": 10}}]
    stock = [{"storehouse": "S1", "lot": "he-1", "quantity": 60}, {"storehouse": "S1", "lot": "frag-1", "quantity": 100}]
    rep = check_network(tiny(stock, storehouses=shs))
    lic = sorted((f.hd, f.neq_kg, f.limit_kg) for f in rep.errors if f.rule == "licence")
    # 600 + 500 as HD 1.1 over the 1.1 limit, AND the 500 kg of HD 1.2 against its own (absent) limit
    assert lic == [("1.1", 1100, 1000), ("1.2", 500, 0.0)]
    only12 = check_network(tiny([{"storehouse": "S1", "lot": "frag-1", "quantity": 10}], storehouses=shs))
    assert any("does not permit HD 1.2" in f.message for f in only12.errors)


def test_capacity_is_checked() -> None:
    shs = [{"id": "S1", "kind": "container", "x": 0, "y": 0, "capacity_pallets": 2, "licensed_neq_kg": {"1.4": 500}}]
    rep = check_network(tiny([{"storehouse": "S1", "lot": "sa-1", "quantity": 101}], storehouses=shs))
    assert [f.rule for f in rep.errors] == ["capacity"]


def test_unverified_defaults_are_named() -> None:
    rep = check_network(tiny([{"storehouse": "S1", "lot": "he-1", "quantity": 100}]))
    s1 = next(r for r in rep.storehouses if r.storehouse == "S1")
    assert "iatg.1.1.frag" in s1.unverified  # the fragment envelope default is [U]
    assert "iatg.1.1.IBD" in s1.unverified  # and V-S2 values are flagged too: nothing is primary-verified
    book = load_rulebook()
    assert all(book.record(u.split(" ")[0]) is not None for u in s1.unverified)


def test_embedded_depots_check(network) -> None:  # type: ignore[no-untyped-def]
    rep = check_network(network)
    assert len(rep.storehouses) == sum(len(d.storehouses) for d in network.depots)
    # the Jasionka transit shed is deliberately too close to the railway (documented in the data)
    assert [(f.storehouse, f.rule, f.other) for f in rep.errors] == [("JAS-AG1", "qd.PTRD", "JAS-RAIL")]


def test_check_prospective_refuses_and_accepts(network) -> None:  # type: ignore[no-untyped-def]
    depot = network.depot("DEP-VIN")
    stock = network.stock_of(depot)
    ok = check_prospective("VIN-ECM4", depot, stock, [StockLine(storehouse="VIN-ECM4", lot="VIN-155-A01", quantity=100)],
                           catalogue=network.catalogue)
    assert not [f for f in ok if f.is_error]
    wp = check_prospective("VIN-ECM1", depot, stock, [StockLine(storehouse="VIN-ECM1", lot="VIN-FZ-C01", quantity=10)],
                           catalogue=network.catalogue)
    assert any(f.rule == "mixing" for f in wp)
    too_much = check_prospective("VIN-ECM1", depot, stock,
                                 [StockLine(storehouse="VIN-ECM1", lot="VIN-155-A01", quantity=2000)],
                                 catalogue=network.catalogue)
    assert any(f.rule == "licence" for f in too_much)
    leaving = check_prospective("VIN-ECM1", depot, stock, [],
                                leaving=[StockLine(storehouse="VIN-ECM1", lot="VIN-155-A01", quantity=900)],
                                catalogue=network.catalogue)
    assert any("would leave" in f.message for f in leaving)
    unknown = check_prospective("VIN-ECM1", depot, stock, [StockLine(storehouse="VIN-ECM1", lot="NOPE", quantity=1)],
                                catalogue=network.catalogue)
    assert any(f.rule == "reference" and "NOPE" in f.message for f in unknown)


# ---- properties ------------------------------------------------------------------------------

entries = st.builds(MixEntry, st.sampled_from(GROUPS), st.sampled_from([None, "1.1", "1.2", "1.4"]),
                    st.sampled_from([None, "x", "y"]))
footnotes = st.frozensets(st.sampled_from(["fn1", "fn2", "fn3", "fn4"]))


@given(entries, entries, footnotes)
def test_mixing_is_symmetric(a: MixEntry, b: MixEntry, fns: frozenset[str]) -> None:
    assert pair(a, b, fns).allowed == pair(b, a, fns).allowed


def test_mixing_table_symmetric_every_cell() -> None:
    book = load_rulebook()
    for table in book.mixing_tables.values():
        cells = table["cells"]
        assert all(cells[(a, b)] == cells[(b, a)] for a in GROUPS for b in GROUPS)


lots = st.sampled_from(["he-1", "frag-1", "prop-1", "fuze-1", "sa-1", "wp-1"])
lines = st.lists(st.tuples(st.sampled_from(["S1", "S2", "S3"]), lots, st.integers(1, 3000)), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(lines, lines)
def test_adding_stock_never_makes_a_violating_store_compliant(base: list, extra: list) -> None:  # type: ignore[type-arg]
    def stock(rows: list) -> list[dict]:  # type: ignore[type-arg]
        return [{"storehouse": s, "lot": lot, "quantity": q} for s, lot, q in rows]

    before = {r.storehouse: r.compliant for r in check_network(tiny(stock(base))).storehouses}
    after = {r.storehouse: r.compliant for r in check_network(tiny(stock(base + extra))).storehouses}
    for sid, ok in before.items():
        if not ok:
            assert not after[sid], sid


@given(st.dictionaries(st.sampled_from(["1.1", "1.2", "1.3", "1.4", "1.4S", "1.5", "1.6"]),
                       st.floats(0, 1e6), min_size=1), st.booleans())
def test_aggregation_never_loses_counted_neq(neq: dict[str, float], underground: bool) -> None:
    agg = aggregate(neq, underground=underground)
    counted = sum(v for k, v in neq.items() if k not in ("1.4", "1.4S"))
    if counted > 0:
        assert abs(agg.qd_neq - counted) <= 1e-6 * max(counted, 1)


def test_us_desr_depot_uses_its_own_values_and_flags_borrowed() -> None:
    net = tiny([{"storehouse": "S1", "lot": "he-1", "quantity": 100}], profile="us-desr")
    rep = check_network(net)
    s1 = next(r for r in rep.storehouses if r.storehouse == "S1")
    assert s1.tightest is not None
    assert any("borrowed" in u for u in s1.unverified)  # e.g. IMD values come from iatg
    assert rep.compliant


def test_no_licence_recorded_is_unlicensed() -> None:
    shs = [{"id": "S1", "kind": "earth-covered", "x": 0, "y": 0}]
    rep = check_network(tiny([{"storehouse": "S1", "lot": "he-1", "quantity": 1}], storehouses=shs))
    assert not rep.compliant
    assert any(f.rule == "licence" and f.is_error and "unlicensed" in f.message for f in rep.findings)
    assert check_network(tiny([], storehouses=shs)).compliant  # an empty unlicensed storehouse breaks nothing


@settings(max_examples=40, deadline=None)
@given(st.floats(30, 3000), st.floats(30, 3000), st.sampled_from(["earth-covered", "above-ground", "container"]))
def test_filling_to_computed_licence_passes_and_one_more_kg_fails(d_house: float, d_road: float, kind: str) -> None:
    from coalition.depots.licence import compute_licences

    shs = [{"id": "S1", "kind": kind, "x": 0, "y": 0, "capacity_pallets": 10**6}]
    exposed = [{"id": "house", "kind": "inhabited-building", "points": [[d_house, 0]]},
               {"id": "road", "kind": "public-traffic-route", "points": [[0, -d_road]]}]
    empty = tiny([], storehouses=shs, exposed=exposed)
    q_max = compute_licences(empty.depots[0])[0].lines["1.1"].q_max_kg
    units = int(q_max // 10)  # he-1 is 10 kg per unit
    if units >= 1:
        full = tiny([{"storehouse": "S1", "lot": "he-1", "quantity": units}], storehouses=shs, exposed=exposed)
        assert not [f for f in check_network(full).errors if f.rule.startswith("qd.")]
    over = tiny([{"storehouse": "S1", "lot": "he-1", "quantity": units + 2}], storehouses=shs, exposed=exposed)
    assert [f for f in check_network(over).errors if f.rule.startswith("qd.")]


def test_depot_without_exposed_sites_is_not_certified() -> None:
    rep = check_network(tiny([{"storehouse": "S1", "lot": "he-1", "quantity": 1}], exposed=[]))
    assert any(f.rule == "survey" and f.is_error and "not certified" in f.message for f in rep.findings)
