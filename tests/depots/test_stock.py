"""Stock as arrays (coalition.depots.stock): NEQ by raw class per storehouse, and bad lines as
error findings rather than silently dropped or negative stock."""

from __future__ import annotations

import numpy as np

from coalition.depots.aggregation import RAW_CLASSES
from coalition.depots.schemas import StockLine
from coalition.depots.stock import summarise

from .conftest import tiny


def test_neq_is_summed_per_storehouse_and_raw_class() -> None:
    net = tiny([{"storehouse": "S1", "lot": "he-1", "quantity": 10}, {"storehouse": "S1", "lot": "he-1", "quantity": 5}])
    one = summarise(["S1"], [StockLine(storehouse="S1", lot="he-1", quantity=1)], net.catalogue)
    both = summarise(["S1"], list(net.stock), net.catalogue)
    col = RAW_CLASSES.index("1.1")
    assert one.neq[0, col] > 0 and np.isclose(both.neq[0, col], 15 * one.neq[0, col])
    assert not both.problems and both.lines[0] == 2


def test_unknown_references_and_overdrawn_lots_are_errors() -> None:
    net = tiny([])
    lines = [
        StockLine(storehouse="S1", lot="nope-1", quantity=1),
        StockLine(storehouse="ZZ", lot="he-1", quantity=1),
        StockLine(storehouse="S1", lot="he-1", quantity=1),
    ]
    out = summarise(["S1"], lines, net.catalogue, quantities=np.array([1.0, 1.0, -3.0]))
    rules = sorted(f.rule for f in out.problems)
    assert rules == ["reference", "reference", "stock"]
    assert "unknown lot 'nope-1'" in out.problems[0].message
    assert "unknown storehouse 'ZZ'" in out.problems[1].message
    assert out.neq.sum() == 0  # the over-drawn lot counts as nothing held, never as negative stock
