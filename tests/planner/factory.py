"""Tiny hand-checkable scenarios for the planner tests (built in code, no files)."""

from __future__ import annotations

from coalition.scenario.schemas import (
    Capability,
    CapabilityDomain,
    Corridor,
    CorridorMode,
    ForceOption,
    Hub,
    Nation,
    CoalitionRole,
    Pledge,
    RearNode,
    Requirement,
    Scenario,
)


def nation(code: str) -> Nation:
    return Nation(code=code, name=code, role=CoalitionRole.CONTRIBUTOR)


def capability(code: str = "inf", personnel: int = 100, tonnage: float = 50.0) -> Capability:
    return Capability(
        code=code, name=code, domain=CapabilityDomain.LAND, personnel=personnel, tonnage=tonnage
    )


def hub(hub_id: str = "H1", capacity: int = 10_000, region: str = "west", lead: str | None = None,
        lat: float = 49.8, lon: float = 24.0) -> Hub:
    return Hub(id=hub_id, name=hub_id, country="UKR", region=region, lat=lat, lon=lon,
               personnel_capacity=capacity, host_nation="UKR", lead_nation=lead)


def rear(node_id: str = "R1") -> RearNode:
    return RearNode(id=node_id, name=node_id, country="POL", lat=50.1, lon=22.0)


def corridor(cid: str = "C1", rear_node: str = "R1", hub_id: str = "H1", personnel: int = 10_000,
             tonnage: float = 1e6, transit: int = 2, km: float = 100.0) -> Corridor:
    return Corridor(id=cid, rear_node=rear_node, hub=hub_id, mode=CorridorMode.ROAD,
                    personnel_per_day=personnel, tonnage_per_day=tonnage, transit_days=transit,
                    distance_km=km)


def pledge(pid: str, nation_code: str = "GBR", cap: str = "inf", units: int = 1, personnel: int = 100,
           notice: int = 0, tour: int = 56, recovery: int = 0, rotations: int | None = None,
           **kw: object) -> Pledge:
    return Pledge(id=pid, nation=nation_code, capability=cap, units=units, personnel_per_unit=personnel,
                  notice_days=notice, tour_days=tour, recovery_days=recovery,
                  sustainable_rotations=rotations, **kw)


def requirement(rid: str, qty: int = 1, start: int = 0, end: int = 55, hub_id: str | None = "H1",
                region: str | None = None, cap: str = "inf", priority: str = "important",
                option: str = "opt") -> Requirement:
    return Requirement(id=rid, option=option, capability=cap, quantity=qty, hub=hub_id, region=region,
                       start_day=start, end_day=end, priority=priority)


def scenario(*, pledges, requirements, hubs=None, corridors=None, rears=None, caps=None,
             horizon: int = 56, nations=None) -> Scenario:
    codes = sorted({p.nation for p in pledges} | set(nations or ()))
    return Scenario(
        id="tiny", name="tiny", horizon_days=horizon,
        nations=tuple(nation(c) for c in codes),
        capabilities=tuple(caps or (capability(),)),
        force_options=(ForceOption(id="opt", name="opt"),),
        requirements=tuple(requirements),
        pledges=tuple(pledges),
        hubs=tuple(hubs if hubs is not None else (hub(),)),
        rear_nodes=tuple(rears or (rear(),)),
        corridors=tuple(corridors if corridors is not None else (corridor(),)),
    )
