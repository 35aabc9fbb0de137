"""The custody ledger goes through the one depot safety gate: receipts, transfers, returns and
corrections (real SQLite/PostgreSQL, real signatures; the sample depot LV-D1 of the scenario)."""

from __future__ import annotations

import pytest
from ledger.conftest import keys_dir, ledger, migrated_sqlite  # noqa: F401  (fixtures)
from ledger.ledger_helpers import Ledger, ev, manifest

from coalition.errors import ConflictError

SH1 = "UA-LVIV/LV-D1/SH-1"


def _lot_manifest(name: str, lots: list[dict]) -> object:
    return ev("manifest", "GBR", {"manifest": name, "origin": "GBR-HOME", "destination": SH1, "receiver": "FRA",
                                   "lots": lots})


def _receive(ledger: Ledger, name: str, lot: str, qty: int, where: str = SH1) -> None:
    ledger.append(ev("receipt", "FRA", {"manifest": name, "location": where, "lots": [{"lot": lot, "quantity": qty}]}))


def test_explosives_at_hub_or_depot_level_need_a_storehouse(ledger: Ledger) -> None:  # noqa: F811
    ledger.append(manifest(lot_qty=10, serials=0), ev("dispatch", "GBR", {"manifest": "M1"}))
    for where in ("UA-LVIV", "UA-LVIV/LV-D1"):
        with pytest.raises(ConflictError, match="storehouse"):
            _receive(ledger, "M1", "M1-L155", 10, where)
    _receive(ledger, "M1", "M1-L155", 10)  # into SH-1: fine


def test_unknown_classification_missing_neq_and_mismatch_are_refused(ledger: Ledger) -> None:  # noqa: F811
    ledger.append(
        _lot_manifest("M1", [{"lot": "X-1", "item_type": "MYSTERY", "quantity": 5}]),
        _lot_manifest("M2", [{"lot": "X-2", "item_type": "MYSTERY", "quantity": 5, "hazard": "1.1D"}]),
        _lot_manifest("M3", [{"lot": "X-3", "item_type": "155-HE", "quantity": 5, "hazard": "1.2E", "neq_kg": 10}]),
        *(ev("dispatch", "GBR", {"manifest": m}) for m in ("M1", "M2", "M3")))
    with pytest.raises(ConflictError, match="classification unknown"):
        _receive(ledger, "M1", "X-1", 5)
    with pytest.raises(ConflictError, match="NEQ per unit is missing"):
        _receive(ledger, "M2", "X-2", 5)
    with pytest.raises(ConflictError, match="classifies item '155-HE' as 1.1D"):
        _receive(ledger, "M3", "X-3", 5)


def test_a_correction_that_would_overfill_a_storehouse_is_refused(ledger: Ledger) -> None:  # noqa: F811
    # SH-1 holds 12 t, 10 t are issued, another 13.5 t arrive (15.5 t: within the 20 t licence and
    # the 200 pallets); reversing the issue would put the 10 t back: 25.5 t, over the licence
    ledger.append(manifest("M1", lot_qty=1200, serials=0), ev("dispatch", "GBR", {"manifest": "M1"}))
    _receive(ledger, "M1", "M1-L155", 1200)
    issued = ledger.append(ev("issue", "FRA", {"lots": [{"lot": "M1-L155", "quantity": 1000, "at": SH1}],
                                               "end_user": "UA 1 Bde", "reference": "ISS-1"}))
    ledger.append(manifest("M2", lot_qty=1350, serials=0), ev("dispatch", "GBR", {"manifest": "M2"}))
    _receive(ledger, "M2", "M2-L155", 1350)
    with pytest.raises(ConflictError, match="correction .* refused by the depot safety rules.*20,000"):
        ledger.append(ev("correction", "FRA", {"reverses": issued.first_seq, "reason": "keyed twice"}))


def test_a_ledger_suspension_is_the_depot_surveillance_status(ledger: Ledger) -> None:  # noqa: F811
    from datetime import date

    from coalition.depots.schemas import DepotNetwork
    from coalition.depots.surveillance import surveillance
    from coalition.inventory.safety import ledger_suspensions

    ledger.append(manifest(lot_qty=10, serials=0), ev("dispatch", "GBR", {"manifest": "M1"}))
    _receive(ledger, "M1", "M1-L155", 10)
    ledger.append(ev("suspension", "GBR", {"lot": "M1-L155", "reason": "fuze defect"}))
    with ledger.session() as s:
        suspended = ledger_suspensions(s)
    assert suspended == {"M1-L155": "fuze defect"}
    net = DepotNetwork.model_validate({
        "items": [{"id": "155-HE", "name": "155", "code": "1.1D", "neq_kg": 10, "gross_kg": 45}],
        "lots": [{"id": "M1-L155", "item": "155-HE", "next_due": "2030-01-01", "expires": "2040-01-01"}],
        "depots": [{"id": "LV-D1", "name": "d", "hub": "UA-LVIV", "storehouses": [{"id": "SH-1", "kind": "container", "x": 0, "y": 0}]}],
        "stock": [{"storehouse": "SH-1", "lot": "M1-L155", "quantity": 10}]})
    rep = surveillance(net.depots, net.stock, net.catalogue, today=date(2027, 1, 1), ledger_suspensions=suspended)
    assert [(s.lot, s.findings) for s in rep.action] == [("M1-L155", ("suspended",))]
