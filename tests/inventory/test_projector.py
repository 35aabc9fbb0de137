"""The projector on in-memory state: partial receipts, returns, losses of issued stock, counts."""

from __future__ import annotations

import pytest

from coalition.errors import ConflictError
from coalition.inventory import counts, receiving, transfers
from coalition.inventory.projector import HANDLERS, apply
from coalition.inventory.schemas import PAYLOADS, Location
from coalition.inventory.state import Event, State


def run(state: State, *events: tuple[str, str, dict]) -> list:
    out = []
    for i, (t, nation, payload) in enumerate(events):
        seq = 1 + max([0, *(s.last_seq for s in state.serials.values() if s)])
        ev = Event(seq + i, f"2026-03-{1 + i:02d}T10:00:00Z", nation, "p", t, PAYLOADS[t].model_validate(payload))
        out.append(apply(state, ev))
    return out


def shipped_state() -> State:
    st = State()
    run(st,
        ("manifest", "GBR", {"manifest": "M1", "origin": "GBR-HOME", "destination": "UA-LVIV/D1", "receiver": "FRA",
                             "serials": [{"serial": "S1", "item_type": "R"}, {"serial": "S2", "item_type": "R"}],
                             "lots": [{"lot": "L1", "item_type": "A", "quantity": 10}]}),
        ("dispatch", "GBR", {"manifest": "M1"}))
    return st


def test_partial_receipt_then_the_rest() -> None:
    st = shipped_state()
    first, = run(st, ("receipt", "FRA", {"manifest": "M1", "location": "UA-LVIV/D1", "serials": ["S1"],
                                         "lots": [{"lot": "L1", "quantity": 6}]}))
    assert first.counterparty == "GBR"
    assert st.manifests["M1"].status == "partially_received"
    assert {(d.ref, d.expected, d.found) for d in st.discrepancies} == {("S:S2", 1, 0), ("L:L1", 10, 6)}
    run(st, ("receipt", "FRA", {"manifest": "M1", "location": "UA-LVIV/D1", "serials": ["S2"],
                                "lots": [{"lot": "L1", "quantity": 4}]}))
    assert st.manifests["M1"].status == "received"
    held = {(s.lot, s.status): s.quantity for s in st.stocks.values() if s.quantity}
    assert held == {("L1", "serviceable"): 10}
    with pytest.raises(ConflictError, match="only a dispatched manifest"):
        run(st, ("receipt", "FRA", {"manifest": "M1", "location": "UA-LVIV/D1", "serials": ["S2"]}))


def test_issue_return_and_loss_of_issued_lot() -> None:
    st = shipped_state()
    run(st, ("receipt", "FRA", {"manifest": "M1", "location": "UA-LVIV/D1", "serials": ["S1", "S2"],
                                "lots": [{"lot": "L1", "quantity": 10}]}),
        ("issue", "FRA", {"serials": ["S1"], "lots": [{"lot": "L1", "quantity": 4, "at": "UA-LVIV/D1"}],
                          "end_user": "U1", "reference": "E1"}))
    ret, = run(st, ("return", "FRA", {"serials": ["S1"], "to": "UA-LVIV/D1"}))
    assert ret.counterparty == "UKR" and st.serials["S1"].status == "serviceable"
    with pytest.raises(ConflictError, match="nothing issued to 'U2'"):
        run(st, ("loss", "UKR", {"lots": [{"lot": "L1", "quantity": 1, "end_user": "U2"}], "kind": "stolen",
                                 "occurred_on": "2026-03-01"}))
    run(st, ("loss", "UKR", {"lots": [{"lot": "L1", "quantity": 3, "end_user": "U1"}], "kind": "stolen",
                             "occurred_on": "2026-03-01"}))
    q = {(s.status, s.end_user): s.quantity for s in st.stocks.values() if s.quantity}
    assert q == {("serviceable", ""): 6, ("issued", "U1"): 1, ("stolen", "U1"): 3}
    with pytest.raises(ConflictError, match="cannot take 2"):
        run(st, ("disposal", "UKR", {"lots": [{"lot": "L1", "quantity": 2, "end_user": "U1"}], "kind": "expended"}))


def test_count_finds_missing_and_unexpected() -> None:
    st = shipped_state()
    run(st, ("receipt", "FRA", {"manifest": "M1", "location": "UA-LVIV/D1/SH-1", "serials": ["S1", "S2"],
                                "lots": [{"lot": "L1", "quantity": 10}]}))
    before = len(st.discrepancies)
    run(st, ("count", "POL", {"location": "UA-LVIV/D1", "serials": ["S1", "S9"], "lots": [{"lot": "L1", "quantity": 12}]}))
    new = {(d.ref, d.reason) for d in st.discrepancies[before:]}
    assert new == {("S:S2", "not_found_at_count"), ("S:S9", "found_at_count"), ("L:L1", "count_over")}
    assert st.serials["S1"].last_counted_on is not None and st.serials["S2"].last_counted_on is None


def test_location_paths() -> None:
    loc = Location.parse(" UA-LVIV/D1/SH-1/ ")
    assert (loc.hub, loc.depot, loc.storehouse, loc.bay, loc.path) == ("UA-LVIV", "D1", "SH-1", "", "UA-LVIV/D1/SH-1")
    assert loc.within(Location.parse("UA-LVIV/D1")) and not loc.within(Location.parse("UA-LVIV/D2"))
    with pytest.raises(ValueError):
        Location.parse("a/b/c/d/e")


def test_bad_locations_are_payload_errors() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="at most 4"):
        PAYLOADS["transfer"].model_validate({"serials": ["S1"], "to": "a/b/c/d/e"})
    with pytest.raises(ValidationError, match="at most 4"):
        PAYLOADS["issue"].model_validate({"lots": [{"lot": "L1", "quantity": 1, "at": "a//b"}], "end_user": "U", "reference": "R"})


def test_every_event_type_but_correction_has_a_handler_in_its_family_module() -> None:
    families = {
        receiving: {"manifest", "dispatch", "receipt"},
        transfers: {"transfer", "issue", "return", "loss", "disposal", "suspension"},
        counts: {"count"},
    }
    assert set(HANDLERS) == set(PAYLOADS) - {"correction"}
    for module, types in families.items():
        for t in types:
            assert HANDLERS[t].__module__ == module.__name__, t
