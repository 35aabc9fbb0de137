"""Test data: a tiny scenario you can check by hand, and users of several nations and roles."""

from __future__ import annotations

from datetime import date

from coalition.scenario.schemas import (
    Capability,
    ConditionDef,
    ContactLine,
    Corridor,
    Event,
    ForceOption,
    Hub,
    Instrument,
    Nation,
    Pledge,
    Point,
    RearNode,
    Requirement,
    Scenario,
)


def tiny_scenario(scenario_id: str = "tiny") -> Scenario:
    """Two hubs, one rear node, two requirement lines, a British and a French pledge."""
    return Scenario(
        id=scenario_id,
        name="Tiny test scenario",
        illustrative=True,
        horizon_days=364,
        nations=(
            Nation(code="GBR", name="United Kingdom", role="lead", groups=("NATO",)),
            Nation(code="FRA", name="France", role="lead", groups=("NATO", "EU")),
            Nation(code="POL", name="Poland", role="enabler", groups=("NATO", "EU")),
            Nation(code="UKR", name="Ukraine", role="host"),
        ),
        instruments=(
            Instrument(id="doi-paris", kind="declaration-of-intent", title="Declaration of intent",
                       parties=("GBR", "FRA", "UKR")),
        ),
        conditions=(ConditionDef(name="ceasefire"),),
        timeline=(Event(on=date(2026, 6, 1), condition="ceasefire"),),
        capabilities=(
            Capability(code="inf-bn", name="Infantry battalion", domain="land", personnel=600,
                       tonnage=900),
        ),
        force_options=(ForceOption(id="small", name="Small", personnel_target=1200),),
        requirements=(
            Requirement(id="R1", option="small", capability="inf-bn", quantity=1, hub="KYIV",
                        start_day=0, end_day=180, priority="essential"),
            Requirement(id="R2", option="small", capability="inf-bn", quantity=1, hub="LVIV",
                        start_day=0, end_day=180),
        ),
        pledges=(
            Pledge(id="GBR-inf", nation="GBR", capability="inf-bn", units=1,
                   personnel_per_unit=600, notice_days=10, condition="ceasefire"),
            Pledge(id="FRA-inf", nation="FRA", capability="inf-bn", units=1,
                   personnel_per_unit=650, notice_days=20, condition="ceasefire"),
        ),
        hubs=(
            Hub(id="KYIV", name="Kyiv", country="UKR", region="north", lat=50.45, lon=30.52,
                personnel_capacity=5000, host_nation="UKR", lead_nation="GBR"),
            Hub(id="LVIV", name="Lviv", country="UKR", region="west", lat=49.84, lon=24.02,
                personnel_capacity=5000, host_nation="UKR", lead_nation="FRA"),
        ),
        rear_nodes=(RearNode(id="RZE", name="Rzeszow", country="POL", kind="airport",
                             lat=50.11, lon=22.02),),
        corridors=(
            Corridor(id="RZE-LVIV", rear_node="RZE", hub="LVIV", mode="road",
                     personnel_per_day=2000, tonnage_per_day=3000, transit_days=1),
            Corridor(id="RZE-KYIV", rear_node="RZE", hub="KYIV", mode="rail",
                     personnel_per_day=2000, tonnage_per_day=3000, transit_days=2),
        ),
        contact_line=ContactLine(points=(Point(lat=49.5, lon=37.8), Point(lat=47.0, lon=35.0)),
                                 buffer_km=15),
    )


# name -> (nation, roles)
USERS: dict[str, tuple[str, list[str]]] = {
    "gbr-planner": ("GBR", ["planner"]),
    "gbr-viewer": ("GBR", ["viewer"]),
    "gbr-depot": ("GBR", ["depot-officer"]),
    "gbr-depot2": ("GBR", ["depot-officer"]),
    "gbr-admin": ("GBR", ["admin"]),
    "fra-planner": ("FRA", ["planner"]),
    "fra-depot": ("FRA", ["depot-officer"]),
    "fra-depot2": ("FRA", ["depot-officer"]),
    "hq-admin": ("HQ", ["admin"]),
    "hq-planner": ("HQ", ["planner"]),
    "hq-inspector": ("HQ", ["inspector"]),
}
