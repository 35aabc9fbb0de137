"""The custody actions of a signed-in principal (coalition.ledger.custody), on a real database
with real signatures: a nation signs only as itself, the requester of a transfer cannot approve
it, HQ cannot append, a placement is recorded once, and a reconciliation shows a nation only
lines about its own items."""

from __future__ import annotations

import pytest

from coalition.auth.schemas import Principal, Role
from coalition.errors import ConflictError, PermissionDeniedError
from coalition.inventory.safety import depot_safety
from coalition.ledger import custody
from coalition.ledger.batches import NationSigner, Needed, SignaturesNeeded
from coalition.ledger.sample import ledger_network
from ledger.conftest import keys_dir, ledger  # noqa: F401  (fixtures)
from ledger.ledger_helpers import Ledger, ev, manifest


def who(name: str, nation: str, role: Role = Role.DEPOT_OFFICER) -> Principal:
    return Principal(user_id=None, name=name, nation=nation, roles=frozenset({role}))


def signing(ledger: Ledger, s: object) -> custody.Signing:  # noqa: F811
    return custody.Signing(keyring=ledger.keyring, trust=ledger.trust,
                           safety=depot_safety(s, ledger_network(None)))  # type: ignore[arg-type]


def test_a_nation_signer_never_signs_for_another_nation(ledger: Ledger) -> None:  # noqa: F811
    signer = NationSigner(ledger.keyring, "FRA")
    mine = Needed(0, "counterparty", "FRA", "FRA-k1", b"statement")
    theirs = Needed(0, "counterparty", "GBR", "GBR-k1", b"statement")
    assert signer.sign(mine) is not None
    assert signer.sign(theirs) is None
    assert signer.sign(Needed(0, "actor", "GBR", "GBR-k1", b"x")) is None


def test_a_handover_to_another_nation_still_needs_its_signature(ledger: Ledger) -> None:  # noqa: F811
    ledger.append(manifest("M1", "GBR", serials=1, lot_qty=0), ev("dispatch", "GBR", {"manifest": "M1"}))
    with ledger.session() as s, pytest.raises(SignaturesNeeded, match="GBR"):
        custody.append_as(s, who("fra-1", "FRA"), [{"type": "receipt", "payload": {
            "manifest": "M1", "location": "UA-LVIV/LV-D1/SH-1", "serials": ["GBR-S0"]}}], signing(ledger, s))


def test_the_requester_cannot_approve_and_hq_cannot_append(ledger: Ledger) -> None:  # noqa: F811
    ledger.append(manifest("M1", "FRA", serials=1, lot_qty=0, prefix="FRA-S"),
                  ev("dispatch", "FRA", {"manifest": "M1"}),
                  ev("receipt", "FRA", {"manifest": "M1", "location": "UA-LVIV/LV-D1/SH-1", "serials": ["FRA-S0"]}))
    with ledger.session() as s:
        t = custody.request_transfer(s, who("fra-1", "FRA"), {"serials": ["FRA-S0"],
                                                               "to": "UA-LVIV/LV-D1/SH-2"})
        assert custody.may_approve(who("fra-1", "FRA"), t) is False
        assert custody.may_approve(who("fra-2", "FRA"), t) is True
        assert custody.may_approve(who("gbr-1", "GBR"), t) is False
        with pytest.raises(PermissionDeniedError, match="separation of duties"):
            custody.approve_transfer(s, who("fra-1", "FRA"), t.id, signing(ledger, s))
        with pytest.raises(ConflictError, match="second officer"):
            custody.append_as(s, who("fra-1", "FRA"), [{"type": "transfer", "payload": t.payload}],
                              signing(ledger, s))
        t2, _before, result = custody.approve_transfer(s, who("fra-2", "FRA"), t.id, signing(ledger, s))
        assert t2.status == "approved" and t2.seq == result.first_seq
        with pytest.raises(ConflictError, match="is approved"):
            custody.approve_transfer(s, who("fra-3", "FRA"), t.id, signing(ledger, s))
    with pytest.raises(ConflictError, match="HQ accounts cannot"):
        custody.require_appender(who("hq", "HQ"), {"manifest"})


def test_a_placement_is_recorded_once(ledger: Ledger) -> None:  # noqa: F811
    from coalition.depots.schemas import StockLine

    net = ledger_network(None)
    depot = net.depot("DEP-VIN")
    lot = net.lots[0]
    lines = [StockLine(storehouse="VIN-ECM3", lot=lot.id, quantity=2)]
    gbr = who("gbr-1", "GBR")
    with ledger.session() as s:
        res, subs = custody.receive_placement(s, gbr, depot=depot, catalogue=net.catalogue, lines=lines,
                                              manifest="M-PL-1", origin="GBR-HOME", signing=signing(ledger, s))
        assert [x.type for x in subs] == ["manifest", "dispatch", "receipt"] and res.count == 3
        assert custody.manifest_events(s, "M-PL-1") == [res.first_seq, res.first_seq + 1, res.last_seq]
    with ledger.session() as s, pytest.raises(ConflictError, match="already in the custody ledger"):
        custody.receive_placement(s, gbr, depot=depot, catalogue=net.catalogue, lines=lines,
                                  manifest="M-PL-1", origin="GBR-HOME", signing=signing(ledger, s))


def test_a_reconciliation_shows_a_nation_only_its_own_items(ledger: Ledger) -> None:  # noqa: F811
    from coalition.ledger.reports import Count

    ledger.append(manifest("M1", "GBR", serials=2, lot_qty=0), ev("dispatch", "GBR", {"manifest": "M1"}),
                  ev("receipt", "FRA", {"manifest": "M1", "location": "UA-LVIV/LV-D1/SH-1",
                                        "serials": ["GBR-S0", "GBR-S1"]}),
                  manifest("M2", "DEU", serials=1, lot_qty=0, prefix="DEU-S"),
                  ev("dispatch", "DEU", {"manifest": "M2"}),
                  ev("receipt", "FRA", {"manifest": "M2", "location": "UA-LVIV/LV-D1/SH-1", "serials": ["DEU-S0"]}))
    counts = [Count("UA-LVIV/LV-D1/SH-1", serial="GBR-S0"), Count("UA-LVIV/LV-D1/SH-1", serial="NOT-THERE")]
    with ledger.session() as s:
        hq = custody.visible_reconciliation(s, who("hq", "HQ", Role.INSPECTOR), counts, counter="POL")
        assert {x.ref for x in hq.lines} == {"GBR-S0", "GBR-S1", "DEU-S0", "NOT-THERE"}
        gbr = custody.visible_reconciliation(s, who("g", "GBR"), counts, counter="POL")
        assert {(x.ref, x.finding) for x in gbr.lines} == {("GBR-S0", "ok"), ("GBR-S1", "missing")}
        assert gbr.withheld == []  # Britain did not count: nothing of others is named to it
        pol = custody.visible_reconciliation(s, who("p", "POL"), counts, counter="POL")
        assert pol.lines == [] and pol.withheld == ["GBR-S0", "NOT-THERE"]  # what it typed, no figures
