"""A blind count split per title nation: the same projected state as one whole-location count,
and a per-nation count can name nothing of another nation's (nor of items the ledger lacks)."""

from __future__ import annotations

import copy

import pytest

from coalition.errors import ConflictError
from coalition.inventory.counts import split_count
from coalition.inventory.projector import apply
from coalition.inventory.schemas import PAYLOADS, CountPayload
from coalition.inventory.state import Event, State

WHERE = "UA-LVIV/D1"


def _run(state: State, seq: int, t: str, nation: str, payload: dict | CountPayload) -> None:
    p = payload if isinstance(payload, CountPayload) else PAYLOADS[t].model_validate(payload)
    apply(state, Event(seq, "2026-03-10T10:00:00Z", nation, "p", t, p))


def _held(nation: str, serials: list[str], lot: str, qty: int, seq: int, st: State, dest: str = WHERE) -> int:
    m = f"M-{nation}-{lot}"
    _run(st, seq, "manifest", nation, {"manifest": m, "origin": "X", "destination": dest, "receiver": "FRA",
                                       "serials": [{"serial": x, "item_type": "R"} for x in serials],
                                       "lots": [{"lot": lot, "item_type": "A", "quantity": qty}]})
    _run(st, seq + 1, "dispatch", nation, {"manifest": m})
    _run(st, seq + 2, "receipt", "FRA", {"manifest": m, "location": f"{dest}/SH-1", "serials": serials,
                                         "lots": [{"lot": lot, "quantity": qty}]})
    return seq + 3


def two_nations() -> State:
    st = State()
    seq = _held("GBR", ["G1", "G2"], "GL", 10, 1, st)
    seq = _held("DEU", ["D1", "D2"], "DL", 5, seq, st)
    _held("ITA", ["I1"], "IL", 3, seq, st, dest="UA-LVIV/D2")  # held elsewhere
    return st


# counted: one GBR serial missing, an Italian serial found here, an unknown serial and lot,
# the GBR lot over, nothing of Germany's lot (short) and one German serial
COUNT = {"location": WHERE, "serials": ["G1", "D1", "I1", "X-UNKNOWN"],
         "lots": [{"lot": "GL", "quantity": 12}, {"lot": "ZZ", "quantity": 4}]}


def _effects(st: State, before: int) -> tuple[set[tuple], dict[str, str | None]]:
    found = {(d.ref, d.reason, d.expected, d.found, d.location, d.title_nation) for d in st.discrepancies[before:]}
    counted = {k: r.last_counted_on for k, r in st.serials.items() if r}
    counted |= {f"L:{k}": r.last_counted_on for k, r in st.lots.items() if r}
    return found, counted


def test_a_split_count_projects_the_same_as_one_whole_location_count() -> None:
    whole, split = two_nations(), two_nations()
    before = len(whole.discrepancies)
    _run(whole, 100, "count", "POL", COUNT)
    parts = split_count(split, CountPayload.model_validate(COUNT), stocktake=100)
    for i, part in enumerate(parts):
        _run(split, 100 + i, "count", "POL", part)
    assert _effects(split, before) == _effects(whole, before)
    assert _effects(whole, before)[0], "the count found differences (the comparison is not vacuous)"
    # one part per title nation concerned, the unknown items in their own part
    assert [p.title for p in parts] == ["DEU", "GBR", "ITA", "unrecorded"]
    assert {p.stocktake for p in parts} == {100}
    by = {p.title: p for p in parts}
    assert by["GBR"].serials == ["G1"] and [x.lot for x in by["GBR"].lots] == ["GL"]
    assert by["DEU"].serials == ["D1"] and by["DEU"].lots == []  # its lot is short: still its count
    assert by["unrecorded"].serials == ["X-UNKNOWN"] and [x.lot for x in by["unrecorded"].lots] == ["ZZ"]


def test_a_nation_whose_items_were_not_found_at_all_still_gets_its_count() -> None:
    st = two_nations()
    parts = split_count(st, CountPayload.model_validate({"location": WHERE, "serials": ["G1", "G2"]}), stocktake=7)
    assert [p.title for p in parts] == ["DEU", "GBR"]
    before = len(st.discrepancies)
    for i, part in enumerate(parts):
        _run(st, 7 + i, "count", "POL", part)
    missing = {d.ref for d in st.discrepancies[before:] if d.title_nation == "DEU"}
    assert missing == {"S:D1", "S:D2", "L:DL"}  # missing data is never permissive


def test_an_empty_location_still_records_one_count() -> None:
    parts = split_count(State(), CountPayload.model_validate({"location": "UA-KYIV/K9"}), stocktake=3)
    assert [(p.title, p.serials, p.lots) for p in parts] == [("unrecorded", [], [])]


def test_a_per_nation_count_cannot_carry_another_nations_item() -> None:
    st = two_nations()
    bad = CountPayload.model_validate({"location": WHERE, "serials": ["G1", "D1"], "title": "GBR", "stocktake": 1})
    with pytest.raises(ConflictError, match="D1.*DEU"):
        _run(st, 50, "count", "POL", bad)
    lot = CountPayload.model_validate({"location": WHERE, "lots": [{"lot": "DL", "quantity": 1}],
                                       "title": "GBR", "stocktake": 1})
    with pytest.raises(ConflictError, match="DL.*DEU"):
        _run(copy.deepcopy(st), 50, "count", "POL", lot)
    known = CountPayload.model_validate({"location": WHERE, "serials": ["G1"], "title": "unrecorded", "stocktake": 1})
    with pytest.raises(ConflictError, match="G1.*GBR"):
        _run(st, 50, "count", "POL", known)


def test_the_split_refuses_a_submitted_title_or_stocktake() -> None:
    from coalition.errors import InputError

    with pytest.raises(InputError, match="title"):
        split_count(two_nations(), CountPayload.model_validate({"location": WHERE, "title": "GBR"}), stocktake=1)


def test_a_whole_location_count_encodes_as_before() -> None:
    p = CountPayload.model_validate({"location": WHERE, "serials": ["G1"]})
    assert set(p.model_dump(mode="json")) == {"location", "serials", "lots"}
    q = CountPayload.model_validate({"location": WHERE, "serials": ["G1"], "title": "GBR", "stocktake": 4})
    assert q.model_dump(mode="json")["title"] == "GBR" and q.model_dump(mode="json")["stocktake"] == 4
