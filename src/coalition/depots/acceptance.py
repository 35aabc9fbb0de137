"""Accepting a placement proposal: the depot officer's decision on the lines they reviewed.

The proposal comes back from the browser, so it is not trusted: every line must name a
storehouse of the depot and a lot of the catalogue (or of the consignment), the quantities must
be those of the consignment, and the whole placement must pass the safety gate against the
depot's current stock, now. Only then is it a placement order; the caller records the decision
(the dashboard: an audit entry with every line, in the page's transaction).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from coalition.depots.placement_state import Incoming
from coalition.depots.schemas import Catalogue, Depot, StockLine
from coalition.errors import InputError, Problem


@dataclass(frozen=True)
class PlacementOrder:
    depot: str
    lines: tuple[StockLine, ...]

    def csv(self) -> str:
        rows = ["storehouse,lot,quantity"] + [f"{x.storehouse},{x.lot},{x.quantity}" for x in self.lines]
        return "\n".join(rows) + "\n"


def accept(
    depot: Depot,
    catalogue: Catalogue,
    current: Sequence[StockLine],
    consignment: Sequence[Incoming],
    lines: Sequence[tuple[str, str, int]],
) -> PlacementOrder:
    """The placement order for ``lines`` (storehouse, lot, quantity), or InputError naming each
    reason it cannot be accepted."""
    from coalition.depots.gate import verify_placement

    problems: list[Problem] = []
    houses = {s.id for s in depot.storehouses}
    lots = {lot.id for lot in catalogue.lots}
    parsed: list[StockLine] = []
    for i, (house, lot, qty) in enumerate(lines, start=1):
        if house not in houses:
            problems.append(Problem(f"storehouse '{house}' is not in depot {depot.id}", row=i, field="storehouse"))
        if lot not in lots:
            problems.append(Problem(f"lot '{lot}' is not in the catalogue", row=i, field="lot"))
        if qty < 1:
            problems.append(Problem(f"quantity {qty} must be at least 1", row=i, field="quantity"))
        if not problems:
            parsed.append(StockLine(storehouse=house, lot=lot, quantity=qty))
    if not lines:
        problems.append(Problem("the proposal places nothing: there is nothing to accept"))
    placed = Counter[str]()
    for x in parsed:
        placed[x.lot] += x.quantity
    wanted = {c.lot: c.quantity for c in consignment}
    for lot, qty in sorted(placed.items()):
        if qty > wanted.get(lot, 0):
            problems.append(
                Problem(f"lot '{lot}': {qty} placed but the consignment brings {wanted.get(lot, 0)}", field="quantity")
            )
    if problems:
        raise InputError(problems)
    errors = verify_placement(depot, catalogue, current, parsed)
    if errors:
        raise InputError(
            [Problem(f"the placement breaks a safety rule now: {f.message}", field="storehouse") for f in errors]
        )
    return PlacementOrder(depot.id, tuple(parsed))


__all__ = ["PlacementOrder", "accept"]
