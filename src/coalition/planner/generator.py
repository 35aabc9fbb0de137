"""A seeded synthetic scenario generator (for benchmarks and stress tests).

``generate(size, seed)`` returns an ordinary :class:`Scenario` (save it with
``coalition.scenario.service.save_scenario``). Everything in it is SYNTHETIC: nation codes are
made up (``QAA``, ``QAB``...; ISO 3166 reserves the ``Q..`` range for user-assigned codes),
places are random points in a box roughly over Ukraine, numbers are drawn from ranges that
resemble the planning factors in ``shared/reference/planning-concepts.md`` (tours of 4, 6 or 12
months, recovery of one or two tours, notice-to-move 7-90 days). Same size and seed -> the same
scenario, byte for byte.

Sizes (fixed by the planner issue): S 12 nations / 60 units / 8 hubs / 26 weeks; M 35 / 600 /
30 / 104 weeks; L 60 / 3,000 / 120 / 156 weeks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypedDict

import numpy as np

from coalition.scenario.schemas import (
    Capability,
    CapabilityDomain,
    Caveats,
    CoalitionRole,
    ConditionDef,
    ContactLine,
    Corridor,
    CorridorMode,
    Event,
    Evidence,
    ForceOption,
    Hub,
    HubKind,
    Nation,
    Pledge,
    Point,
    Priority,
    RearNode,
    RearNodeKind,
    Requirement,
    Scenario,
)


class _Place(TypedDict, total=False):
    """Where a generated requirement is: exactly one of a hub or a region."""

    hub: str
    region: str


@dataclass(frozen=True, slots=True)
class Size:
    name: str
    nations: int
    units: int
    hubs: int
    weeks: int
    regions: int
    rear_nodes: int


SIZES: dict[str, Size] = {
    "S": Size("S", 12, 60, 8, 26, 2, 2),
    "M": Size("M", 35, 600, 30, 104, 5, 4),
    "L": Size("L", 60, 3000, 120, 156, 12, 8),
}

# (code, domain, personnel, tonnage): synthetic catalogue, typical sizes
CATALOGUE: tuple[tuple[str, CapabilityDomain, int, float], ...] = (
    ("inf_bn", CapabilityDomain.LAND, 600, 900.0),
    ("mech_bn", CapabilityDomain.LAND, 650, 2600.0),
    ("recce_sqn", CapabilityDomain.LAND, 150, 400.0),
    ("eng_coy", CapabilityDomain.LAND, 150, 500.0),
    ("eod_team", CapabilityDomain.LAND, 40, 60.0),
    ("log_bn", CapabilityDomain.LAND, 450, 1500.0),
    ("med_role2", CapabilityDomain.JOINT, 80, 150.0),
    ("mp_coy", CapabilityDomain.LAND, 120, 150.0),
    ("sig_coy", CapabilityDomain.JOINT, 120, 250.0),
    ("training_team", CapabilityDomain.LAND, 50, 40.0),
    ("hq_bde", CapabilityDomain.JOINT, 250, 350.0),
    ("isr_det", CapabilityDomain.AIR, 60, 120.0),
    ("ftr_sqn", CapabilityDomain.AIR, 250, 1200.0),
    ("cbrn_coy", CapabilityDomain.LAND, 100, 200.0),
    ("mcm_group", CapabilityDomain.MARITIME, 200, 800.0),
    ("airlift_det", CapabilityDomain.AIR, 80, 300.0),
)

LINES_PER_UNITS = 4
_LAT = (45.6, 51.6)
_LON = (23.0, 35.0)


def _code(i: int) -> str:
    return "Q" + chr(ord("A") + i // 26) + chr(ord("A") + i % 26)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def generate(size: str, seed: int = 0) -> Scenario:
    """A synthetic scenario of the given size ('S', 'M' or 'L')."""
    sz = SIZES[size.upper()]
    rng = np.random.default_rng([seed, ord(sz.name)])
    horizon = sz.weeks * 7
    syn = "SYNTHETIC (coalition scenario generator)"

    caps = tuple(
        Capability(
            code=c,
            name=c.replace("_", " "),
            domain=d,
            personnel=p,
            tonnage=t,
            evidence=Evidence.ILLUSTRATIVE,
            source=syn,
        )
        for c, d, p, t in CATALOGUE
    )
    n_caps = len(caps)
    cap_weight = rng.uniform(0.5, 2.0, n_caps)
    cap_weight /= cap_weight.sum()

    # regions are longitude bands; hubs spread over them
    bands = np.linspace(_LON[0], _LON[1], sz.regions + 1)
    hubs: list[Hub] = []
    for i in range(sz.hubs):
        r = i % sz.regions
        lon = float(rng.uniform(bands[r], bands[r + 1]))
        lat = float(rng.uniform(*_LAT))
        hubs.append(
            Hub(
                id=f"H{i + 1:03d}",
                name=f"Hub {i + 1}",
                country="UKR",
                region=f"R{r + 1:02d}",
                kind=HubKind.LOGISTICS,
                lat=round(lat, 4),
                lon=round(lon, 4),
                personnel_capacity=0,
                host_nation="UKR",
                source=syn,
            )
        )
    rears = [
        RearNode(
            id=f"RN{i + 1:02d}",
            name=f"Rear node {i + 1}",
            country=("POL", "ROU", "SVK", "HUN")[i % 4],
            kind=RearNodeKind.RAIL,
            lat=round(float(rng.uniform(46.0, 51.5)), 4),
            lon=round(float(rng.uniform(19.0, 22.5)), 4),
            source=syn,
        )
        for i in range(sz.rear_nodes)
    ]
    corridors: list[Corridor] = []
    for h in hubs:
        d = sorted((_km(r.lat, r.lon, h.lat, h.lon), r.id) for r in rears)
        k = 1 if rng.random() < 0.4 else 2
        for dist, rid in d[:k]:
            corridors.append(
                Corridor(
                    id=f"C-{rid}-{h.id}",
                    rear_node=rid,
                    hub=h.id,
                    mode=CorridorMode.RAIL if rng.random() < 0.6 else CorridorMode.ROAD,
                    personnel_per_day=int(rng.integers(150, 1200)),
                    tonnage_per_day=float(rng.integers(400, 4000)),
                    transit_days=int(1 + dist // 350),
                    distance_km=round(dist, 1),
                    source=syn,
                )
            )

    nations = [
        Nation(
            code=_code(i),
            name=f"Synthetic nation {i + 1}",
            groups=("synthetic",),
            role=CoalitionRole.LEAD if i < max(1, sz.nations // 10) else CoalitionRole.CONTRIBUTOR,
            source=syn,
        )
        for i in range(sz.nations)
    ]
    host = Nation(
        code="UKR", name="Ukraine", role=CoalitionRole.HOST, position="host nation of every synthetic hub", source=syn
    )
    # nations' shares of units: a few large contributors
    share = rng.pareto(1.5, sz.nations) + 0.3
    share /= share.sum()
    units_left = sz.units
    nation_units = np.maximum(1, np.floor(share * sz.units)).astype(int)
    nation_units[0] += sz.units - nation_units.sum()  # exact total
    if nation_units[0] < 1:
        nation_units = np.full(sz.nations, sz.units // sz.nations)
        nation_units[0] += sz.units - nation_units.sum()
    del units_left

    pledges: list[Pledge] = []
    regions = sorted({h.region for h in hubs})
    for ni, nat in enumerate(nations):
        left = int(nation_units[ni])
        k = 0
        home_caps = rng.choice(n_caps, size=min(n_caps, 3 + ni % 4), replace=False, p=cap_weight)
        # a nation's sector: a block of neighbouring regions (caveats sort units by region, as
        # in ISAF), and a home rear node
        width = max(1, -(-len(regions) // 4))
        first = int(rng.integers(0, len(regions)))
        sector = tuple(sorted(regions[(first + i) % len(regions)] for i in range(width)))
        home_rear = rears[int(rng.integers(0, len(rears)))].id
        sector_share = 0.3 if len(regions) < 4 else 0.6
        while left > 0:
            k += 1
            take = min(left, int(rng.integers(1, 7)))
            left -= take
            ci = int(home_caps[(k - 1) % len(home_caps)])
            cap = caps[ci]
            tour = int(rng.choice([119, 182, 182, 364]))
            cav = Caveats()
            roll = rng.random()
            if roll < sector_share:
                cav = Caveats(allowed_regions=sector)
            elif roll < sector_share + 0.15:
                cav = Caveats(min_distance_km=float(rng.choice([100, 200, 300])))
            pledges.append(
                Pledge(
                    id=f"{nat.code}-{k:02d}",
                    nation=nat.code,
                    capability=cap.code,
                    units=take,
                    personnel_per_unit=int(cap.personnel * rng.uniform(0.85, 1.15)),
                    readiness_level=int(rng.integers(1, 5)),
                    notice_days=int(rng.choice([7, 14, 30, 30, 60, 90])),
                    tour_days=tour,
                    recovery_days=int(tour * rng.choice([1, 2, 2, 3])),
                    sustainable_rotations=None if rng.random() < 0.5 else int(rng.integers(1, 4)),
                    caveats=cav,
                    condition="ceasefire",
                    rear_node=None if rng.random() < 0.1 else home_rear,
                    lead=ni < max(1, sz.nations // 10),
                    source=syn,
                )
            )

    # hub capacity ~ what its lines need, with head room that varies
    reqs: list[Requirement] = []
    n_lines = max(4, sz.units // LINES_PER_UNITS)
    hub_need = np.zeros(sz.hubs)
    for i in range(n_lines):
        ci = int(rng.choice(n_caps, p=cap_weight))
        cap = caps[ci]
        qty = int(rng.choice([1, 1, 1, 2, 2, 3]))
        start = int(rng.choice([0, 0, 14, 30, 60, 90, 120]))
        start = min(start, horizon // 2)
        end = horizon - 1 if rng.random() < 0.7 else int(rng.integers(start + 56, horizon + 56))
        end = min(end, horizon - 1)
        pr = rng.choice([Priority.ESSENTIAL, Priority.IMPORTANT, Priority.IMPORTANT, Priority.DESIRABLE])
        if rng.random() < 0.15:
            region = str(rng.choice(regions))
            place: _Place = {"region": region}
            for hi, h in enumerate(hubs):
                if h.region == region:
                    hub_need[hi] += qty * cap.personnel / max(1, sum(x.region == region for x in hubs))
        else:
            hi = int(rng.integers(0, sz.hubs))
            place = {"hub": hubs[hi].id}
            hub_need[hi] += qty * cap.personnel
        reqs.append(
            Requirement(
                id=f"L{i + 1:04d}",
                option="gen",
                capability=cap.code,
                quantity=qty,
                start_day=start,
                end_day=end,
                priority=pr,
                max_notice_days=int(rng.choice([60, 90, 90, 120])),
                source=syn,
                **place,
            )
        )
    hubs = [
        h.model_copy(update={"personnel_capacity": int(max(300, hub_need[i] * rng.uniform(0.7, 1.5)))})
        for i, h in enumerate(hubs)
    ]
    c_day = "2026-06-01"
    from datetime import date

    return Scenario(
        id=f"synthetic-{sz.name.lower()}-{seed}",
        name=f"Synthetic {sz.name} (seed {seed})",
        description=f"{syn}: {sz.nations} nations, {sz.units} units, {sz.hubs} hubs, {sz.weeks} weeks. Not real data.",
        illustrative=True,
        horizon_days=horizon,
        nations=tuple(nations) + (host,),
        conditions=(ConditionDef(name="ceasefire", description="synthetic ceasefire", source=syn),),
        timeline=(Event(on=date.fromisoformat(c_day), condition="ceasefire", value=True, source=syn),),
        capabilities=caps,
        force_options=(ForceOption(id="gen", name="Generated option", source=syn),),
        requirements=tuple(reqs),
        pledges=tuple(pledges),
        hubs=tuple(hubs),
        rear_nodes=tuple(rears),
        corridors=tuple(corridors),
        contact_line=ContactLine(
            points=(
                Point(lat=51.5, lon=37.2),
                Point(lat=49.0, lon=37.8),
                Point(lat=47.0, lon=36.0),
                Point(lat=46.4, lon=33.0),
            ),
            buffer_km=20,
            source=syn,
        ),
    )
