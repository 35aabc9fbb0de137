"""Resupply flows per hub and day range, by class group (pure): the data of the planner's future
resupply block.

Three groups, as corridors carry them: **dry** cargo (Classes I, II, III(P), IV, V, VI, VIII, IX;
tonnes), **water** (m³) and **fuel** (III(B), m³). The flow a hub needs from the rear is its demand
x (1 - host-nation share) per class. For corridor loads every group is also given in tonnes:
water at 1 t/m³, fuel at the diesel density below. ``into_hub_capacity`` is the sum of the
tonnage capacity of the corridors that reach the hub: the flow shares it with deployment,
redeployment and rotation, which only the planner knows, so the ratio here is an upper bound
of the room left, never a proof of feasibility.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from coalition.scenario.schemas import Scenario, SupplyClass
from coalition.sustain.demand import HubRange
from coalition.sustain.stock import hns_share

if TYPE_CHECKING:
    from coalition.sustain.factors import FactorTable

DRY: tuple[SupplyClass, ...] = (
    SupplyClass.I,
    SupplyClass.II,
    SupplyClass.III_P,
    SupplyClass.IV,
    SupplyClass.V,
    SupplyClass.VI,
    SupplyClass.VIII,
    SupplyClass.IX,
)
#: kg per litre of diesel fuel: EN 590 allows 0.820-0.845 at 15 °C; the upper end is used (A).
FUEL_KG_PER_L = 0.845
WATER_KG_PER_L = 1.0


@dataclass(frozen=True, slots=True)
class Flow:
    hub: str
    start_day: int
    end_day: int
    dry_t: float | None  # per day; None = some class of the group has unknown demand
    water_m3: float | None
    fuel_m3: float | None

    @property
    def tonnes(self) -> float | None:
        """All three groups in tonnes per day (None when any is unknown)."""
        if self.dry_t is None or self.water_m3 is None or self.fuel_m3 is None:
            return None
        return self.dry_t + self.water_m3 * WATER_KG_PER_L + self.fuel_m3 * FUEL_KG_PER_L


def resupply_flows(
    scenario: Scenario, ranges: Sequence[HubRange], holds: Mapping[str, bool] | None = None
) -> list[Flow]:
    shares: dict[tuple[str, SupplyClass], float] = {}

    def share(hub: str, cls: SupplyClass) -> float:
        if (hub, cls) not in shares:
            shares[(hub, cls)] = hns_share(scenario, hub, cls, holds)
        return shares[(hub, cls)]

    out = []
    for r in ranges:
        per_day = [r.demand[cls].per_day for cls in DRY]
        dry = (
            None
            if any(v is None for v in per_day)
            else sum((v or 0.0) * (1 - share(r.hub, cls)) for v, cls in zip(per_day, DRY, strict=True))
        )
        w, f = r.demand[SupplyClass.WATER].per_day, r.demand[SupplyClass.III_B].per_day
        out.append(
            Flow(
                r.hub,
                r.start_day,
                r.end_day,
                None if dry is None else dry / 1000.0,
                None if w is None else w * (1 - share(r.hub, SupplyClass.WATER)) / 1000.0,
                None if f is None else f * (1 - share(r.hub, SupplyClass.III_B)) / 1000.0,
            )
        )
    return out


def into_hub_capacity(scenario: Scenario) -> dict[str, float]:
    """Tonnes per day the corridors into each hub can carry in total."""
    out: dict[str, float] = {}
    for c in scenario.corridors:
        out[c.hub] = out.get(c.hub, 0.0) + c.tonnage_per_day
    return out


@dataclass(frozen=True, slots=True)
class TonnageFactor:
    """Tonnes per person-day that one capability's personnel at one hub need from the rear (all
    three groups, after host-nation share), over the classes whose factor is known; ``unknown``
    names the classes without one (their tonnage is NOT in ``tonnes``: a lower bound then)."""

    tonnes: float
    unknown: tuple[str, ...]
    flags: tuple[str, ...]


def tonnage_factor(
    scenario: Scenario, table: FactorTable, capability: str, hub: str, holds: Mapping[str, bool] | None = None
) -> TonnageFactor:
    """The per person-day resupply tonnage of ``capability`` at ``hub`` (the planner's resupply
    block and its checker both use this one definition)."""
    from coalition.sustain.factors import resolve

    kg = 0.0
    unknown: list[str] = []
    flags: set[str] = set()
    for cls in SupplyClass:
        ref = resolve(table, scenario, capability, cls)
        if ref.value is None:
            unknown.append(cls.value)
            continue
        flags.update(ref.flags)
        per = ref.value * (1 - hns_share(scenario, hub, cls, holds))
        kg += per * (FUEL_KG_PER_L if cls is SupplyClass.III_B else WATER_KG_PER_L if cls is SupplyClass.WATER else 1.0)
    return TonnageFactor(kg / 1000.0, tuple(unknown), tuple(sorted(flags)))
