"""Tiny hand-checkable scenarios for the conditions and force-generation tests.

Geography: a straight north-south contact line along longitude 36 E from 46 N to 50 N with a
10 km buffer zone (5 km each side). Hubs:

========= ===== ============ ====================== ===========================
hub       ctry  region       position               distance to the line
========= ===== ============ ====================== ===========================
west      UKR   west         49.8 N 24.0 E          ~860 km
east      UKR   east         48.5 N 35.5 E          ~37 km
front     UKR   east         48.5 N 35.95 E         ~3.7 km (inside the buffer)
pol       POL   podkarpackie 50.1 N 22.0 E          ~1,000 km
========= ===== ============ ====================== ===========================

Corridors from rear node ``rze`` (POL): to west 1 day, to east 3 days, to front 3 days;
from rear node ``cta`` (ROU): to east 5 days. No corridor into ``pol`` (0 transit).
"""

from __future__ import annotations

from typing import Any

from coalition.scenario.schemas import (
    Capability,
    CapabilityDomain,
    ContactLine,
    Corridor,
    CorridorMode,
    ForceOption,
    Hub,
    Nation,
    Pledge,
    Point,
    RearNode,
    Requirement,
    Scenario,
)

CAPS = (
    Capability(code="inf_bn", name="Infantry battalion", domain=CapabilityDomain.LAND, personnel=600, tonnage=900),
    Capability(code="eng", name="Engineers", domain=CapabilityDomain.LAND, personnel=300, tonnage=800),
    Capability(code="med2", name="Medical role 2", domain=CapabilityDomain.JOINT, personnel=80, tonnage=60),
)

HUBS = (
    Hub(id="west", name="West", country="UKR", region="west", lat=49.8, lon=24.0, personnel_capacity=5000, host_nation="UKR"),
    Hub(id="east", name="East", country="UKR", region="east", lat=48.5, lon=35.5, personnel_capacity=5000, host_nation="UKR"),
    Hub(id="front", name="Front", country="UKR", region="east", lat=48.5, lon=35.95, personnel_capacity=5000, host_nation="UKR"),
    Hub(id="pol", name="Pol", country="POL", region="podkarpackie", lat=50.1, lon=22.0, personnel_capacity=5000, host_nation="POL"),
)

REAR = (
    RearNode(id="rze", name="Rzeszow", country="POL", lat=50.11, lon=22.02),
    RearNode(id="cta", name="Constanta", country="ROU", lat=44.17, lon=28.63),
)

CORRIDORS = (
    Corridor(id="c1", rear_node="rze", hub="west", mode=CorridorMode.ROAD, personnel_per_day=2000, tonnage_per_day=2000, transit_days=1),
    Corridor(id="c2", rear_node="rze", hub="east", mode=CorridorMode.RAIL, personnel_per_day=2000, tonnage_per_day=2000, transit_days=3),
    Corridor(id="c3", rear_node="rze", hub="front", mode=CorridorMode.ROAD, personnel_per_day=2000, tonnage_per_day=2000, transit_days=3),
    Corridor(id="c4", rear_node="cta", hub="east", mode=CorridorMode.RAIL, personnel_per_day=2000, tonnage_per_day=2000, transit_days=5),
)

LINE = ContactLine(points=(Point(lat=46, lon=36), Point(lat=50, lon=36)), buffer_km=10)

NATIONS = tuple(
    Nation(code=c, name=c, role="contributor") for c in ("GBR", "FRA", "DEU", "POL", "ITA", "NLD", "UKR")
)


def pledge(pid: str = "p1", **kw: Any) -> Pledge:
    base: dict[str, Any] = dict(
        id=pid, nation="GBR", capability="inf_bn", units=1, personnel_per_unit=600, notice_days=10
    )
    base.update(kw)
    return Pledge(**base)


def line(rid: str = "r1", **kw: Any) -> Requirement:
    base: dict[str, Any] = dict(
        id=rid, option="opt", capability="inf_bn", quantity=1, hub="west", start_day=30, end_day=200
    )
    base.update(kw)
    if "region" in kw and "hub" not in kw:
        base["hub"] = None
    return Requirement(**base)


def scenario(**kw: Any) -> Scenario:
    base: dict[str, Any] = dict(
        id="tiny",
        name="Tiny",
        nations=NATIONS,
        capabilities=CAPS,
        hubs=HUBS,
        rear_nodes=REAR,
        corridors=CORRIDORS,
        contact_line=LINE,
        force_options=(ForceOption(id="opt", name="Option"),),
    )
    base.update(kw)
    return Scenario(**base)
