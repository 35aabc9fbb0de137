"""coalition.depots.queries: whose a depot is, who sees it, and its licence picture."""

from __future__ import annotations

from coalition.auth.rules import Marking
from coalition.auth.schemas import HQ, Principal, Role
from coalition.depots.queries import depot_marking, depot_nation, depot_status, visible_depots
from coalition.scenario.rules import ScenarioState
from coalition.scenario.service import load_scenario

SC = load_scenario()


def who(nation: str, *roles: Role) -> Principal:
    return Principal(user_id=None, name=nation.lower(), nation=nation, roles=frozenset(roles or {Role.VIEWER}))


def test_a_depot_belongs_to_its_hubs_lead_else_host_else_the_rear_nodes_country() -> None:
    depot = SC.depots.depots[0]
    hub = SC.hub(depot.hub)
    assert hub is not None
    assert depot_nation(SC, depot) == (hub.lead_nation or hub.host_nation)
    unled = SC.model_copy(update={"hubs": tuple(h.model_copy(update={"lead_nation": None}) for h in SC.hubs)})
    assert depot_nation(unled, depot) == hub.host_nation
    rear = SC.rear_nodes[0]
    assert depot_nation(SC, depot.model_copy(update={"hub": rear.id})) == rear.country
    assert depot_nation(SC, depot.model_copy(update={"hub": "NOWHERE"})) == HQ


def test_a_stored_marking_overrides_the_default_release_to_hq() -> None:
    depot = SC.depots.depots[0]
    owner = depot_nation(SC, depot)
    plain = ScenarioState(scenario=SC)
    assert depot_marking(plain, depot) == Marking(origin=owner, releasable_to=(HQ,))
    other = next(n.code for n in SC.nations if n.code != owner)
    released = ScenarioState(
        scenario=SC, markings={("depot", depot.id): Marking(origin=owner, releasable_to=(HQ, other))}
    )
    assert depot not in visible_depots(who(other), plain)
    assert depot in visible_depots(who(other), released)
    assert depot in visible_depots(who(owner), plain)
    assert visible_depots(who(HQ, Role.ADMIN), plain) == list(SC.depots.depots)


def test_the_status_rows_are_neq_against_licence_per_storehouse_and_class() -> None:
    depot = SC.depots.depots[0]
    status = depot_status(SC, depot)
    assert (status["id"], status["hub"]) == (depot.id, depot.hub)
    assert {r["storehouse"] for r in status["rows"]} == {s.id for s in depot.storehouses}
    for r in status["rows"]:
        if r["limit"]:
            assert r["pct"] == round(100 * r["neq"] / r["limit"]) and r["over"] == (r["neq"] > r["limit"])
            assert 0 <= r["bar"] <= 160


def test_stock_over_a_licence_is_flagged_over_and_a_violation() -> None:
    from coalition.depots.schemas import StockLine

    # a storehouse licensed for 1.1 (the embedded scenario must have one: no silent skip)
    depot, house = next(
        (d, h) for d in SC.depots.depots for h in d.storehouses if (h.licensed_neq_kg or {}).get("1.1")
    )
    item = next(i for i in SC.depots.catalogue.items if i.code.startswith("1.1"))
    lot = next(lt for lt in SC.depots.catalogue.lots if lt.item == item.id)
    limit = (house.licensed_neq_kg or {})["1.1"]
    units = int(limit / item.neq_kg) + 10
    stock = [StockLine(storehouse=house.id, lot=lot.id, quantity=units)]
    status = depot_status(SC, depot, stock=stock)
    row = next(r for r in status["rows"] if r["storehouse"] == house.id and r["hd"] == "1.1")
    assert row["over"] is True and row["pct"] > 100 and row["bar"] == min(160, round(1.6 * row["pct"]))
    assert status["violations"]
