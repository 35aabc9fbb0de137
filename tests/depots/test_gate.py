"""coalition.depots.gate: anything arriving is refused when the storehouse's prospective state
breaks a rule (including one it already broke); stock may always leave; a placement proposal
is checked in the storehouses it touches only."""

from __future__ import annotations

from .conftest import tiny

from coalition.depots.gate import admit, placement_check, verify_placement
from coalition.depots.schemas import StockLine


def _line(storehouse: str, lot: str, qty: int) -> StockLine:
    return StockLine(storehouse=storehouse, lot=lot, quantity=qty)


def test_compatible_stock_is_admitted() -> None:
    net = tiny([])
    d = admit(net.depots[0], "S1", [_line("S1", "he-1", 10)], [_line("S1", "he-1", 5)], net.catalogue)
    assert d.admitted and d.reasons == []


def test_a_mixing_violation_is_refused_with_its_reason() -> None:
    net = tiny([])
    d = admit(net.depots[0], "S1", [_line("S1", "he-1", 10)], [_line("S1", "toxic-1", 1)], net.catalogue)
    assert not d.admitted
    assert d.reasons and all(isinstance(r, str) and r for r in d.reasons)


def test_an_unlicensed_storehouse_admits_nothing() -> None:
    net = tiny([], storehouses=[{"id": "S1", "kind": "earth-covered", "x": 0, "y": 0, "orientation_deg": 180,
                                 "capacity_pallets": 500}])
    d = admit(net.depots[0], "S1", [], [_line("S1", "sa-1", 1)], net.catalogue)
    assert not d.admitted


def test_stock_may_leave_a_storehouse_that_breaks_a_rule() -> None:
    net = tiny([])
    bad = [_line("S1", "he-1", 10), _line("S1", "toxic-1", 1)]
    # nothing arrives: leaving is always allowed, even from a state that is already wrong
    d = admit(net.depots[0], "S1", bad, [], net.catalogue, leaving=[_line("S1", "toxic-1", 1)])
    assert d.admitted
    # but adding to a storehouse that already breaks a rule is refused, even compatible stock
    d = admit(net.depots[0], "S1", bad, [_line("S1", "he-1", 1)], net.catalogue)
    assert not d.admitted


def test_verify_placement_reports_only_the_touched_storehouses() -> None:
    net = tiny([])
    current = [_line("S2", "he-1", 10), _line("S2", "toxic-1", 1)]  # S2 is already wrong
    assert verify_placement(net.depots[0], net.catalogue, current, []) == []
    assert verify_placement(net.depots[0], net.catalogue, current, [_line("S1", "he-1", 5)]) == []
    errors, flags = placement_check(net.depots[0], net.catalogue, current, [_line("S2", "he-1", 5)])
    assert errors and {f.storehouse for f in errors} == {"S2"}
    assert set(flags) == {"S2"}
