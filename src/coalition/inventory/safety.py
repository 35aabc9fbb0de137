"""Depot safety in the custody ledger: every receipt, transfer, return and correction that changes
what a storehouse holds goes through the one safety gate (:mod:`coalition.depots.gate`).

The prospective stock of the storehouse (what the ledger holds there now, plus the scenario's own
stock lines for it, plus what arrives) must pass the whole check. Missing data is never
permissive:

- explosives received into a depot must name a storehouse of it (or be placed first with
  ``coalition depots place``); a depot the scenario does not model is refused;
- a lot whose classification is unknown (no hazard code and no catalogue item) or whose NEQ is
  missing is refused, and so is a lot whose ledger hazard code disagrees with the catalogue;
- a correction that would leave a storehouse breaking a rule it did not break before is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.depots.schemas import Catalogue, Depot, DepotNetwork, ItemType, StockLine, code_problem
from coalition.depots.schemas import Lot as CatalogueLot
from coalition.inventory.schemas import HELD, Location
from coalition.inventory.state import Lot, SafetyCheck, State


class DepotSafety:
    """A :data:`SafetyCheck` bound to a session and the scenario's depot network."""

    def __init__(self, session: Session, network: DepotNetwork) -> None:
        self.session = session
        self.network = network
        self.hubs = {d.hub for d in network.depots}
        self.items = network.catalogue.item_by_id

    # -- classification -------------------------------------------------------------------
    def _classify(self, lot: Lot) -> tuple[ItemType | None, str | None]:
        """The catalogue item to check ``lot`` as, or why the lot is refused."""
        item = self.items.get(lot.item_type)
        hazard = (lot.hazard or "").strip().upper()
        if item is not None and hazard and hazard != item.code:
            return None, (
                f"lot {lot.lot}: the ledger records hazard {hazard} but the depot catalogue classifies "
                f"item '{item.id}' as {item.code}; resolve the classification before storing it"
            )
        code = hazard or (item.code if item is not None else "")
        if not code or code_problem(code):
            return None, (
                f"lot {lot.lot}: classification unknown (no UN hazard code on the manifest and item "
                f"'{lot.item_type}' is not in the depot catalogue), so it is refused"
            )
        neq = lot.neq_kg if lot.neq_kg and lot.neq_kg > 0 else (item.neq_kg if item is not None else 0.0)
        if not neq or neq <= 0:
            return None, f"lot {lot.lot}: NEQ per unit is missing, so it is refused"
        if item is not None:
            return item, None
        # a classified lot of an item the catalogue does not list: checked as declared; its pallet
        # footprint is unknown, so each unit counts as one pallet (the conservative choice)
        return ItemType(
            id=lot.item_type,
            name=f"ledger item {lot.item_type}",
            code=code,
            neq_kg=neq,
            gross_kg=neq,
            units_per_pallet=1,
            source="declared on the custody manifest",
        ), None

    def _explosive(self, lot: Lot) -> bool:
        return bool(lot.hazard) or (lot.neq_kg or 0) > 0 or lot.item_type in self.items

    # -- the gate -------------------------------------------------------------------------
    def __call__(self, state: State, where: Location, arriving: list[tuple[Lot, int]]) -> list[str]:
        from coalition.depots.gate import admit  # deferred: the rulebook loads lazily
        from coalition.inventory.service import storehouse_stock

        if not where.depot:
            if where.hub in self.hubs and any(self._explosive(lot) for lot, _ in arriving):
                return [
                    f"explosives received at hub {where.hub} must go into a storehouse of one of its depots "
                    f"({', '.join(sorted(d.id for d in self.network.depots if d.hub == where.hub))})"
                ]
            return []  # not a depot location (e.g. a place outside the hubs)
        depot = self.network.depot(where.depot)
        if depot is None:
            known = ", ".join(d.id for d in self.network.depots) or "none"
            return [
                f"depot '{where.depot}' has no layout in the scenario (known depots: {known}),"
                " so its safety rules cannot be checked: an unmodelled depot is refused"
            ]
        if not where.storehouse:
            names = ", ".join(s.id for s in depot.storehouses)
            return [
                f"a receipt into depot {depot.id} must name a storehouse ({names}) or be placed first with "
                "`coalition depots place`: the safety rules apply per storehouse"
            ]
        extra: dict[str, ItemType] = {}
        problems: list[str] = []
        lots: dict[str, Lot] = {}
        here = Location(hub=where.hub, depot=where.depot, storehouse=where.storehouse)
        current = storehouse_stock(self.session, state, here)
        lots.update({name: lot for name, (lot, _) in current.items()})
        lots.update({lot.lot: lot for lot, _ in arriving})
        for lot in lots.values():
            item, why = self._classify(lot)
            if why:
                problems.append(why)
            elif item is not None and item.id not in self.items:
                extra[item.id] = item
        if problems:
            return problems
        # `current` already includes what this batch moved in; take the arriving part back out
        incoming_qty: dict[str, int] = {}
        for lot, q in arriving:
            incoming_qty[lot.lot] = incoming_qty.get(lot.lot, 0) + q
        current_lines = [
            StockLine(storehouse=where.storehouse, lot=name, quantity=q - incoming_qty.get(name, 0))
            for name, (_, q) in sorted(current.items())
            if q - incoming_qty.get(name, 0) > 0
        ]
        current_lines += [line for line in self.network.stock if line.storehouse == where.storehouse]
        incoming = [StockLine(storehouse=where.storehouse, lot=n, quantity=q) for n, q in sorted(incoming_qty.items())]
        decision = admit(depot, where.storehouse, current_lines, incoming, self._catalogue(lots, extra))
        return [] if decision.admitted else decision.reasons

    def _catalogue(self, lots: dict[str, Lot], extra: dict[str, ItemType]) -> Catalogue:
        known_lots = {lot.id for lot in self.network.lots}
        ledger_lots = [
            CatalogueLot(id=lot.lot, item=lot.item_type, neq_kg=lot.neq_kg or None)
            for lot in lots.values()
            if lot.lot not in known_lots
        ]
        return Catalogue(items=(*self.network.items, *extra.values()), lots=(*self.network.lots, *ledger_lots))

    # -- corrections ----------------------------------------------------------------------
    def storehouse_errors(self, lots: set[str]) -> dict[str, set[str]]:
        """Rule breaks of every modelled storehouse holding any of ``lots`` (for corrections:
        the ledger compares them before and after a correction replays the log)."""
        from coalition.depots.rules import check_prospective
        from coalition.inventory.models import InvLotStock
        from coalition.inventory.service import storehouse_stock

        if not lots:
            return {}
        held = [str(x) for x in HELD]
        places = set(
            self.session.scalars(
                select(InvLotStock.location).where(
                    InvLotStock.lot.in_(sorted(lots)), InvLotStock.quantity > 0, InvLotStock.status.in_(held)
                )
            )
        )
        out: dict[str, set[str]] = {}
        for place in sorted(places):
            loc = Location.parse(place)
            depot = self.network.depot(loc.depot) if loc.depot else None
            if depot is None or not loc.storehouse or depot.storehouse(loc.storehouse) is None:
                continue
            contents = storehouse_stock(
                self.session, State(), Location(hub=loc.hub, depot=loc.depot, storehouse=loc.storehouse)
            )
            extra: dict[str, ItemType] = {}
            problems: set[str] = set()
            for lot, _ in contents.values():
                item, why = self._classify(lot)
                if why:
                    problems.add(why)
                elif item is not None and item.id not in self.items:
                    extra[item.id] = item
            lines = [StockLine(storehouse=loc.storehouse, lot=name, quantity=q) for name, (_, q) in contents.items()]
            lines += [line for line in self.network.stock if line.storehouse == loc.storehouse]
            if not problems:
                findings = check_prospective(
                    loc.storehouse,
                    depot,
                    lines,
                    [],
                    catalogue=self._catalogue({k: v for k, (v, _) in contents.items()}, extra),
                )
                problems = {f.message for f in findings if f.is_error}
            out[f"{depot.id}/{loc.storehouse}"] = problems
        return out

    # -- what a depot holds ------------------------------------------------------------------
    def holdings(self, hub: str, depot_id: str) -> tuple[list[StockLine], list[StockLine], Catalogue]:
        """The depot's stock: the scenario's stock lines, the ledger's held lots in its
        storehouses (serviceable or quarantined), and the catalogue extended by the ledger's lots
        (a lot the safety gate would refuse to classify is left out of the catalogue, so the
        depot check reports it)."""
        from coalition.inventory.models import InvLot, InvLotStock
        from coalition.inventory.service import _rows

        depot = self.network.depot(depot_id)
        scenario = list(self.network.stock_of(depot)) if depot is not None else []
        houses = {h.id for h in depot.storehouses} if depot is not None else set()
        held = [str(x) for x in HELD]
        qty: dict[tuple[str, str], int] = {}
        for house, lot_id, n in self.session.execute(
            select(InvLotStock.storehouse, InvLotStock.lot, InvLotStock.quantity).where(
                InvLotStock.hub == hub,
                InvLotStock.depot == depot_id,
                InvLotStock.quantity > 0,
                InvLotStock.status.in_(held),
            )
        ):
            if house in houses:
                qty[(house, lot_id)] = qty.get((house, lot_id), 0) + int(n)
        ledger = [StockLine(storehouse=h, lot=lot_id, quantity=n) for (h, lot_id), n in sorted(qty.items())]
        lots = {row.lot: row for row in _rows(self.session, InvLot, Lot, InvLot.lot, sorted({k[1] for k in qty}))}
        extra: dict[str, ItemType] = {}
        known: dict[str, Lot] = {}
        for lot in lots.values():
            item, why = self._classify(lot)
            if not why and item is not None:
                known[lot.lot] = lot
                if item.id not in self.items:
                    extra[item.id] = item
        return scenario, ledger, self._catalogue(known, extra)


