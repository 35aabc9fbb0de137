"""Depot safety on receipt: the ledger asks the depots rule checker before stock enters a storehouse.

The prospective stock of the storehouse (what the ledger holds there now, plus the scenario's own
stock lines for it, plus what arrives) goes to :func:`coalition.depots.rules.check_prospective`;
any error finding refuses the event. A location ``hub/depot/storehouse`` must name a depot of the
scenario's :class:`~coalition.depots.schemas.DepotNetwork` (its layout decides quantity-distance
and licences); an unmodelled depot is refused rather than waved through.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from coalition.depots.schemas import Catalogue, DepotNetwork, Lot as CatalogueLot, StockLine
from coalition.inventory.projector import Lot, SafetyCheck, State
from coalition.inventory.schemas import Location


def depot_safety(session: Session, network: DepotNetwork) -> SafetyCheck:
    """A SafetyCheck bound to this session and the scenario's depot network."""
    from coalition.depots.rules import check_prospective  # deferred: the rulebook loads lazily
    from coalition.inventory.service import storehouse_stock

    def check(state: State, where: Location, arriving: list[tuple[Lot, int]]) -> list[str]:
        depot = network.depot(where.depot)
        if depot is None:
            known = ", ".join(d.id for d in network.depots) or "none"
            return [f"depot '{where.depot}' has no layout in the scenario (known depots: {known}),"
                    " so its safety rules cannot be checked"]
        here = Location(hub=where.hub, depot=where.depot, storehouse=where.storehouse)
        current = storehouse_stock(session, state, here)
        # `current` already includes what this batch moved in; take the arriving part back out
        # so that it is passed as `incoming` and reported as such.
        incoming_qty: dict[str, int] = {}
        for lot, q in arriving:
            incoming_qty[lot.lot] = incoming_qty.get(lot.lot, 0) + q
        lots: dict[str, Lot] = {name: lot for name, (lot, _) in current.items()}
        lots.update({lot.lot: lot for lot, _ in arriving})
        current_lines = [
            StockLine(storehouse=where.storehouse, lot=name, quantity=q - incoming_qty.get(name, 0))
            for name, (_, q) in sorted(current.items()) if q - incoming_qty.get(name, 0) > 0
        ]
        current_lines += [line for line in network.stock if line.storehouse == where.storehouse]
        incoming = [StockLine(storehouse=where.storehouse, lot=n, quantity=q) for n, q in sorted(incoming_qty.items())]
        known_lots = {lot.id for lot in network.lots}
        extra = [CatalogueLot(id=lot.lot, item=lot.item_type, neq_kg=lot.neq_kg or None)
                 for lot in lots.values() if lot.lot not in known_lots]
        catalogue = Catalogue(items=network.items, lots=(*network.lots, *extra))
        findings = check_prospective(where.storehouse, depot, current_lines, incoming, catalogue=catalogue)
        return [f.message for f in findings if f.is_error]

    return check
