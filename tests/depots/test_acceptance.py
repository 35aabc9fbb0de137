"""coalition.depots.acceptance: a proposal coming back from the browser is not trusted: unknown
storehouses or lots, bad quantities, more than the consignment and unsafe placements are each
named; a clean proposal becomes a placement order."""

from __future__ import annotations

import pytest
from .conftest import tiny

from coalition.depots.acceptance import accept
from coalition.depots.placement_state import Incoming
from coalition.depots.schemas import StockLine
from coalition.errors import InputError


def test_a_clean_proposal_becomes_an_order() -> None:
    net = tiny([])
    order = accept(net.depots[0], net.catalogue, [], [Incoming("he-1", 5)], [("S1", "he-1", 3), ("S2", "he-1", 2)])
    assert order.depot == "D"
    assert order.lines == (StockLine(storehouse="S1", lot="he-1", quantity=3),
                           StockLine(storehouse="S2", lot="he-1", quantity=2))
    assert order.csv() == "storehouse,lot,quantity\nS1,he-1,3\nS2,he-1,2\n"


def test_every_bad_field_is_named_with_its_row() -> None:
    net = tiny([])
    with pytest.raises(InputError) as err:
        accept(net.depots[0], net.catalogue, [], [Incoming("he-1", 5)],
               [("S9", "nope", 0)])
    fields = {(p.row, p.field) for p in err.value.problems}
    assert fields == {(1, "storehouse"), (1, "lot"), (1, "quantity")}


def test_more_than_the_consignment_is_refused() -> None:
    net = tiny([])
    with pytest.raises(InputError, match="6 placed but the consignment brings 5"):
        accept(net.depots[0], net.catalogue, [], [Incoming("he-1", 5)], [("S1", "he-1", 4), ("S2", "he-1", 2)])
    with pytest.raises(InputError, match="brings 0"):  # a lot that is not in the consignment at all
        accept(net.depots[0], net.catalogue, [], [Incoming("he-1", 5)], [("S1", "sa-1", 1)])


def test_an_empty_proposal_is_refused() -> None:
    net = tiny([])
    with pytest.raises(InputError, match="places nothing"):
        accept(net.depots[0], net.catalogue, [], [Incoming("he-1", 5)], [])


def test_an_unsafe_placement_is_refused_against_the_current_stock() -> None:
    net = tiny([])
    current = [StockLine(storehouse="S1", lot="he-1", quantity=10)]
    with pytest.raises(InputError, match="breaks a safety rule now"):
        accept(net.depots[0], net.catalogue, current, [Incoming("toxic-1", 1)], [("S1", "toxic-1", 1)])
    # the same lot into an empty storehouse is fine
    order = accept(net.depots[0], net.catalogue, current, [Incoming("toxic-1", 1)], [("S3", "toxic-1", 1)])
    assert order.lines[0].storehouse == "S3"
