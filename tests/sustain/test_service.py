"""The sustainment front door: Class V on hand from a real custody inventory (SQLite and
PostgreSQL), and the report on the embedded scenario."""

from __future__ import annotations

from pathlib import Path

from coalition.ledger import service as ledger_service
from coalition.ledger.keys import KeyRing
from coalition.ledger.sample import SAMPLE_NATIONS, ledger_network, load_sample
from coalition.scenario.schemas import SupplyClass
from coalition.scenario.service import load_scenario
from coalition.store.db import make_engine, session_factory, transaction
from coalition.store.migrate import upgrade
from coalition.sustain.service import build_report, inventory_on_hand
from coalition.sustain.demand import PlanView
from tests.sustain.builders import ul


def test_class_v_on_hand_comes_from_the_custody_inventory(db_url: str, tmp_path: Path) -> None:
    sc = load_scenario()
    sc = sc.model_copy(update={"depots": ledger_network(sc.depots)})  # the catalogue the ledger checks against
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        factory = session_factory(engine)
        keyring = KeyRing.generate(tmp_path / "keys", SAMPLE_NATIONS)
        with transaction(factory) as s:
            ledger_service.register_keys(s, keyring=keyring)
            load_sample(s, keyring=keyring, safety=None)
        with factory() as s:
            on_hand, unknown = inventory_on_hand(s, sc)
            from coalition.inventory.service import inventory_summary

            rows = [r for r in inventory_summary(s, by=("hub", "item_type")) if r["kind"] == "lot" and r["hub"]]
    finally:
        engine.dispose()
    assert rows, "the sample history leaves lots in stock at a hub"
    items = sc.depots.catalogue.item_by_id
    expected: dict[str, float] = {}
    for r in rows:
        expected[r["hub"]] = expected.get(r["hub"], 0.0) + r["quantity"] * items[r["item_type"]].gross_kg
    assert not unknown
    assert {h: oh.quantity for (h, c), oh in on_hand.items() if c is SupplyClass.V} == expected
    assert all(oh.source == "inventory" for oh in on_hand.values())
    # and the report uses it for that hub's Class V, over the scenario's own record
    hub = next(h for h in expected if sc.hub(h) is not None)
    rep = build_report(sc, PlanView("paris-2026", "small", 30, (ul("u", "inf_bn", hub, 0, 9, 850),)), on_hand=on_hand)
    (line,) = [s for s in rep.stock if s.hub == hub and s.supply_class is SupplyClass.V]
    assert line.on_hand.source == "inventory" and line.on_hand.quantity == expected[hub]
