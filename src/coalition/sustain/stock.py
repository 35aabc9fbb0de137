"""Stock and days of supply per hub and class (pure).

* **Policy** (``Scenario.sustainment.policies``): minimum and target days of supply (DOS), the
  order-ship time and the order interval; a hub-specific policy wins over the all-hubs one. A
  class without a policy is reported as such (nothing is assumed).
* **Safety stock** = average daily demand x order-ship time. The effective minimum is the larger
  of the DOS minimum and the safety stock; the maximum = minimum + average demand x order
  interval (the formula of open health-logistics systems, shared reference §2).
* **On hand**: for tracked classes (V) from the custody inventory when one is given, otherwise
  from the scenario's depot stock; for the others from ``sustainment.on_hand``. No record = zero
  on hand, said so (missing stock is never read as enough).
* **Runs out**: the first day on which the cumulative demand since day 0 exceeds the stock on
  hand, with no resupply and no host-nation supply at all.
* **Resupply needed**: the build-up to the target DOS at the first day with personnel, and the
  daily flow from rear nodes = demand x (1 - host-nation share).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from coalition.scenario.schemas import Scenario, StockPolicy, SupplyClass
from coalition.sustain.demand import HubRange


@dataclass(frozen=True, slots=True)
class OnHand:
    quantity: float
    source: str  # "inventory", "scenario depot stock", "scenario", "none"


@dataclass(frozen=True, slots=True)
class StockLine:
    hub: str
    supply_class: SupplyClass
    on_hand: OnHand
    avg_demand: float | None  # per day over the days with personnel; None = unknown
    peak_demand: float | None
    dos_on_hand: float | None  # on hand / average demand; None when demand unknown or zero
    policy: StockPolicy | None
    safety_stock: float | None
    min_stock: float | None
    target_stock: float | None
    max_stock: float | None
    below_min: bool | None
    runs_out_day: int | None  # None: lasts the horizon (or demand unknown: see `unknown`)
    unknown: bool
    hns_share: float
    initial_resupply: float | None
    resupply_per_day: float | None  # average over the days with personnel, after host-nation share
    resupply_total: float | None  # over the horizon: demand after HNS + target stock - on hand (>= 0)
    flags: tuple[str, ...]


def policy_for(scenario: Scenario, hub: str, cls: SupplyClass) -> StockPolicy | None:
    pols = [p for p in scenario.sustainment.policies if p.supply_class is cls and p.hub in (hub, None)]
    own = [p for p in pols if p.hub == hub]
    if own:
        return own[0]
    return pols[0] if pols else None


def hns_share(scenario: Scenario, hub: str, cls: SupplyClass, holds: Mapping[str, bool] | None = None) -> float:
    """Host-nation share of a class at a hub; a share under a condition counts only where the
    condition is known to hold (``holds``: condition text -> value); unknown = 0."""
    shares = [s for s in scenario.sustainment.host_nation if s.supply_class is cls and s.hub in (hub, None)]
    own = [s for s in shares if s.hub == hub]
    for s in own or shares:
        if not s.condition or (holds or {}).get(s.condition, False):
            return s.share
    return 0.0


def scenario_on_hand(scenario: Scenario) -> dict[tuple[str, SupplyClass], OnHand]:
    """On-hand stock from the scenario: depot stock (Class V, gross kg) and ``sustainment.on_hand``."""
    out: dict[tuple[str, SupplyClass], OnHand] = {}
    net = scenario.depots
    cat = net.catalogue
    for depot in net.depots:
        kg = 0.0
        for line in net.stock_of(depot):
            item = cat.item_of(line.lot)
            if item is not None:
                kg += line.quantity * item.gross_kg
        key = (depot.hub, SupplyClass.V)
        prev = out.get(key, OnHand(0.0, "scenario depot stock")).quantity
        out[key] = OnHand(prev + kg, "scenario depot stock")
    for rec in scenario.sustainment.on_hand:
        key = (rec.hub, rec.supply_class)
        if key in out and out[key].source == "scenario depot stock":
            continue  # tracked class: the depot stock is the record
        prev = out.get(key, OnHand(0.0, "scenario")).quantity
        out[key] = OnHand(prev + rec.quantity, "scenario")
    return out


def _days_with(ranges: Sequence[HubRange]) -> int:
    return sum(r.days for r in ranges)


def stock_line(
    scenario: Scenario,
    hub: str,
    cls: SupplyClass,
    ranges: Sequence[HubRange],
    on_hand: OnHand,
    *,
    holds: Mapping[str, bool] | None = None,
) -> StockLine:
    """The stock picture of one class at one hub; ``ranges`` are that hub's, in day order."""
    flags: set[str] = set()
    for r in ranges:
        flags.update(r.demand[cls].flags)
    unknown = any(r.demand[cls].per_day is None for r in ranges)
    days = _days_with(ranges)
    share = hns_share(scenario, hub, cls, holds)
    pol = policy_for(scenario, hub, cls)
    if pol is None:
        flags.add(f"no DOS policy for {cls.value}")
    if on_hand.source == "none":
        flags.add("no on-hand record: zero assumed")
    if unknown or days == 0:
        return StockLine(
            hub,
            cls,
            on_hand,
            None,
            None,
            None,
            pol,
            None,
            None,
            None,
            None,
            None,
            None,
            unknown,
            share,
            None,
            None,
            None,
            tuple(sorted(flags)),
        )
    total = sum((r.demand[cls].per_day or 0.0) * r.days for r in ranges)
    avg = total / days
    peak = max((r.demand[cls].per_day or 0.0) for r in ranges)
    dos = on_hand.quantity / avg if avg > 0 else None
    # runs out: walk the ranges (day order), no resupply at all
    left, runs_out = on_hand.quantity, None
    for r in ranges:
        d = r.demand[cls].per_day or 0.0
        if d > 0 and left < d * r.days:
            runs_out = r.start_day + int(left // d)
            break
        left -= d * r.days
    safety = avg * pol.order_ship_days if pol else None
    min_stock = max(pol.min_days * avg, safety or 0.0) if pol else None
    target = max(pol.target_days * avg, min_stock or 0.0) if pol else None
    max_stock = (min_stock + avg * pol.order_interval_days) if pol and min_stock is not None else None
    below = (on_hand.quantity < min_stock) if min_stock is not None else None
    initial = max(0.0, target - on_hand.quantity) if target is not None else None
    per_day = avg * (1.0 - share)
    after_hns = total * (1.0 - share)
    resupply_total = max(0.0, after_hns + (target or 0.0) - on_hand.quantity)
    return StockLine(
        hub,
        cls,
        on_hand,
        avg,
        peak,
        dos,
        pol,
        safety,
        min_stock,
        target,
        max_stock,
        below,
        runs_out,
        False,
        share,
        initial,
        per_day,
        resupply_total,
        tuple(sorted(flags)),
    )


def stock_lines(
    scenario: Scenario,
    ranges: Sequence[HubRange],
    *,
    on_hand: Mapping[tuple[str, SupplyClass], OnHand] | None = None,
    holds: Mapping[str, bool] | None = None,
    classes: Sequence[SupplyClass] = tuple(SupplyClass),
) -> list[StockLine]:
    """One stock line per staffed hub and class."""
    stock = dict(scenario_on_hand(scenario))
    stock.update(on_hand or {})
    by_hub: dict[str, list[HubRange]] = {}
    for r in ranges:
        by_hub.setdefault(r.hub, []).append(r)
    out = []
    for hub, rs in sorted(by_hub.items()):
        rs.sort(key=lambda r: r.start_day)
        for cls in classes:
            oh = stock.get((hub, cls), OnHand(0.0, "none"))
            out.append(stock_line(scenario, hub, cls, rs, oh, holds=holds))
    return out
