"""Tiny hand-checkable sustainment scenarios.

Hubs on the equator, so distances are easy: one degree of longitude = 111.195 km
(``haversine_km`` on the 6,371.0088 km sphere).

===== ======= ======== ===============
hub   region  lon      km from ``a``
===== ======= ======== ===============
a     r1      0        0
b     r1      1        111.2
c     r2      3        333.6
===== ======= ======== ===============

Rear node ``rn`` at lon -1. Road speed 60 km/h with a detour factor 1.0 (so road minutes = km),
helicopter 250 km/h.
"""

from __future__ import annotations

from typing import Any

from coalition.scenario.schemas import (
    Capability,
    CapabilityDomain,
    CapabilityFactor,
    Hub,
    MedevacPledge,
    MedicalRole,
    Nation,
    Pledge,
    RearNode,
    Scenario,
    Speed,
    SpeedMode,
    Sustainment,
)
from coalition.sustain.demand import PlanLine, PlanView

CAPS = (
    Capability(code="inf", name="Infantry", domain=CapabilityDomain.LAND, personnel=500, tonnage=1, roles=("deterrence",)),
    Capability(code="trg", name="Trainers", domain=CapabilityDomain.LAND, personnel=50, tonnage=1, roles=("training",)),
    Capability(code="hq", name="HQ", domain=CapabilityDomain.LAND, personnel=200, tonnage=1, roles=("command",)),
    Capability(code="sig", name="Signals", domain=CapabilityDomain.LAND, personnel=100, tonnage=1, roles=("signals",)),
    Capability(code="r2", name="Role 2", domain=CapabilityDomain.JOINT, personnel=100, tonnage=1, roles=("medical",)),
    Capability(code="r3", name="Role 3", domain=CapabilityDomain.JOINT, personnel=300, tonnage=1, roles=("medical",)),
    Capability(code="heli", name="MEDEVAC", domain=CapabilityDomain.AIR, personnel=40, tonnage=1, roles=("medevac",)),
    Capability(code="log", name="Logistics", domain=CapabilityDomain.LAND, personnel=300, tonnage=1, roles=("logistics",)),
)
HUBS = tuple(
    Hub(id=h, name=h.upper(), country="UKR", region=r, lat=0.0, lon=lon, personnel_capacity=10_000, host_nation="UKR")
    for h, r, lon in (("a", "r1", 0.0), ("b", "r1", 1.0), ("c", "r2", 3.0))
)
REAR = (RearNode(id="rn", name="RN", country="POL", lat=0.0, lon=-1.0),)
PLEDGES = tuple(
    Pledge(id=f"p-{c.code}", nation="GBR", capability=c.code, units=5, personnel_per_unit=c.personnel, notice_days=0)
    for c in CAPS
)


def sustainment(**kw: Any) -> Sustainment:
    base: dict[str, Any] = dict(
        speeds=(Speed(mode=SpeedMode.ROAD, kmh=60.0), Speed(mode=SpeedMode.HELICOPTER, kmh=250.0)),
        road_detour_factor=1.0,
        medical_roles=(MedicalRole(capability="inf", role=1), MedicalRole(capability="r2", role=2),
                       MedicalRole(capability="r3", role=3)),
        medevac=(MedevacPledge(pledge="p-heli", base="b"),),
        factors=(CapabilityFactor(capability="inf", supply_class="III(B)", per_person_day=20.0),
                 CapabilityFactor(capability="inf", supply_class="V", per_person_day=2.0)),
    )
    base.update(kw)
    return Sustainment(**base)


def scenario(**kw: Any) -> Scenario:
    base: dict[str, Any] = dict(
        id="tiny", name="tiny", horizon_days=60, capabilities=CAPS, hubs=HUBS, rear_nodes=REAR,
        nations=(Nation(code="GBR", name="GBR", role="contributor"),), pledges=PLEDGES,
        sustainment=sustainment(),
    )
    base.update(kw)
    return Scenario(**base)


def ul(uln: str, cap: str, hub: str, arrive: int, end: int, personnel: int | None = None) -> PlanLine:
    pers = personnel if personnel is not None else next(c.personnel for c in CAPS if c.code == cap)
    return PlanLine(uln=uln, capability=cap, hub=hub, personnel=pers, arrival_day=arrive, tour_end_day=end,
                    pledge=f"p-{cap}", nation="GBR")


def view(*lines: PlanLine, horizon: int = 60) -> PlanView:
    return PlanView(scenario="tiny", option="o", horizon_days=horizon, lines=tuple(lines))
