"""A receipt with a placement puts the received lots away into storehouses of the depot, each
storehouse through the safety gate with what it gets (real SQLite/PostgreSQL, real signatures,
the embedded scenario's depots); a receipt without one encodes exactly as before."""

from __future__ import annotations

import json

import pytest

from coalition.errors import ConflictError, InputError
from ledger.conftest import keys_dir, ledger, migrated_sqlite  # noqa: F401  (fixtures)
from ledger.ledger_helpers import Ledger, ev

VIN = "UA-VINNYTSIA/DEP-VIN"


def _shipped(ledger: Ledger, name: str, lots: list[dict], nation: str = "GBR") -> None:  # noqa: F811
    ledger.append(ev("manifest", nation, {"manifest": name, "origin": f"{nation}-HOME", "destination": VIN,
                                          "receiver": nation, "lots": lots}),
                  ev("dispatch", nation, {"manifest": name}))


def _held(ledger: Ledger, lot: str) -> dict[str, int]:  # noqa: F811
    from coalition.inventory.models import InvLotStock

    with ledger.session() as s:
        rows = s.query(InvLotStock).filter(InvLotStock.lot == lot, InvLotStock.quantity > 0).all()
        return {f"{r.status}@{r.location}": r.quantity for r in rows}


def test_a_lot_split_over_two_storehouses_is_held_in_both_without_a_discrepancy(ledger: Ledger) -> None:  # noqa: F811
    from coalition.inventory.service import discrepancies

    _shipped(ledger, "M-P1", [{"lot": "P1-155", "item_type": "155-HE", "quantity": 600, "neq_kg": 10.0,
                               "hazard": "1.1D"}])
    ledger.append(ev("receipt", "GBR", {"manifest": "M-P1", "location": VIN,
                                        "lots": [{"lot": "P1-155", "quantity": 600}],
                                        "placement": [{"lot": "P1-155", "quantity": 400, "storehouse": "VIN-ECM3"},
                                                      {"lot": "P1-155", "quantity": 200, "storehouse": "VIN-ECM4"}]}))
    assert _held(ledger, "P1-155") == {f"serviceable@{VIN}/VIN-ECM3": 400, f"serviceable@{VIN}/VIN-ECM4": 200}
    with ledger.session() as s:
        assert discrepancies(s) == []
    report = ledger.verify(rules=True, projection=True)
    assert report.ok, report.findings


def test_each_storehouse_is_checked_with_what_it_gets(ledger: Ledger) -> None:  # noqa: F811
    # the fuze container is licensed for HD 1.4 only: 155 mm HE (1.1D) put away there is refused,
    # although the other storehouse of the same receipt would take it
    _shipped(ledger, "M-P2", [{"lot": "P2-155", "item_type": "155-HE", "quantity": 100, "neq_kg": 10.0,
                               "hazard": "1.1D"}])
    with pytest.raises(ConflictError, match="VIN-CNT1 refused by the depot safety rules"):
        ledger.append(ev("receipt", "GBR", {"manifest": "M-P2", "location": VIN,
                                            "lots": [{"lot": "P2-155", "quantity": 100}],
                                            "placement": [
                                                {"lot": "P2-155", "quantity": 50, "storehouse": "VIN-ECM3"},
                                                {"lot": "P2-155", "quantity": 50, "storehouse": "VIN-CNT1"}]}))
    assert _held(ledger, "P2-155") == {"in_transit@GBR-HOME": 100}  # nothing was written


def test_a_placement_must_put_away_exactly_what_was_received(ledger: Ledger) -> None:  # noqa: F811
    with pytest.raises(InputError, match="received 100, placed 90"):
        ev("receipt", "GBR", {"manifest": "M", "location": VIN, "lots": [{"lot": "L", "quantity": 100}],
                              "placement": [{"lot": "L", "quantity": 90, "storehouse": "VIN-ECM3"}]})
    _shipped(ledger, "M-P3", [{"lot": "P3-155", "item_type": "155-HE", "quantity": 10, "neq_kg": 10.0,
                               "hazard": "1.1D"}])
    with pytest.raises(ConflictError, match="at a depot"):
        ledger.append(ev("receipt", "GBR", {"manifest": "M-P3", "location": f"{VIN}/VIN-ECM3",
                                            "lots": [{"lot": "P3-155", "quantity": 10}],
                                            "placement": [
                                                {"lot": "P3-155", "quantity": 10, "storehouse": "VIN-ECM3"}]}))


def test_a_receipt_without_placement_encodes_as_before() -> None:
    sub = ev("receipt", "FRA", {"manifest": "M", "location": "UA-LVIV/LV-D1/SH-1",
                                "lots": [{"lot": "L", "quantity": 1}]})
    dumped = sub.payload.model_dump(mode="json")
    assert "placement" not in dumped
    assert json.dumps(dumped, sort_keys=True) == json.dumps(
        {"lots": [{"lot": "L", "quantity": 1}], "location": "UA-LVIV/LV-D1/SH-1", "manifest": "M",
         "quarantine": [], "reasons": {}, "serials": []}, sort_keys=True)