def depot_holdings(
    session: Session, network: DepotNetwork, hub: str, depot_id: str
) -> tuple[list[StockLine], list[StockLine], Catalogue]:
    """What depot ``depot_id`` holds: (scenario stock lines, ledger stock lines, catalogue)."""
    return DepotSafety(session, network).holdings(hub, depot_id)


@dataclass(frozen=True)
class DepotStock:
    """What a depot holds now, for its safety check and for placements: the scenario's stock
    lines and the custody ledger's held lots in its storehouses, under a catalogue that knows
    the ledger's lots. The dashboard, the API and the CLI all check and place against this."""

    scenario: list[StockLine]
    ledger: list[StockLine]
    catalogue: Catalogue

    @property
    def lines(self) -> list[StockLine]:
        return [*self.scenario, *self.ledger]


def depot_stock(session: Session, network: DepotNetwork, depot: Depot) -> DepotStock:
    """The depot's stock now (:class:`DepotStock`); ``network`` is the depot network the ledger
    checks receipts against (``coalition.ledger.sample.ledger_network`` of the scenario's)."""
    scenario, ledger, catalogue = depot_holdings(session, network, depot.hub, depot.id)
    return DepotStock(scenario, ledger, catalogue)


def depot_safety(session: Session, network: DepotNetwork) -> SafetyCheck:
    """A SafetyCheck bound to this session and the scenario's depot network."""
    return DepotSafety(session, network)


def ledger_suspensions(session: Session) -> dict[str, str]:
    """Lots the custody ledger has suspended (lot → reason): the depot's surveillance report treats
    them as suspended too, so a suspension recorded in either place is one status."""
    from coalition.inventory.models import InvLot

    rows = session.execute(select(InvLot.lot, InvLot.suspension_reason).where(InvLot.suspended.is_(True)))
    return {lot: reason or "suspended" for lot, reason in rows}
